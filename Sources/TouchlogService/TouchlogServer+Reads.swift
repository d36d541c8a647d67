import CloudEvents
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TouchlogStore

extension TouchlogServer {
    /// `GET /v1/customers/{id}/events`: the customer's stream as NDJSON, cut like `replay`'s
    /// `--until` (event time) and `--as-known-at` (recorded time). 404 for a customer with no events.
    func customerEvents(_ request: Request, _ context: Context) async throws -> Response {
        let who = try authorize(request, .read)
        let customer = try context.parameters.require("id")
        let until = try time(request, "until")
        let knownAt = try time(request, "asKnownAt")
        try await recordRead(of: customer, by: who, request, context)
        let stream = try store.log.stream(ofCustomer: customer)
        if stream.isEmpty {
            throw Problem(status: 404, title: "not found", detail: "no customer '\(customer)' in the store")
        }
        var bytes: [UInt8] = []
        for stored in stream
        where (until.map { stored.occurredAt <= $0 } ?? true)
            && (knownAt.map { stored.recordedAt <= $0 } ?? true)
        {
            stored.writeJSON(into: &bytes)
            bytes.append(0x0A)
        }
        var response = Self.json(.ok, bytes, type: "application/x-ndjson")
        response.headers[.logPosition] = String(try store.log.head().position)
        return response
    }

    /// Records the read in the read-access log, durably, before anything of the customer is answered.
    /// - Throws: `Problem` 503 when it cannot be recorded (then nothing is answered).
    func recordRead(of customer: String, by who: String, _ request: Request, _ context: Context) async throws
    {
        let entry = ReadAccessLog.Entry(
            who: who, when: Timestamp.now().rfc3339, customer: customer, from: context.remoteAddress,
            what: request.uri.description)
        if let failure = await access.record(entry) {
            throw Problem.retryLater(
                status: 503, title: "read not recorded",
                detail:
                    "the read could not be recorded in the read-access log, so nothing is answered: \(failure)",
                seconds: configuration.retryAfterSeconds)
        }
    }

    /// `GET /v1/audit[?customer=ID]`: the audit of the store (chain, indexes, tree, sealed content,
    /// projections against a fresh fold), or of one customer's stream, as `touchlog audit --json` prints
    /// it; its `ok` says whether anything is wrong. Audit role. 404 for an unknown customer. The audit
    /// reads the whole store: it runs on a thread of its own, never on one of the few threads that serve
    /// every request.
    func audit(_ request: Request, _ context: Context) async throws -> Response {
        _ = try authorize(request, .audit)
        let customer: String? = request.uri.queryParameters.get("customer").map { String($0) }
        let (store, audit) = (self.store, views.audit)
        let found: [UInt8]? = try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try audit(store, customer) }) }
            thread.name = "touchlog.audit"
            thread.start()
        }
        guard let report = found else {
            throw Problem(
                status: 404, title: "not found", detail: "no customer '\(customer ?? "")' in the store")
        }
        return Self.json(.ok, report)
    }

    /// `GET /v1/access[?customer=ID]`: the read-access log (who read which customer's history, when, from
    /// where), NDJSON, oldest first. Audit role.
    func accessLog(_ request: Request, _ context: Context) throws -> Response {
        _ = try authorize(request, .audit)
        let customer: String? = request.uri.queryParameters.get("customer").map { String($0) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes: [UInt8] = []
        for entry in try ReadAccessLog(store: store).entries(customer: customer) {
            bytes += try encoder.encode(entry)
            bytes.append(0x0A)
        }
        return Self.json(.ok, bytes, type: "application/x-ndjson")
    }

    func time(_ request: Request, _ name: String) throws(Problem) -> Timestamp? {
        guard let text = request.uri.queryParameters.get(name) else { return nil }
        guard let time = Timestamp(rfc3339: text) else {
            throw Problem.badRequest("?\(name)= must be an RFC 3339 time, not '\(text)'")
        }
        return time
    }

    func position(_ request: Request, _ name: String) throws(Problem) -> UInt64 {
        guard let text = request.uri.queryParameters.get(name) else { return 1 }
        guard let value = UInt64(text), value >= 1 else {
            throw Problem.badRequest("?\(name)= must be a position of at least 1, not '\(text)'")
        }
        return value
    }

    /// `GET /v1/events?from=POSITION[&limit=N]`: events of the log in position order, NDJSON, at most
    /// `limit` (default and maximum 10,000); `Touchlog-Log-Position` says where the log ends.
    func events(_ request: Request, _ context: Context) throws -> Response {
        _ = try authorize(request, .read)
        let from = try position(request, "from")
        var limit = 10_000
        if let text = request.uri.queryParameters.get("limit") {
            guard let value = Int(text), value >= 1, value <= 10_000 else {
                throw Problem.badRequest("?limit= must be from 1 to 10000, not '\(text)'")
            }
            limit = value
        }
        var bytes: [UInt8] = []
        var count = 0
        try store.log.forEachEvent(from: from) { stored in
            guard count < limit else { return false }
            stored.writeJSON(into: &bytes)
            bytes.append(0x0A)
            count += 1
            return true
        }
        var response = Self.json(.ok, bytes, type: "application/x-ndjson")
        response.headers[.logPosition] = String(try store.log.head().position)
        return response
    }

    /// `GET /v1/events/stream?from=POSITION`: every event from `from` on (catch-up), then each new one
    /// as it is committed (live), one NDJSON line each, `{"type":"event","position":P,"event":{...}}`;
    /// a heartbeat line when nothing else was sent for a while; an error line before the stream ends
    /// (a consumer too far behind, the service stopping), naming the position to resume from.
    func stream(_ request: Request, _ context: Context) throws -> Response {
        _ = try authorize(request, .read)
        let from = try position(request, "from")
        let body = ResponseBody { [self] writer in
            guard let (id, wakes) = hub.subscribe() else {
                try await writer.write(
                    ByteBuffer(bytes: Self.streamError("the service is stopping", resume: from)))
                try await writer.finish(nil)
                return
            }
            metrics.streamOpened()
            let heartbeat = configuration.heartbeat
            let ticker = Task { [hub] in
                while !Task.isCancelled {
                    try await Task.sleep(for: heartbeat)
                    hub.wake(id)
                }
            }
            defer {
                ticker.cancel()
                hub.unsubscribe(id)
                metrics.streamClosed()
            }
            var next = from
            var live = false
            var lastSent = ContinuousClock.now
            for await _ in wakes {
                // The head is read again before each chunk, so the lag is measured against the log as it is.
                while case let head = try store.log.head().position, next <= head {
                    if live, head - next + 1 > configuration.maxStreamLag {
                        try await writer.write(
                            ByteBuffer(
                                bytes: Self.streamError(
                                    "the consumer is more than \(configuration.maxStreamLag) events behind the log",
                                    resume: next)))
                        try await writer.finish(nil)
                        return
                    }
                    var lines: [UInt8] = []
                    var count = 0
                    try store.log.forEachEvent(from: next) { stored in
                        guard stored.position <= head, count < 1_000, lines.count < 1 << 20 else {
                            return false
                        }
                        lines += Array(#"{"type":"event","position":\#(stored.position),"event":"#.utf8)
                        stored.writeJSON(into: &lines)
                        lines += Array("}\n".utf8)
                        next = stored.position + 1
                        count += 1
                        return true
                    }
                    if count == 0 { break }
                    try await writer.write(ByteBuffer(bytes: lines))
                    lastSent = .now
                }
                live = true
                if ContinuousClock.now - lastSent >= heartbeat * 0.9 {
                    try await writer.write(
                        ByteBuffer(string: #"{"type":"heartbeat","position":\#(next - 1)}"# + "\n"))
                    lastSent = .now
                }
            }
            try await writer.write(
                ByteBuffer(bytes: Self.streamError("the service is stopping", resume: next)))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
    }

    static func streamError(_ message: String, resume: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        JSONValue.object([
            JSONMember(key: "type", value: .string("error")),
            JSONMember(key: "message", value: .string("\(message); resume with ?from=\(resume)")),
            JSONMember(key: "resume", value: .number(String(resume))),
        ]).write(into: &bytes)
        bytes.append(0x0A)
        return bytes
    }

    /// A projection read through the command line's JSON writer, with how far the projections reach.
    func view(
        _ request: Request, _ context: Context, _ noun: String,
        _ writer: KeyPath<ReadViews, @Sendable (Store, String) throws -> [UInt8]?>, ndjson: Bool
    ) async throws -> Response {
        let who = try authorize(request, .read)
        let id = try context.parameters.require("id")
        if noun == "customer" { try await recordRead(of: id, by: who, request, context) }
        guard let bytes = try views[keyPath: writer](store, id) else {
            throw Problem(status: 404, title: "not found", detail: "no \(noun) '\(id)' in the projections")
        }
        var response = Self.json(.ok, bytes, type: ndjson ? "application/x-ndjson" : "application/json")
        response.headers[.projectionPosition] = String(follower.position())
        response.headers[.logPosition] = String(try store.log.head().position)
        return response
    }
}
