// libFuzzer entry point for the CloudEvents parser: built by Tools/fuzz.sh with -sanitize=fuzzer,address
// together with Sources/CloudEvents. Any input must end in an event or a CloudEventError.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCloudEvent(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let event = try? CloudEvent(json: bytes) {
        var output: [UInt8] = []
        event.writeJSON(into: &output)
        // What we write must parse back to the same event.
        precondition((try? CloudEvent(json: output)) == event, "round trip changed the event")
    }
    _ = try? JSONValue.parse(bytes)
    return 0
}
