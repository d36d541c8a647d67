import Foundation
import Synchronization
import Testing
import TouchlogBench
import TouchlogGenerator
import TouchlogStore
import TouchlogTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `touchlog serve`, started for real on a loopback port and spoken to over HTTP.
@Suite struct ServeTests {
    @Test func structuredBinaryAndBatchAppendAndDuplicatesAnswerTheOriginalPosition() throws {
        let workspace = try Workspace()
        let server = try ServedTouchlog(store: workspace.store, errorPath: workspace.path + "/serve.err")
        let client = try server.connect()

        let first = try client.postEvent(contactLine(id: "e-1", customer: "cus-1"))
        #expect(first.status == 201, "\(first.text)")
        #expect(first.object["outcome"] as? String == "appended")
        #expect(first.object["position"] as? Int == 1)
        #expect(first.object["version"] as? Int == 1)
        #expect((first.object["hash"] as? String)?.count == 64)

        let again = try client.postEvent(contactLine(id: "e-1", customer: "cus-1"))
        #expect(again.status == 200)
        #expect(again.object["outcome"] as? String == "duplicate")
        #expect(again.object["position"] as? Int == 1)
        #expect(again.object["hash"] as? String == first.object["hash"] as? String)

        let binary = try client.request(
            "POST", "/v1/events",
            headers: [
                ("ce-specversion", "1.0"), ("ce-id", "b-1"), ("ce-source", "urn%3Atest"),
                ("ce-type", "contact.received"), ("ce-subject", "cus-1"), ("ce-time", "2024-05-01T11:00:00Z"),
                ("ce-channel", "chat"), ("Content-Type", "application/json"),
            ],
            body: Array(#"{"summary":"from headers"}"#.utf8))
        #expect(binary.status == 201, "\(binary.text)")
        #expect(binary.object["version"] as? Int == 2)

        let batch = try client.postBatch([
            contactLine(id: "e-1", customer: "cus-1"), contactLine(id: "e-2", customer: "cus-2"),
        ])
        #expect(batch.status == 201, "\(batch.text)")
        let outcomes = (batch.object["events"] as? [[String: Any]])?.compactMap { $0["outcome"] as? String }
        #expect(outcomes == ["duplicate", "appended"])

        let history = try client.request("GET", "/v1/customers/cus-1/events")
        #expect(history.status == 200)
        let lines = history.text.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.last?.contains(#""source":"urn:test""#) == true)
        #expect(lines.last?.contains(#""data":{"summary":"from headers"}"#) == true)
        let missing = try client.request("GET", "/v1/customers/nobody/events")
        #expect(missing.status == 404)
        #expect(missing.headers["content-type"] == "application/problem+json")

        #expect(server.stop() == 0)
        let log = try workspace.openLog()
        #expect(try log.head().position == 3)
        #expect(try log.position(source: "urn:test", id: "b-1") == 2)
    }

    @Test func conflictsAndExpectedVersionsAreRefusedWithNothingWritten() throws {
        let workspace = try Workspace()
        let server = try ServedTouchlog(store: workspace.store, errorPath: workspace.path + "/serve.err")
        defer { _ = server.stop() }
        let client = try server.connect()
        #expect(try client.postEvent(contactLine(id: "e-1")).status == 201)

        let changed = try client.postEvent(contactLine(id: "e-1", time: "2024-05-01T10:30:00Z"))
        #expect(changed.status == 409)
        #expect(changed.headers["content-type"] == "application/problem+json")
        #expect((changed.object["detail"] as? String)?.contains("already in the log at position 1") == true)

        // A batch is atomic: its good event is not written when another of its events conflicts.
        let batch = try client.postBatch([
            contactLine(id: "e-5", customer: "cus-5"), contactLine(id: "e-1", time: "2024-05-01T10:30:00Z"),
        ])
        #expect(batch.status == 409)
        #expect(try client.request("GET", "/v1/customers/cus-5/events").status == 404)

        let stale = try client.postEvent(
            contactLine(id: "e-2"), headers: [("Touchlog-Expected-Version", "0")])
        #expect(stale.status == 409)
        #expect(stale.headers["touchlog-current-version"] == "1")
        #expect((stale.object["detail"] as? String)?.contains("expected version 0, actual version 1") == true)

        let current = try client.postEvent(
            contactLine(id: "e-2"), headers: [("Touchlog-Expected-Version", "1")])
        #expect(current.status == 201)
        #expect(current.object["version"] as? Int == 2)
    }

    @Test func concurrentRequestsShareCommitsAndAConflictFailsOnlyItsOwnRequest() throws {
        let workspace = try Workspace()
        let server = try ServedTouchlog(store: workspace.store, errorPath: workspace.path + "/serve.err")
        defer { _ = server.stop() }
        #expect(try server.connect().postEvent(contactLine(id: "taken")).status == 201)
        let statuses = Mutex<[String: Int]>([:])
        let failures = Mutex<[String]>([])
        let group = startThreads(16) { client in
            do {
                let connection = try server.connect()
                for n in 0..<20 {
                    let id = "c\(client)-\(n)"
                    // One client sends a conflicting event in the middle of the others.
                    let line =
                        client == 7 && n == 10
                        ? contactLine(id: "taken", time: "2024-05-02T10:00:00Z") : contactLine(id: id)
                    let response = try connection.postEvent(line)
                    statuses.withLock { $0[id] = response.status }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        group.wait()
        #expect(failures.withLock { $0 }.isEmpty)
        let all = statuses.withLock { $0 }
        #expect(all.filter { $0.value == 201 }.count == 319)
        #expect(all["c7-10"] == 409)
        let metrics = try server.connect().request("GET", "/metrics").text
        let commits = metrics.split(separator: "\n").first { $0.hasPrefix("touchlog_commits_total ") }
        let count = commits.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        // Group commit: fewer durable commits than the 321 requests.
        #expect(count > 0 && count < 321, "\(metrics)")
    }

    @Test func aStaleExpectedVersionFailsOnlyItsOwnRequestInAGroup() throws {
        let workspace = try Workspace()
        let server = try ServedTouchlog(store: workspace.store, errorPath: workspace.path + "/serve.err")
        defer { _ = server.stop() }
        let statuses = Mutex<[String: Int]>([:])
        // Each client appends to its own customer with the right expected version; client 5 once sends a
        // stale one. Concurrent requests share commits, and the stale one must fail alone.
        startThreads(16) { client in
            guard let connection = try? server.connect() else { return }
            for n in 0..<15 {
                let id = "v\(client)-\(n)"
                let expected = client == 5 && n == 7 ? 3 : (client == 5 && n > 7 ? n - 1 : n)
                let response = try? connection.postEvent(
                    contactLine(id: id, customer: "cus-v\(client)"),
                    headers: [("Touchlog-Expected-Version", String(expected))])
                statuses.withLock { $0[id] = response?.status ?? 0 }
            }
        }.wait()
        let all = statuses.withLock { $0 }
        #expect(all.count == 240)
        #expect(all["v5-7"] == 409)
        #expect(
            all.filter { $0.key != "v5-7" }.allSatisfy { $0.value == 201 },
            "\(all.filter { $0.value != 201 })")
        #expect(server.stop() == 0)
        #expect(try workspace.openLog().head().position == 239)
    }

    @Test func badRequestsGetProblemsNamingTheAttributeAndRuleLikeTheCLI() throws {
        let workspace = try Workspace()
        let server = try ServedTouchlog(store: workspace.store, errorPath: workspace.path + "/serve.err")
        defer { _ = server.stop() }
        let client = try server.connect()
        let noSubject =
            #"{"specversion":"1.0","id":"x-1","source":"urn:test","type":"contact.received","time":"2024-05-01T10:00:00Z","channel":"email"}"#
        let invalid = try client.postEvent(noSubject)
        #expect(invalid.status == 400)
        #expect(invalid.headers["content-type"] == "application/problem+json")
        #expect(invalid.object["attribute"] as? String == "subject")
        // The same words as `touchlog append` prints for the same event.
        let appended = workspace.run(
            "append", "--type", "contact.received", "--id", "x-1", "--source", "urn:test", "--time",
            "2024-05-01T10:00:00Z", "--channel", "email")
        #expect(appended.exitCode == 65)
        let detail = try #require(invalid.object["detail"] as? String)
        #expect(appended.error.contains(detail), "\(appended.error) vs \(detail)")

        let inBatch = try client.postBatch([contactLine(id: "ok-1"), noSubject])
        #expect(inBatch.status == 400)
        #expect(inBatch.object["index"] as? Int == 1)
        #expect(inBatch.object["attribute"] as? String == "subject")
        #expect(try client.request("GET", "/v1/customers/cus-1/events").status == 404)

        let notJSON = try client.request(
            "POST", "/v1/events", headers: [("Content-Type", "text/plain")], body: Array("hello".utf8))
        #expect(notJSON.status == 415)

        let big = contactLine(id: "big", customer: "cus-1").replacingOccurrences(
            of: "hello big", with: String(repeating: "x", count: 1_100_000))
        let tooLarge = try server.connect().postEvent(big)
        #expect(tooLarge.status == 413)

        let limits = try server.connect().request("GET", "/v1/limits")
        #expect(limits.object["maxBatchEvents"] as? Int == 1_000)
        let tooMany = try server.connect().postBatch((0...1_000).map { contactLine(id: "m-\($0)") })
        #expect(tooMany.status == 413)
        #expect(try server.connect().request("GET", "/v1/health").status == 200)
    }

    @Test func aFullQueueIs429WithRetryAfterAndNothingWritten() throws {
        let workspace = try Workspace()
        let server = try ServedTouchlog(
            store: workspace.store, errorPath: workspace.path + "/serve.err", extra: ["--queue-limit", "1"])
        defer { _ = server.stop() }
        let answers = Mutex<[(id: String, status: Int, retryAfter: String?)]>([])
        let group = startThreads(32) { client in
            guard let connection = try? server.connect() else { return }
            for n in 0..<10 {
                let id = "q\(client)-\(n)"
                guard let response = try? connection.postEvent(contactLine(id: id)) else { return }
                answers.withLock { $0.append((id, response.status, response.headers["retry-after"])) }
            }
        }
        group.wait()
        let all = answers.withLock { $0 }
        #expect(all.count == 320)
        #expect(all.allSatisfy { $0.status == 201 || $0.status == 429 })
        let refused = all.filter { $0.status == 429 }
        #expect(!refused.isEmpty, "32 clients never found the queue of one full")
        #expect(refused.allSatisfy { $0.retryAfter == "1" })
        #expect(server.stop() == 0)
        let log = try workspace.openLog()
        for answer in all {
            #expect(try (log.position(source: "urn:test", id: answer.id) != nil) == (answer.status == 201))
        }
    }

    @Test func aStalledBodyIsCutOffAndHoldsNothing() throws {
        let workspace = try Workspace()
        let server = try ServedTouchlog(
            store: workspace.store, errorPath: workspace.path + "/serve.err", extra: ["--body-timeout", "1"])
        defer { _ = server.stop() }
        // A body announced at 500 bytes of which 20 ever arrive.
        let stalled = try server.connect()
        try stalled.write(
            Array(
                "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/cloudevents+json\r\nContent-Length: 500\r\n\r\n{\"specversion\":\"1.0\""
                    .utf8))
        // Meanwhile other requests are served.
        let started = Date()
        #expect(try server.connect().postEvent(contactLine(id: "quick")).status == 201)
        #expect(Date().timeIntervalSince(started) < 1)
        let answer = try stalled.readResponse()
        #expect(answer.status == 408)
        #expect(try server.connect().postEvent(contactLine(id: "after")).status == 201)
    }

    /// The audit role: `GET /v1/audit` is the store's audit as `audit --json` gives it, for the store or
    /// one customer; `GET /v1/access` is the read-access log; neither is open to the read role.
    @Test func theAuditRoleAuditsTheStoreAndReadsTheAccessLog() throws {
        let workspace = try Workspace()
        let tokens = workspace.path + "/tokens"
        func token(_ role: String, _ name: String) -> String {
            runTouchlog(["token", "add", "--tokens", tokens, "--role", role, "--name", name]).output
                .trimmingCharacters(in: .newlines)
        }
        let (ingest, read, audit) = (
            token("ingest", "desk"), token("read", "analyst"), token("audit", "auditor")
        )
        let server = try ServedTouchlog(
            store: workspace.store, errorPath: workspace.path + "/serve.err", extra: ["--tokens", tokens])
        defer { _ = server.stop() }
        let client = try server.connect()
        for id in ["a-1", "a-2"] {
            #expect(
                try client.postEvent(contactLine(id: id), headers: [("Authorization", "Bearer \(ingest)")])
                    .status
                    == 201)
        }
        #expect(
            try client.request(
                "GET", "/v1/customers/cus-1/events", headers: [("Authorization", "Bearer \(read)")]
            ).status == 200)
        func get(_ path: String, _ token: String) throws -> HTTPConnection.Response {
            try client.request("GET", path, headers: [("Authorization", "Bearer \(token)")])
        }
        for path in ["/v1/audit", "/v1/audit?customer=cus-1"] {
            let answer = try get(path, audit)
            #expect(answer.status == 200, "\(path): \(answer.text)")
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])
            #expect(report["ok"] as? Bool == true, "\(path): \(answer.text)")
            #expect(report["events_checked"] as? Int == 2, "\(path): \(answer.text)")
        }
        #expect(try get("/v1/audit?customer=nobody", audit).status == 404)
        let access = try get("/v1/access?customer=cus-1", audit)
        #expect(access.status == 200)
        let lines = access.text.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("\"who\":\"analyst\""), "\(access.text)")
        #expect(try get("/v1/audit", read).status == 403)
        #expect(try get("/v1/access", read).status == 403)
    }

    @Test func tokensAndRoles() throws {
        let workspace = try Workspace()
        let tokens = workspace.path + "/tokens"
        let added = runTouchlog(["token", "add", "--tokens", tokens, "--role", "ingest", "--name", "desk"])
        #expect(added.exitCode == 0, "\(added.error)")
        let ingestToken = added.output.trimmingCharacters(in: .newlines)
        let reader = runTouchlog(["token", "add", "--tokens", tokens, "--role", "read", "--name", "analyst"])
        let readToken = reader.output.trimmingCharacters(in: .newlines)
        var status = stat()
        #expect(stat(tokens, &status) == 0)
        #expect(status.st_mode & 0o777 == 0o600)
        let file = try String(contentsOfFile: tokens, encoding: .utf8)
        #expect(!file.contains(ingestToken) && !file.contains(readToken))
        #expect(file.contains(" ingest desk\n") && file.contains(" read analyst\n"))

        // A token file others may read is refused.
        #expect(chmod(tokens, 0o644) == 0)
        let loose = workspace.run("serve", "--tokens", tokens, "--listen", "127.0.0.1:0")
        #expect(loose.exitCode == 74)
        #expect(loose.error.contains("chmod 600"), "\(loose.error)")
        #expect(chmod(tokens, 0o600) == 0)

        let server = try ServedTouchlog(
            store: workspace.store, errorPath: workspace.path + "/serve.err", extra: ["--tokens", tokens])
        defer { _ = server.stop() }
        #expect(!server.errorText.contains("OPEN"))
        let client = try server.connect()
        #expect(try client.postEvent(contactLine(id: "t-1")).status == 401)
        #expect(
            try client.postEvent(contactLine(id: "t-1"), headers: [("Authorization", "Bearer nope")]).status
                == 401)
        #expect(
            try client.postEvent(contactLine(id: "t-1"), headers: [("Authorization", "Bearer \(readToken)")])
                .status
                == 403)
        #expect(
            try client.postEvent(
                contactLine(id: "t-1"), headers: [("Authorization", "Bearer \(ingestToken)")]
            )
            .status == 201)
        #expect(
            try client.request(
                "GET", "/v1/customers/cus-1/events", headers: [("Authorization", "Bearer \(ingestToken)")]
            ).status == 403)
        #expect(
            try client.request(
                "GET", "/v1/customers/cus-1/events", headers: [("Authorization", "Bearer \(readToken)")]
            ).status == 200)

        // The read is in the read-access log, with who read, which customer, from where.
        let access = workspace.run("access", "--customer", "cus-1", "--json")
        #expect(access.exitCode == 0, "\(access.error)")
        #expect(access.outputLines.count == 1)
        let entry = try #require(
            try JSONSerialization.jsonObject(with: Data(access.output.utf8)) as? [String: Any])
        #expect(entry["who"] as? String == "analyst")
        #expect(entry["customer"] as? String == "cus-1")
        #expect((entry["from"] as? String)?.hasPrefix("127.0.0.1:") == true)
        #expect(workspace.run("access", "--customer", "cus-2").outputLines.isEmpty)

        let auditor = runTouchlog([
            "token", "add", "--tokens", tokens, "--role", "audit", "--name", "auditor",
        ])
        #expect(auditor.exitCode == 0)
        // The server read its token file at start: a token added later is not known to it.
        #expect(
            try client.request(
                "GET", "/v1/audit?customer=cus-1", headers: [("Authorization", "Bearer \(readToken)")]
            ).status == 403)
    }

    @Test func anOpenServiceListensOnLoopbackOnly() throws {
        let workspace = try Workspace()
        let refused = runTouchlog(["serve", "--store", workspace.store, "--listen", "0.0.0.0:0"])
        #expect(refused.exitCode == 64)
        #expect(refused.error.contains("without --tokens"))
        let server = try ServedTouchlog(store: workspace.store, errorPath: workspace.path + "/serve.err")
        #expect(server.errorText.contains("OPEN"))
        #expect(server.stop() == 0)
    }

    @Test func theStreamCatchesUpThenFollowsLiveAndResumesFromAPosition() throws {
        let workspace = try Workspace()
        let server = try ServedTouchlog(store: workspace.store, errorPath: workspace.path + "/serve.err")
        defer { _ = server.stop() }
        let client = try server.connect()
        for n in 1...3 { #expect(try client.postEvent(contactLine(id: "s-\(n)")).status == 201) }

        let stream = try server.connect()
        try stream.send("GET", "/v1/events/stream?from=2")
        let head = try stream.readHead()
        #expect(head.status == 200)
        var positions: [Int] = []
        func readLines(until count: Int) throws {
            var pending = ""
            while positions.count < count {
                guard let chunk = try stream.nextChunk() else { return }
                pending += String(decoding: chunk, as: UTF8.self)
                while let newline = pending.firstIndex(of: "\n") {
                    let line = pending[..<newline]
                    pending = String(pending[pending.index(after: newline)...])
                    let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                    if object?["type"] as? String == "event", let position = object?["position"] as? Int {
                        positions.append(position)
                    }
                }
            }
        }
        try readLines(until: 2)
        #expect(positions == [2, 3])
        #expect(try client.postEvent(contactLine(id: "s-4")).status == 201)
        try readLines(until: 3)
        #expect(positions == [2, 3, 4])

        let resumed = try server.connect().request("GET", "/v1/events?from=4")
        #expect(resumed.text.split(separator: "\n").count == 1)
        #expect(resumed.headers["touchlog-log-position"] == "4")
    }

    @Test func theStreamSendsHeartbeatsAndDropsAConsumerTooFarBehind() throws {
        let workspace = try Workspace()
        let server = try ServedTouchlog(
            store: workspace.store, errorPath: workspace.path + "/serve.err",
            extra: ["--heartbeat", "1", "--stream-max-lag", "10"])
        defer { _ = server.stop() }
        let client = try server.connect()
        #expect(try client.postEvent(contactLine(id: "h-1")).status == 201)
        let stream = try server.connect()
        try stream.send("GET", "/v1/events/stream?from=1")
        #expect(try stream.readHead().status == 200)
        var lines: [[String: Any]] = []
        var pending = ""
        func next() throws -> [String: Any] {
            while !pending.contains("\n") {
                guard let chunk = try stream.nextChunk() else {
                    throw HTTPConnection.Failure(description: "ended")
                }
                pending += String(decoding: chunk, as: UTF8.self)
            }
            let newline = pending.firstIndex(of: "\n")!
            let line = String(pending[..<newline])
            pending = String(pending[pending.index(after: newline)...])
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            lines.append(object)
            return object
        }
        #expect(try next()["position"] as? Int == 1)
        let beat = try next()
        #expect(beat["type"] as? String == "heartbeat")
        #expect(beat["position"] as? Int == 1)
        // 50 events at once: the live consumer is 50 behind, more than the 10 allowed.
        #expect(try client.postBatch((0..<50).map { contactLine(id: "burst-\($0)") }).status == 201)
        var last = try next()
        while last["type"] as? String == "heartbeat" { last = try next() }
        #expect(last["type"] as? String == "error", "\(last)")
        #expect(last["resume"] as? Int == 2)
        #expect(try stream.nextChunk() == nil)
    }

    @Test func sigtermAnswersTheRequestsInFlightAndExitsZero() throws {
        let workspace = try Workspace()
        let server = try ServedTouchlog(store: workspace.store, errorPath: workspace.path + "/serve.err")
        let answered = Mutex<[String]>([])
        let group = startThreads(8) { client in
            // Connections refused or closed once the server stops are expected: only answers count.
            guard let connection = try? server.connect() else { return }
            for n in 0..<200 {
                let id = "g\(client)-\(n)"
                guard let response = try? connection.postEvent(contactLine(id: id)) else { return }
                if response.status == 201 { answered.withLock { $0.append(id) } }
            }
        }
        usleep(300_000)
        #expect(server.stop() == 0)
        group.wait()
        #expect(server.errorText.contains("stopped"))
        let log = try workspace.openLog()
        let ids = answered.withLock { $0 }
        #expect(!ids.isEmpty)
        for id in ids { #expect(try log.position(source: "urn:test", id: id) != nil, "\(id)") }
    }
}

/// The kill test: SIGKILL while many clients send, then a restart.
@Suite struct ServeKillTests {
    /// One request of the test: its events' ids and what came back (nil: no answer).
    struct Sent: Sendable {
        var ids: [String]
        var lines: [String]
        var status: Int?
    }

    @Test func everyAnsweredEventSurvivesAKillAndRetriesAppendEachEventOnce() throws {
        let workspace = try Workspace()
        let server = try ServedTouchlog(store: workspace.store, errorPath: workspace.path + "/serve.err")
        let sent = Mutex<[Sent]>([])
        let group = startThreads(16) { client in
            // Refused and dropped connections are expected once the server is killed: the request is
            // then recorded without an answer.
            let connection = try? server.connect()
            for n in 0..<400 {
                let ids = client % 4 == 0 ? (0..<3).map { "k\(client)-\(n)-\($0)" } : ["k\(client)-\(n)"]
                let lines = ids.map { contactLine(id: $0, customer: "cus-\(client)") }
                var record = Sent(ids: ids, lines: lines, status: nil)
                if let connection {
                    record.status =
                        ids.count == 1
                        ? (try? connection.postEvent(lines[0]))?.status
                        : (try? connection.postBatch(lines))?.status
                }
                sent.withLock { $0.append(record) }
                if record.status == nil { break }
            }
        }
        // Kill once a good part has been answered, while the clients are still sending.
        let deadline = Date().addingTimeInterval(20)
        while sent.withLock({ $0.count }) < 400 && Date() < deadline { usleep(5_000) }
        server.child.kill()
        group.wait()
        let requests = sent.withLock { $0 }
        let answered = requests.filter { $0.status == 201 || $0.status == 200 }
        #expect(answered.count >= 400)
        #expect(answered.count < 16 * 400, "the kill came after every request was answered")

        let log = try workspace.openLog()
        for request in requests {
            let present = try request.ids.map { try log.position(source: "urn:test", id: $0) != nil }
            if request.status == 201 || request.status == 200 {
                #expect(present.allSatisfy { $0 }, "answered \(request.status!) but missing: \(request.ids)")
            } else {
                // Unanswered or refused: all of it or none of it, never half.
                #expect(Set(present).count == 1, "half there: \(request.ids) \(present)")
            }
        }

        let restarted = try ServedTouchlog(store: workspace.store, errorPath: workspace.path + "/serve2.err")
        let connection = try restarted.connect()
        for request in requests where request.status != 201 && request.status != 200 {
            let response =
                request.ids.count == 1
                ? try connection.postEvent(request.lines[0]) : try connection.postBatch(request.lines)
            #expect(response.status == 201 || response.status == 200, "\(response.text)")
        }
        #expect(restarted.stop() == 0)
        let ids = Set(requests.flatMap(\.ids))
        #expect(try workspace.openLog().head().position == UInt64(ids.count))
        let audit = workspace.run("audit")
        #expect(audit.exitCode == 0, "\(audit.output) \(audit.error)")
    }
}

/// A full disk under the service: 503 with Retry-After, nothing lost, service again once there is room.
@Suite struct ServeDiskFullTests {
    @Test(.enabled(if: canMountTmpfs, "needs to mount a size-limited tmpfs (root)"))
    func aFullDiskIs503AndTheServiceResumesWhenSpaceReturns() throws {
        let workspace = try Workspace()
        let disk = workspace.path + "/disk"
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: false)
        #expect(mount("tmpfs", disk, "tmpfs", 0, "size=3m") == 0)
        defer { umount(disk) }
        let store = disk + "/store"
        let server = try ServedTouchlog(store: store, errorPath: workspace.path + "/serve.err")
        defer { _ = server.stop() }
        let client = try server.connect()
        var acknowledged: [String] = []
        var full: HTTPConnection.Response?
        for batch in 0..<400 {
            let ids = (0..<50).map { "d\(batch)-\($0)" }
            let response = try client.postBatch(ids.map { contactLine(id: $0, customer: "cus-\(batch % 8)") })
            if response.status == 201 {
                acknowledged += ids
            } else {
                full = response
                break
            }
        }
        let refusal = try #require(full, "3 MiB never filled up")
        #expect(refusal.status == 503, "\(refusal.text)")
        #expect(refusal.headers["retry-after"] != nil)
        #expect((refusal.object["detail"] as? String)?.contains("full") == true, "\(refusal.text)")
        #expect(!acknowledged.isEmpty)

        // Room again: the same service appends.
        #expect(mount("tmpfs", disk, "tmpfs", UInt(MS_REMOUNT), "size=64m") == 0)
        let again = try client.postEvent(contactLine(id: "after-the-disk-filled"))
        #expect(again.status == 201, "\(again.text)")
        #expect(server.stop() == 0)
        let log = try TestStore.openLog(at: store)
        for id in acknowledged + ["after-the-disk-filled"] {
            #expect(try log.position(source: "urn:test", id: id) != nil, "\(id)")
        }
        let audit = runTouchlog(["audit", "--store", store])
        #expect(audit.exitCode == 0, "\(audit.output) \(audit.error)")
    }
}

/// The projection reads answer with the same JSON as the command line's `--json`.
@Suite struct ServeReadTests {
    @Test func projectionReadsAreTheCLIsJSONAndSayHowFarTheyReach() throws {
        let workspace = try Workspace()
        let sample = workspace.path + "/sample.jsonl"
        try writeGeneratedLines(GeneratorConfiguration(seed: 7, events: 2_000, customers: 50), to: sample)
        let lines = try String(contentsOfFile: sample, encoding: .utf8).split(separator: "\n").map(
            String.init)
        let server = try ServedTouchlog(store: workspace.store, errorPath: workspace.path + "/serve.err")
        defer { _ = server.stop() }
        let client = try server.connect()
        for start in stride(from: 0, to: lines.count, by: 100) {
            let response = try client.postBatch(Array(lines[start..<min(start + 100, lines.count)]))
            #expect(response.status == 201, "\(response.text)")
        }
        // The projections catch up in the background: wait until they reach the head.
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let health = try client.request("GET", "/v1/health").object
            if let log = health["logPosition"] as? Int, log == lines.count,
                health["projectionPosition"] as? Int == log
            {
                break
            }
            usleep(50_000)
        }
        func first(_ attribute: String) throws -> String {
            let line = try #require(lines.first { $0.contains("\"\(attribute)\":\"") })
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return try #require(object[attribute] as? String)
        }
        let ticket = try first("ticketid")
        let rep = try first("repid")
        let customer = try first("subject")
        let pairs: [(path: String, command: [String])] = [
            ("/v1/tickets/\(ticket)", ["ticket", "show", ticket, "--json"]),
            ("/v1/customers/\(customer)/loyalty", ["loyalty", "show", customer, "--json"]),
            ("/v1/reps/\(rep)/timeline", ["rep", "timeline", rep, "--json"]),
            ("/v1/reps/\(rep)/stats", ["rep", "stats", rep, "--json"]),
        ]
        for (path, command) in pairs {
            let response = try client.request("GET", path)
            #expect(response.status == 200, "\(path): \(response.text)")
            #expect(response.headers["touchlog-projection-position"] == String(lines.count), "\(path)")
            #expect(response.headers["touchlog-log-position"] == String(lines.count), "\(path)")
            let cli = workspace.run(command)
            #expect(cli.exitCode == 0, "\(cli.error)")
            #expect(response.text == cli.output, "\(path)")
        }
        #expect(try client.request("GET", "/v1/tickets/no-such-ticket").status == 404)
        #expect(try client.request("GET", "/v1/reps/no-such-rep/stats").status == 404)

        let history = try client.request("GET", "/v1/customers/\(customer)/events?until=2000-01-01T00:00:00Z")
        #expect(history.status == 200)
        #expect(history.text.isEmpty)
        #expect(try client.request("GET", "/v1/customers/\(customer)/events?until=yesterday").status == 400)
    }
}
