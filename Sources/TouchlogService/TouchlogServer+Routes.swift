import CloudEvents
import Foundation
import HTTPTypes
import Hummingbird
import LMDB
import NIOCore
import TouchlogDomain
import TouchlogStore

extension HTTPField.Name {
    static let expectedVersion = HTTPField.Name("Touchlog-Expected-Version")!
    static let currentVersion = HTTPField.Name("Touchlog-Current-Version")!
    static let projectionPosition = HTTPField.Name("Touchlog-Projection-Position")!
    static let logPosition = HTTPField.Name("Touchlog-Log-Position")!
    static let ceSpecVersion = HTTPField.Name("ce-specversion")!
}

extension TouchlogServer {
    typealias Context = ServiceRequestContext

    func addRoutes(_ router: Router<Context>) {
        router.post("v1/events") { request, context in
            await self.answer { try await self.postEvents(request, context) }
        }
        router.get("v1/limits") { _, _ in await self.answer { self.limits() } }
        router.get("v1/health") { _, _ in await self.answer { try self.health() } }
        router.get("metrics") { _, _ in
            await self.answer {
                Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                    body: .init(byteBuffer: ByteBuffer(string: self.metrics.prometheusText())))
            }
        }
        router.get("v1/customers/:id/events") { request, context in
            await self.answer { try await self.customerEvents(request, context) }
        }
        router.get("v1/audit") { request, context in
            await self.answer { try await self.audit(request, context) }
        }
        router.get("v1/access") { request, context in
            await self.answer { try self.accessLog(request, context) }
        }
        router.get("v1/events") { request, context in
            await self.answer { try self.events(request, context) }
        }
        router.get("v1/events/stream") { request, context in
            await self.answer { try self.stream(request, context) }
        }
        router.get("v1/tickets/:id") { request, context in
            await self.answer { try await self.view(request, context, "ticket", \.ticket, ndjson: false) }
        }
        router.get("v1/customers/:id/loyalty") { request, context in
            await self.answer { try await self.view(request, context, "customer", \.loyalty, ndjson: false) }
        }
        router.get("v1/reps/:id/timeline") { request, context in
            await self.answer { try await self.view(request, context, "rep", \.repTimeline, ndjson: true) }
        }
        router.get("v1/reps/:id/stats") { request, context in
            await self.answer { try await self.view(request, context, "rep", \.repStats, ndjson: false) }
        }
    }

    /// Runs a handler; a `Problem` becomes its problem+json answer, any other error a 500. Counts the status.
    func answer(_ handler: () async throws -> Response) async -> Response {
        var response: Response
        do {
            response = try await handler()
        } catch let problem as Problem {
            response = Self.response(problem)
        } catch {
            logger.error("request failed", metadata: ["error": "\(error)"])
            response = Self.response(
                Problem(status: 500, title: "internal error", detail: "the request failed: \(error)"))
        }
        metrics.recordResponse(status: response.status.code)
        return response
    }

    static func response(_ problem: Problem) -> Response {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        for (name, value) in problem.headers { headers[HTTPField.Name(name)!] = value }
        if problem.status == 401 { headers[.wwwAuthenticate] = "Bearer" }
        if problem.status == 408 || problem.status == 413 { headers[.connection] = "close" }
        return Response(
            status: .init(code: problem.status), headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: problem.json)))
    }

    static func json(_ status: HTTPResponse.Status, _ bytes: [UInt8], type: String = "application/json")
        -> Response
    {
        Response(
            status: status, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: Auth

    /// The name of the caller, when it may act in `role`.
    /// - Throws: `Problem` 401 without a known bearer token, 403 when the token lacks the role.
    func authorize(_ request: Request, _ role: Role) throws(Problem) -> String {
        guard let tokens = configuration.tokens else { return "anonymous" }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw Problem(
                status: 401, title: "unauthorized",
                detail: "send 'Authorization: Bearer TOKEN' (touchlog token add)")
        }
        guard let entry = tokens.entry(for: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
        else {
            throw Problem(status: 401, title: "unauthorized", detail: "the bearer token is not known")
        }
        guard entry.role == role || entry.role == .admin else {
            throw Problem(
                status: 403, title: "forbidden",
                detail:
                    "the token '\(entry.name)' has the role \(entry.role.rawValue); this needs \(role.rawValue)"
            )
        }
        return entry.name
    }

    // MARK: Ingest

    /// Reads the whole body, at most `limit` bytes, within the body timeout: only then does the
    /// request go to the writer.
    func readBody(_ request: Request, limit: Int) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw tooLarge(limit)
        }
        let timeout = configuration.bodyTimeout
        return try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            group.addTask {
                var bytes: [UInt8] = []
                for try await buffer in request.body {
                    guard bytes.count + buffer.readableBytes <= limit else { throw self.tooLarge(limit) }
                    bytes += buffer.readableBytesView
                }
                return bytes
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            guard let first else {
                throw Problem(
                    status: 408, title: "request timeout",
                    detail: "the request body did not arrive within \(timeout.components.seconds) s")
            }
            return first
        }
    }

    func tooLarge(_ limit: Int) -> Problem {
        Problem(
            status: 413, title: "content too large",
            detail: "the body is larger than \(limit) bytes, the limit of this mode (GET /v1/limits)")
    }

    func postEvents(_ request: Request, _ context: Context) async throws -> Response {
        _ = try authorize(request, .ingest)
        let contentType = request.headers[.contentType]
        let mode = try ContentMode.of(
            contentType: contentType, hasSpecVersionHeader: request.headers[.ceSpecVersion] != nil)
        var expected: UInt64?
        if let text = request.headers[.expectedVersion] {
            guard let value = UInt64(text.trimmingCharacters(in: .whitespaces)) else {
                throw Problem.badRequest("Touchlog-Expected-Version must be a whole number, not '\(text)'")
            }
            guard mode != .batch else {
                throw Problem.badRequest(
                    "Touchlog-Expected-Version applies to one event: send it in structured or binary mode")
            }
            expected = value
        }
        let limits = configuration.ingestLimits
        let body = try await readBody(
            request, limit: mode == .batch ? limits.maxBatchBytes : limits.maxEventBytes)
        let requests: [AppendRequest]
        switch mode {
        case .structured:
            requests = try IncomingEvents.structured(body, expectedVersion: expected)
        case .binary:
            requests = try IncomingEvents.binary(
                headers: request.headers.map { ($0.name.rawName, $0.value) }, contentType: contentType,
                body: body,
                expectedVersion: expected)
        case .batch:
            requests = try IncomingEvents.batch(body, limits: limits)
        }
        switch await committer.submit(requests, bytes: body.count) {
        case .committed(let acknowledgements):
            let appended = acknowledgements.contains {
                if case .appended = $0.outcome { true } else { false }
            }
            var bytes: [UInt8] = []
            if mode == .batch {
                JSONValue.object([JSONMember(key: "events", value: .array(acknowledgements.map(Self.json)))])
                    .write(into: &bytes)
            } else {
                Self.json(acknowledgements[0]).write(into: &bytes)
            }
            bytes.append(0x0A)
            return Self.json(appended ? .created : .ok, bytes)
        case .queueFull:
            throw Problem.retryLater(
                status: 429, title: "too many requests",
                detail:
                    "the commit queue is full (\(configuration.commitLimits.maxQueuedRequests) requests or \(configuration.commitLimits.maxQueuedBytes >> 20) MiB); nothing was written",
                seconds: configuration.retryAfterSeconds)
        case .draining:
            throw Problem.retryLater(
                status: 503, title: "stopping", detail: "the service is stopping; nothing was written",
                seconds: configuration.retryAfterSeconds)
        case .failed(let error):
            throw problem(for: error)
        }
    }

    /// The answer to a failed commit: 409 for a conflict, 503 for a full disk or map, else 500.
    func problem(for error: any Error) -> Problem {
        guard let error = error as? StoreError else {
            return Problem(status: 500, title: "internal error", detail: "\(error)")
        }
        switch error {
        case .identityConflict:
            return Problem(status: 409, title: "conflict", detail: error.description)
        case .versionConflict(_, _, let actual):
            var problem = Problem(
                status: 409, title: "version conflict", detail: error.description, attribute: "subject")
            problem.headers.append(("Touchlog-Current-Version", String(actual)))
            return problem
        default:
            if error.systemError == .noSpace || error.systemError == .ioError || error.isMapFull {
                return Problem.retryLater(
                    status: 503, title: "storage full", detail: error.description,
                    seconds: configuration.retryAfterSeconds * 10)
            }
            logger.error("commit failed", metadata: ["error": "\(error)"])
            return Problem(status: 500, title: "storage error", detail: error.description)
        }
    }

    static func json(_ acknowledgement: GroupCommitter.Acknowledgement) -> JSONValue {
        var members: [JSONMember] = []
        switch acknowledgement.outcome {
        case .appended(let position, _):
            members.append(JSONMember(key: "outcome", value: .string("appended")))
            members.append(JSONMember(key: "position", value: .number(String(position))))
        case .duplicate(let position):
            members.append(JSONMember(key: "outcome", value: .string("duplicate")))
            members.append(JSONMember(key: "position", value: .number(String(position))))
        case .conflict(let position):
            members.append(JSONMember(key: "outcome", value: .string("conflict")))
            members.append(JSONMember(key: "position", value: .number(String(position))))
        }
        if let version = acknowledgement.version {
            members.append(JSONMember(key: "version", value: .number(String(version))))
        }
        if let hash = acknowledgement.hash {
            members.append(JSONMember(key: "hash", value: .string(hash.description)))
        }
        return .object(members)
    }

    func limits() -> Response {
        let limits = configuration.ingestLimits
        var bytes: [UInt8] = []
        JSONValue.object([
            JSONMember(key: "maxEventBytes", value: .number(String(limits.maxEventBytes))),
            JSONMember(key: "maxBatchBytes", value: .number(String(limits.maxBatchBytes))),
            JSONMember(key: "maxBatchEvents", value: .number(String(limits.maxBatchEvents))),
            JSONMember(
                key: "maxQueuedRequests", value: .number(String(configuration.commitLimits.maxQueuedRequests))
            ),
        ]).write(into: &bytes)
        bytes.append(0x0A)
        return Self.json(.ok, bytes)
    }

    func health() throws -> Response {
        let head = try store.log.head().position
        var bytes: [UInt8] = []
        JSONValue.object([
            JSONMember(key: "status", value: .string("ok")),
            JSONMember(key: "logPosition", value: .number(String(head))),
            JSONMember(key: "projectionPosition", value: .number(String(follower.position()))),
        ]).write(into: &bytes)
        bytes.append(0x0A)
        return Self.json(.ok, bytes)
    }
}

extension StoreError {
    /// The store reached its map size and could not grow (a full disk, or a size limit).
    var isMapFull: Bool {
        guard case .storage(_, let cause) = self else { return false }
        return (cause as? LMDBError) == .mapFull
    }
}
