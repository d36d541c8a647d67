import ArgumentParser
import Foundation
import Logging
import Synchronization
import TouchlogAudit
import TouchlogProjections
import TouchlogService
import TouchlogStore

/// `touchlog serve`: the HTTP service (docs/SERVICE.md).
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the store over HTTP: CloudEvents ingest with group commit, reads, the live stream.",
        discussion: """
            POST /v1/events takes CloudEvents (structured, binary or batch); concurrent requests are \
            committed together, durably, before they are answered. Without --tokens every request is \
            allowed, so the service then listens on loopback only. It prints 'listening on HOST:PORT' on \
            standard error once it accepts connections (--listen 127.0.0.1:0 picks a free port). SIGTERM or \
            SIGINT stops it gracefully: the requests in flight are committed and answered, then exit 0. \
            With --tls-cert and --tls-key (PEM files; the key owner-only) it serves HTTPS. See docs/SERVICE.md.
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: ArgumentHelp("Address and port to listen on.", valueName: "host:port"))
    var listen = "127.0.0.1:8080"
    @Option(
        help: ArgumentHelp(
            "The token file ('touchlog token add'); without it the service is open (loopback only).",
            valueName: "file"))
    var tokens: String?
    @Option(help: ArgumentHelp("Serve HTTPS with this certificate chain (PEM).", valueName: "file"))
    var tlsCert: String?
    @Option(help: ArgumentHelp("The private key of --tls-cert (PEM, mode 0600).", valueName: "file"))
    var tlsKey: String?
    @Option(help: ArgumentHelp("Requests waiting for the writer at most (then 429).", valueName: "n"))
    var queueLimit = 4_096
    @Option(help: ArgumentHelp("Events of one group commit at most.", valueName: "n"))
    var groupEvents = 10_000
    @Option(
        help: ArgumentHelp("Seconds a request body may take to arrive (then 408).", valueName: "seconds"))
    var bodyTimeout = 30
    @Option(
        help: ArgumentHelp(
            "Seconds without events after which a live stream sends a heartbeat line.", valueName: "seconds"))
    var heartbeat = 15
    @Option(
        help: ArgumentHelp(
            "Events a live stream consumer may fall behind the log before it is dropped.", valueName: "n"))
    var streamMaxLag: UInt64 = 100_000

    func validate() throws {
        let (host, _) = try Self.hostAndPort(listen)
        if tokens == nil && !Self.isLoopback(host) {
            throw ValidationError(
                "refusing to listen on '\(host)' without --tokens: an open service listens on loopback only")
        }
        if (tlsCert == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        if queueLimit < 1 { throw ValidationError("--queue-limit must be at least 1") }
        if groupEvents < 1 { throw ValidationError("--group-events must be at least 1") }
        if bodyTimeout < 1 { throw ValidationError("--body-timeout must be at least 1") }
        if !(1...29).contains(heartbeat) { throw ValidationError("--heartbeat must be from 1 to 29 seconds") }
        if streamMaxLag < 1 { throw ValidationError("--stream-max-lag must be at least 1") }
    }

    static func hostAndPort(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port), colon != text.startIndex
        else {
            throw ValidationError("--listen must be HOST:PORT (e.g. 127.0.0.1:8080), not '\(text)'")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    func run() throws {
        let (host, port) = try Self.hostAndPort(listen)
        var configuration = ServiceConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.commitLimits.maxQueuedRequests = queueLimit
        configuration.commitLimits.maxGroupEvents = groupEvents
        configuration.bodyTimeout = .seconds(bodyTimeout)
        configuration.heartbeat = .seconds(heartbeat)
        configuration.maxStreamLag = streamMaxLag
        if let tokens {
            configuration.tokens = try reportingFailures {
                do {
                    return try TokenFile(path: tokens)
                } catch {
                    throw CommandFailure("\(error)", exitCode: ExitStatus.ioError)
                }
            }
        } else {
            Console.current.message(
                "touchlog: warning: no --tokens: the service is OPEN to every local user and process (loopback only)"
            )
        }
        if let tlsCert, let tlsKey {
            let files = TLSFiles(certificatePath: tlsCert, keyPath: tlsKey)
            // Read now, so that a bad file is an error before the store opens.
            try reportingFailures {
                do { _ = try files.serverConfiguration() } catch {
                    throw CommandFailure("\(error)", exitCode: ExitStatus.ioError)
                }
            }
            configuration.tls = files
        }
        var logger = Logger(label: "touchlog.serve")
        if let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        {
            logger.logLevel = level
        }
        try storeOptions.withStore(.writing) { store in
            let server = TouchlogServer(
                store: store, configuration: configuration, views: Self.views, logger: logger)
            let failure = Mutex<(any Error)?>(nil)
            let done = DispatchSemaphore(value: 0)
            Task {
                do {
                    try await server.run { address in
                        Console.current.message("touchlog: listening on \(address)")
                    }
                } catch {
                    failure.withLock { $0 = error }
                }
                done.signal()
            }
            done.wait()
            if let error = failure.withLock({ $0 }) {
                throw CommandFailure("the service failed: \(error)", exitCode: ExitStatus.ioError)
            }
        }
    }

    /// The projection reads of the service, through the same JSON writers as `--json` here.
    static let views = ReadViews(
        ticket: { store, id in
            try ProjectionStore(store: store).ticket(id).map { Array((TicketJSON.line($0) + "\n").utf8) }
        },
        loyalty: { store, id in
            try ProjectionStore(store: store).loyalty(id).map {
                Array((try jsonLine(LoyaltyJSON($0)) + "\n").utf8)
            }
        },
        repTimeline: { store, id in
            let entries = try ProjectionStore(store: store).repTimeline(id)
            if entries.isEmpty { return nil }
            return Array(
                try entries.map { try jsonLine(RepTimelineCommand.EntryJSON($0)) + "\n" }.joined().utf8)
        },
        repStats: { store, id in
            let projections = try ProjectionStore(store: store)
            if try projections.repTimeline(id).isEmpty { return nil }
            let stats = try projections.repStats(id)
            return Array((try jsonLine(RepStatsCommand.StatsJSON(stats, from: nil, to: nil)) + "\n").utf8)
        },
        audit: { store, customer in
            if let customer, try store.log.version(ofCustomer: customer) == 0 { return nil }
            let report = try Auditor(store: store).audit(customer: customer)
            return Array((try jsonLine(report) + "\n").utf8)
        })
}

/// `touchlog token`: the service's bearer tokens.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Manage the service's bearer tokens.",
        subcommands: [TokenAddCommand.self])
}

struct TokenAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a token with a role to a token file and print it (the only time it is shown).",
        discussion: """
            The file is created owner-only (0600) and holds only each token's SHA-256, its role and name. \
            Roles: ingest (POST /v1/events), read (the reads and the stream), audit (GET /v1/audit), admin \
            (everything).
            """)

    @Option(help: ArgumentHelp("The token file.", valueName: "file"))
    var tokens: String
    @Option(help: "ingest, read, audit or admin.", completion: .list(Role.allCases.map(\.rawValue)))
    var role: String
    @Option(help: "A name for the token, shown in the read-access log (default: ROLE-N).")
    var name: String?

    func run() throws {
        guard let role = Role(rawValue: role) else {
            throw ValidationError(
                "--role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", ")), not '\(self.role)'"
            )
        }
        let existing = FileManager.default.fileExists(atPath: tokens) ? (try? TokenFile(path: tokens)) : nil
        let chosen = name ?? "\(role.rawValue)-\((existing?.entries.count ?? 0) + 1)"
        let token = try reportingFailures {
            do {
                return try TokenFile.addToken(path: tokens, role: role, name: chosen)
            } catch {
                throw CommandFailure("\(error)", exitCode: ExitStatus.ioError)
            }
        }
        Console.current.exactLine(token)
        Console.current.message("touchlog: added token '\(chosen)' (\(role.rawValue)) to \(tokens)")
    }
}
