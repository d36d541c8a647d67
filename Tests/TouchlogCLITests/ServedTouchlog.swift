import Foundation
import Synchronization
import TouchlogBench
import TouchlogTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A real `touchlog serve` on a free loopback port (`--listen 127.0.0.1:0`), started as a child
/// process; the port is read from its 'listening on' line on standard error.
final class ServedTouchlog: Sendable {
    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    let child: SpawnedTouchlog
    let port: Int
    let errorPath: String

    init(store: String, errorPath: String, extra: [String] = []) throws {
        self.errorPath = errorPath
        child = try SpawnedTouchlog(
            ["serve", "--store", store, "--listen", "127.0.0.1:0"] + extra, errorPath: errorPath)
        let deadline = Date().addingTimeInterval(30)
        while true {
            let text = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            if let range = text.range(of: "touchlog: listening on 127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits), text[range.upperBound...].dropFirst(digits.count).first == "\n" {
                    self.port = port
                    return
                }
            }
            if let status = child.wait(seconds: 0) {
                throw StartFailure(description: "touchlog serve exited with \(status): \(text)")
            }
            if Date() > deadline {
                child.kill()
                throw StartFailure(description: "touchlog serve did not start listening: \(text)")
            }
            usleep(20_000)
        }
    }

    /// A new keep-alive connection to the server.
    func connect() throws -> HTTPConnection { try HTTPConnection(port: port, timeout: 20) }

    /// What the server printed on standard error so far.
    var errorText: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// The exit status once `stop` saw the process end (a second `stop` signals nothing: the pid may
    /// already belong to another process).
    private let ended = Mutex<Int32?>(nil)

    /// SIGTERM, then its exit status (nil if it did not exit within `seconds`).
    func stop(seconds: Double = 20) -> Int32? {
        if let status = ended.withLock({ $0 }) { return status }
        _ = Glibc.kill(child.pid, SIGTERM)
        let status = child.wait(seconds: seconds)
        ended.withLock { $0 = status }
        return status
    }
}

extension HTTPConnection {
    /// POSTs one structured event.
    func postEvent(_ json: String, headers: [(String, String)] = []) throws -> Response {
        try request(
            "POST", "/v1/events", headers: [("Content-Type", "application/cloudevents+json")] + headers,
            body: Array(json.utf8))
    }

    /// POSTs a batch of structured events.
    func postBatch(_ events: [String], headers: [(String, String)] = []) throws -> Response {
        try request(
            "POST", "/v1/events", headers: [("Content-Type", "application/cloudevents-batch+json")] + headers,
            body: Array(("[" + events.joined(separator: ",") + "]").utf8))
    }
}

extension HTTPConnection.Response {
    /// The body as a JSON object.
    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }
}

/// Starts `body(0..<count)` on `count` threads of their own; wait on the group returned for them all.
/// Not GCD's pools (`concurrentPerform`, `global().async`): they run only about as many blocking
/// clients at once as there are cores.
func startThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) -> DispatchGroup {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread {
            body(index)
            group.leave()
        }.start()
    }
    return group
}
