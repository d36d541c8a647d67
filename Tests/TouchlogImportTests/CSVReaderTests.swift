import CloudEvents
import Testing
import TouchlogImport

@Suite struct CSVReaderTests {
    /// Reads every record of `text`, with a read buffer of `bufferSize` bytes.
    func records(_ text: String, bufferSize: Int = 1 << 16) throws -> [CSVRecord] {
        var reader = CSVReader(MemoryByteSource(text), bufferSize: bufferSize)
        var out: [CSVRecord] = []
        while let record = try reader.next() { out.append(record) }
        return out
    }

    static let tricky = "a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",,\"\"\nlast,\"x\r\ny\",end"

    // Buffers of 16 and 17 bytes split records, quotes and CRLF pairs at every kind of place.
    @Test(arguments: [16, 17, 64, 1 << 16])
    func quotedFieldsWithCommasQuotesAndLineBreaks(bufferSize: Int) throws {
        let read = try records(Self.tricky, bufferSize: bufferSize)
        #expect(
            read.map(\.fields) == [
                ["a", "b,c", "say \"hi\""],
                ["two\nlines", "", ""],
                ["last", "x\r\ny", "end"],
            ])
        // A record starts on the line of its first byte; quoted line breaks count as lines.
        #expect(read.map(\.line) == [1, 2, 4])
    }

    @Test func blankLinesAreSkippedAndTheLastLineNeedsNoBreak() throws {
        let read = try records("a,b\n\n\r\nc,d")
        #expect(read.map(\.fields) == [["a", "b"], ["c", "d"]])
        #expect(read.map(\.line) == [1, 4])
    }

    @Test func emptyFieldsAndALoneCarriageReturnAreData() throws {
        let read = try records(",,\na\rb,c\n")
        #expect(read.map(\.fields) == [["", "", ""], ["a\rb", "c"]])
    }

    @Test func aQuoteInAnUnquotedFieldIsAnErrorAndReadingGoesOnAtTheNextLine() throws {
        var reader = CSVReader(MemoryByteSource("a,b\nc,d\"e,f\ng,h\n"))
        #expect(try reader.next()?.fields == ["a", "b"])
        do {
            _ = try reader.next()
            Issue.record("a bare quote was accepted")
        } catch {
            #expect(error.line == 2)
            #expect(error.isRecoverable)
            #expect(error.message.contains("field 2"))
        }
        let next = try #require(try reader.next())
        #expect(next.fields == ["g", "h"])
        #expect(next.line == 3)
        #expect(try reader.next() == nil)
    }

    @Test func textAfterAClosingQuoteIsAnError() throws {
        var reader = CSVReader(MemoryByteSource("\"a\"b,c\nd\n"))
        #expect(throws: CSVError.self) { try reader.next() }
        #expect(try reader.next()?.fields == ["d"])
    }

    @Test func anUnclosedQuoteAtTheEndIsReportedWhereTheRecordStarts() throws {
        var reader = CSVReader(MemoryByteSource("a\nb,\"open\nand on\n"))
        #expect(try reader.next()?.fields == ["a"])
        do {
            _ = try reader.next()
            Issue.record("an unclosed quote was accepted")
        } catch {
            #expect(error.line == 2)
            #expect(!error.isRecoverable)
        }
    }

    @Test func aRecordLongerThanTheLimitIsRejected() throws {
        var reader = CSVReader(MemoryByteSource("short\n" + String(repeating: "x", count: 300) + "\nafter\n"))
        reader.maximumRecordBytes = 100
        #expect(try reader.next()?.fields == ["short"])
        #expect(throws: CSVError.self) { try reader.next() }
        let after = try #require(try reader.next())
        #expect(after.fields == ["after"])
        #expect(after.line == 3)
    }

    @Test func invalidUTF8IsSeenFieldByField() throws {
        var bytes = Array("ok,".utf8)
        bytes.append(0xFF)
        bytes.append(0x0A)
        var reader = CSVReader(MemoryByteSource(bytes))
        let record = try #require(try reader.next())
        #expect(record.field(0) == "ok")
        #expect(record.field(1) == nil)
    }

    @Test func aRecordIsWrittenBackAsCSV() throws {
        let record = CSVRecord(line: 1, fields: ["a", "b,c", "say \"hi\"", "two\nlines"])
        #expect(record.csvText == "a,\"b,c\",\"say \"\"hi\"\"\",\"two\nlines\"")
        #expect(try records(record.csvText + "\n").first?.fields == record.fields)
    }
}
