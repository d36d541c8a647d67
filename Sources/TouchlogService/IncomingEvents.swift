import CloudEvents
import Foundation
import TouchlogDomain
import TouchlogStore

/// The body and size limits of `POST /v1/events`, published at `GET /v1/limits`.
public struct IngestLimits: Sendable {
    /// One event (structured or binary body): the CLI's limit for one event.
    public var maxEventBytes = EventInputReader.maximumEventBytes
    /// One batch body.
    public var maxBatchBytes = 8 << 20
    /// Events of one batch.
    public var maxBatchEvents = 1_000
    public init() {}
}

/// The three modes of the CloudEvents HTTP binding, chosen by `Content-Type`.
enum ContentMode: Equatable {
    case structured
    case binary
    case batch

    static let structuredType = "application/cloudevents+json"
    static let batchType = "application/cloudevents-batch+json"

    /// The mode of a request with this `Content-Type` (nil when absent); binary when it carries
    /// `ce-specversion`.
    static func of(contentType: String?, hasSpecVersionHeader: Bool) throws(Problem) -> ContentMode {
        let media = contentType.map(mediaType) ?? ""
        if media == structuredType { return .structured }
        if media == batchType { return .batch }
        if hasSpecVersionHeader { return .binary }
        throw Problem(
            status: 415, title: "unsupported media type",
            detail:
                "Content-Type '\(contentType ?? "")' is not accepted: send \(structuredType), \(batchType), or the event's data with ce-* headers (binary mode)"
        )
    }

    /// The media type without parameters, lower-cased.
    static func mediaType(_ contentType: String) -> String {
        let bare =
            contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return bare.trimmingCharacters(in: .whitespaces).lowercased()
    }
}

/// Turns a request body into validated append requests, with the parser and the touchpoint rules that
/// `ingest` and `append` use: the same rules, the same messages.
enum IncomingEvents {
    /// One event in structured mode.
    static func structured(_ body: [UInt8], expectedVersion: UInt64?) throws(Problem) -> [AppendRequest] {
        do throws(CloudEventError) {
            let parsed = try CloudEvent.parse(json: body)
            return [AppendRequest(try Touchpoint(validating: parsed), expectedVersion: expectedVersion)]
        } catch {
            throw Problem.invalidEvent(error)
        }
    }

    /// One event in binary mode: the attributes from `ce-*` headers (percent-decoded, as the binding
    /// says), the body as `data` (JSON for a JSON content type, else `data_base64`).
    static func binary(
        headers: [(name: String, value: String)], contentType: String?, body: [UInt8],
        expectedVersion: UInt64?
    ) throws(Problem) -> [AppendRequest] {
        var members: [JSONMember] = []
        for (name, value) in headers {
            let lower = name.lowercased()
            guard lower.hasPrefix("ce-"), lower.count > 3 else { continue }
            let attribute = String(lower.dropFirst(3))
            guard attribute != "data", attribute != "data_base64", attribute != "datacontenttype" else {
                throw Problem.badRequest(
                    "header '\(name)' is not allowed in binary mode: the body is the data and Content-Type its type",
                    attribute: attribute)
            }
            if members.contains(where: { $0.key == attribute }) {
                throw Problem.badRequest("header '\(name)' appears twice", attribute: attribute)
            }
            guard let decoded = value.removingPercentEncoding else {
                throw Problem.badRequest(
                    "header '\(name)' is not valid percent-encoded UTF-8", attribute: attribute)
            }
            members.append(JSONMember(key: attribute, value: .string(decoded)))
        }
        if let contentType {
            members.append(JSONMember(key: "datacontenttype", value: .string(contentType)))
        }
        if !body.isEmpty {
            let media = contentType.map(ContentMode.mediaType) ?? "application/json"
            if media == "application/json" || media.hasSuffix("+json") {
                do {
                    members.append(JSONMember(key: "data", value: try JSONValue.parse(body)))
                } catch {
                    throw Problem.badRequest(
                        "the body is not valid JSON: \(error.description)", attribute: "data")
                }
            } else {
                members.append(
                    JSONMember(key: "data_base64", value: .string(Data(body).base64EncodedString())))
            }
        }
        var json: [UInt8] = []
        JSONValue.object(members).write(into: &json)
        return try structured(json, expectedVersion: expectedVersion)
    }

    /// A batch: a JSON array of structured events, split by the ingest reader, each parsed and checked as
    /// `ingest` checks it (`CloudEventSource`). Any invalid event refuses the whole batch (it is atomic).
    static func batch(_ body: [UInt8], limits: IngestLimits) throws(Problem) -> [AppendRequest] {
        guard
            body.first(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) })
                == UInt8(ascii: "[")
        else {
            throw Problem.badRequest("a \(ContentMode.batchType) body must be a JSON array of events")
        }
        var reader = EventInputReader(MemoryByteSource(body))
        var requests: [AppendRequest] = []
        while true {
            let record: EventInputRecord?
            do {
                record = try reader.next()
            } catch {
                throw Problem.badRequest(error.message)
            }
            guard let record else { break }
            if requests.count == limits.maxBatchEvents {
                throw Problem(
                    status: 413, title: "batch too large",
                    detail: "the batch has more than \(limits.maxBatchEvents) events (GET /v1/limits)")
            }
            do throws(CloudEventError) {
                requests.append(
                    AppendRequest(try Touchpoint(validating: CloudEvent.parse(json: record.bytes))))
            } catch {
                throw Problem.invalidEvent(error, index: requests.count)
            }
        }
        if requests.isEmpty { throw Problem.badRequest("the batch is empty") }
        return requests
    }
}
