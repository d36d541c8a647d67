extension CloudEvent {
    /// Writes the event in the CloudEvents JSON format: compact, one line, no trailing newline.
    ///
    /// Order: specversion, id, source, type, subject, time, datacontenttype, dataschema, the
    /// extensions in order, then `additionalAttributes` in order (the log adds `sequence`,
    /// `recordedtime`, ... this way), then `data` or `data_base64` last. Unset attributes are
    /// left out. `.json` data is written as stored (it is already compact JSON text).
    public func writeJSON(into buffer: inout [UInt8], additionalAttributes: [CloudEventExtension] = []) {
        buffer.append(contentsOf: #"{"specversion":"1.0","id":"#.utf8)
        JSONWriter.writeString(id, into: &buffer)
        writeMember("source", source, into: &buffer)
        writeMember("type", type, into: &buffer)
        if let subject { writeMember("subject", subject, into: &buffer) }
        if let time { writeMember("time", time, into: &buffer) }
        if let datacontenttype { writeMember("datacontenttype", datacontenttype, into: &buffer) }
        if let dataschema { writeMember("dataschema", dataschema, into: &buffer) }
        for e in extensions { writeMember(e.name, e.value, into: &buffer) }
        for e in additionalAttributes { writeMember(e.name, e.value, into: &buffer) }
        switch data {
        case .json(let text)?:
            buffer.append(contentsOf: #","data":"#.utf8)
            buffer.append(contentsOf: text)
        case .base64(let text)?:
            writeMember("data_base64", text, into: &buffer)
        case nil:
            break
        }
        buffer.append(UInt8(ascii: "}"))
    }

    /// The event in the CloudEvents JSON format, as ``writeJSON(into:additionalAttributes:)`` writes it.
    public func jsonBytes(additionalAttributes: [CloudEventExtension] = []) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(256)
        writeJSON(into: &buffer, additionalAttributes: additionalAttributes)
        return buffer
    }

    private func writeMember(_ name: String, _ value: String, into buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: ","))
        JSONWriter.writeString(name, into: &buffer)
        buffer.append(UInt8(ascii: ":"))
        JSONWriter.writeString(value, into: &buffer)
    }

    private func writeMember(_ name: String, _ value: JSONValue, into buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: ","))
        JSONWriter.writeString(name, into: &buffer)
        buffer.append(UInt8(ascii: ":"))
        value.write(into: &buffer)
    }
}
