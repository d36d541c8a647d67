import Foundation

/// Shows progress and a rate on standard error while long work runs, when standard error is a terminal.
///
/// It redraws its line with a carriage return only: no colour, no escape sequence. Colour, where a command
/// uses it (the verdicts of `audit` and `replay`), asks `Console.usesColour`.
final class ProgressMeter {
    private let label: String
    private let unit: String
    private let console = Console.current
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(_ label: String, unit: String = "events") {
        self.label = label
        self.unit = unit
    }

    /// Redraws the line at most four times a second.
    func update(_ count: Int, force: Bool = false) {
        guard console.errorIsTerminal else { return }
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) >= 0.25 else { return }
        lastDraw = now
        drawn = true
        let elapsed = max(now.timeIntervalSince(start), 0.001)
        let rate = Int(Double(count) / elapsed)
        console.status("\r\(label): \(formatCount(count)) \(unit), \(formatCount(rate)) \(unit)/s   ")
    }

    /// Ends the progress line.
    func finish(_ count: Int) {
        guard console.errorIsTerminal else { return }
        update(count, force: true)
        if drawn { console.status("\n") }
    }
}

/// 1234567 -> "1,234,567".
func formatCount(_ value: Int) -> String {
    let digits = Array(String(value.magnitude))
    var out = ""
    for (index, digit) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
        out.append(digit)
    }
    return value < 0 ? "-" + out : out
}

/// Encodes a value as one line of JSON (sorted keys, so output is stable).
func jsonLine<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
