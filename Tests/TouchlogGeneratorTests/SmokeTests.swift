import Testing
import TouchlogGenerator

@Test func smoke() {
    for line in TouchpointGenerator(GeneratorConfiguration(events: 60, customers: 20)) {
        print(String(decoding: line, as: UTF8.self))
    }
}
