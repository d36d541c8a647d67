import Foundation

/// A small line chart as SVG text, drawn without dependencies: rate (y) against events in the log (x).
public struct SVGChart {
    public var title: String
    public var xLabel = "events in the log (millions)"
    public var yLabel = "events/s"
    public var width = 800.0
    public var height = 420.0

    public init(title: String) { self.title = title }

    /// The chart of `points` (x in events, y in events per second); an empty chart says "no data".
    public func render(_ points: [(x: Double, y: Double)]) -> String {
        let left = 90.0
        let right = 30.0
        let top = 50.0
        let bottom = 60.0
        let plotW = width - left - right
        let plotH = height - top - bottom
        let maxX = max(points.map(\.x).max() ?? 1, 1)
        let maxY = niceCeiling(max(points.map(\.y).max() ?? 1, 1))
        func px(_ x: Double) -> Double { left + x / maxX * plotW }
        func py(_ y: Double) -> Double { top + plotH - y / maxY * plotH }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(width / 2))" y="24" text-anchor="middle" font-size="16">\(escapeXML(title))</text>

            """
        // Horizontal grid and y labels.
        for i in 0...5 {
            let y = maxY * Double(i) / 5
            svg +=
                "<line x1=\"\(f(left))\" y1=\"\(f(py(y)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(py(y)))\" stroke=\"#ddd\"/>\n"
            svg +=
                "<text x=\"\(f(left - 8))\" y=\"\(f(py(y) + 4))\" text-anchor=\"end\">\(groupedDigits(Int(y)))</text>\n"
        }
        // X ticks in millions.
        let ticks = min(10, max(1, Int(maxX / 1_000_000)))
        for i in 0...ticks {
            let x = maxX * Double(i) / Double(ticks)
            svg +=
                "<line x1=\"\(f(px(x)))\" y1=\"\(f(top + plotH))\" x2=\"\(f(px(x)))\" y2=\"\(f(top + plotH + 5))\" stroke=\"#333\"/>\n"
            svg +=
                "<text x=\"\(f(px(x)))\" y=\"\(f(top + plotH + 20))\" text-anchor=\"middle\">\(String(format: "%.1f", x / 1e6))</text>\n"
        }
        svg +=
            "<line x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(left + plotW))\" y2=\"\(f(top + plotH))\" stroke=\"#333\"/>\n"
        svg +=
            "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotH))\" stroke=\"#333\"/>\n"
        svg +=
            "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 15))\" text-anchor=\"middle\">\(escapeXML(xLabel))</text>\n"
        svg +=
            "<text x=\"20\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 20 \(f(top + plotH / 2)))\">\(escapeXML(yLabel))</text>\n"
        if points.isEmpty {
            svg +=
                "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\">no data</text>\n"
        } else {
            let path = points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            for p in points {
                svg += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3\" fill=\"#1f77b4\"/>\n"
            }
        }
        svg += "</svg>\n"
        return svg
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }

    private func niceCeiling(_ v: Double) -> Double {
        let magnitude = pow(10, floor(log10(v)))
        for m in [1.0, 2, 2.5, 5, 10] where m * magnitude >= v { return m * magnitude }
        return 10 * magnitude
    }

}

/// `text` with the characters XML gives a meaning escaped.
func escapeXML(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;")
}

/// `value` with a comma between groups of three digits: 1,234,567.
func groupedDigits(_ value: Int) -> String {
    let digits = Array(String(value))
    var out = ""
    for (i, d) in digits.enumerated() {
        if i > 0 && d != "-" && (digits.count - i) % 3 == 0 && digits[i - 1] != "-" { out.append(",") }
        out.append(d)
    }
    return out
}

/// Horizontal bars on a logarithmic scale, grouped: per phase the engine beside its baseline and peers,
/// each bar the median with a line from the minimum to the maximum. Drawn without dependencies.
public struct SVGBarChart {
    /// One bar: a label, the median and spread of events per second.
    public struct Bar: Sendable, Equatable {
        public var label: String
        public var spread: Spread
        /// The engine's bar is drawn in the accent colour.
        public var isEngine: Bool
    }

    public var title: String
    public var width = 900.0

    public init(title: String) { self.title = title }

    /// The chart of `groups` (a title and its bars each); an empty chart says "no data".
    public func render(_ groups: [(title: String, bars: [Bar])]) -> String {
        let left = 290.0
        let right = 90.0
        let top = 50.0
        let barHeight = 18.0
        let groupGap = 26.0
        let rows = groups.reduce(0) { $0 + $1.bars.count }
        let plotH = Double(rows) * barHeight + Double(groups.count) * groupGap
        let height = top + plotH + 50
        let plotW = width - left - right
        let values = groups.flatMap(\.bars).flatMap { [$0.spread.min, $0.spread.max, $0.spread.median] }
        let lowest = pow(10, floor(log10(max(values.filter { $0 > 0 }.min() ?? 1, 1))))
        let highest = pow(10, ceil(log10(max(values.max() ?? 10, lowest * 10))))
        func px(_ v: Double) -> Double {
            left + (log10(max(v, lowest)) - log10(lowest)) / (log10(highest) - log10(lowest)) * plotW
        }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(width / 2))" y="24" text-anchor="middle" font-size="15">\(escapeXML(title))</text>

            """
        var decade = lowest
        while decade <= highest {
            let x = px(decade)
            svg +=
                "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + plotH))\" stroke=\"#ddd\"/>\n"
            svg +=
                "<text x=\"\(f(x))\" y=\"\(f(top + plotH + 18))\" text-anchor=\"middle\">\(groupedDigits(Int(decade)))</text>\n"
            decade *= 10
        }
        svg +=
            "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 10))\" text-anchor=\"middle\">events/s (log scale; bar = median, line = min to max)</text>\n"
        if rows == 0 {
            svg +=
                "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(top + 20))\" text-anchor=\"middle\">no data</text>\n"
        }
        var y = top
        for group in groups {
            y += groupGap
            svg += "<text x=\"8\" y=\"\(f(y - 8))\" font-weight=\"bold\">\(escapeXML(group.title))</text>\n"
            for bar in group.bars {
                let colour = bar.isEngine ? "#1f77b4" : "#aaaaaa"
                svg +=
                    "<text x=\"\(f(left - 6))\" y=\"\(f(y + barHeight * 0.7))\" text-anchor=\"end\">\(escapeXML(bar.label))</text>\n"
                svg +=
                    "<rect x=\"\(f(left))\" y=\"\(f(y + 2))\" width=\"\(f(px(bar.spread.median) - left))\" height=\"\(f(barHeight - 4))\" fill=\"\(colour)\"/>\n"
                svg +=
                    "<line x1=\"\(f(px(bar.spread.min)))\" y1=\"\(f(y + barHeight / 2))\" x2=\"\(f(px(bar.spread.max)))\" y2=\"\(f(y + barHeight / 2))\" stroke=\"#000\"/>\n"
                svg +=
                    "<text x=\"\(f(px(bar.spread.max) + 6))\" y=\"\(f(y + barHeight * 0.7))\">\(groupedDigits(Int(bar.spread.median.rounded())))</text>\n"
                y += barHeight
            }
        }
        svg += "</svg>\n"
        return svg
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }
}
