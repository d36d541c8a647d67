import CloudEvents
import Dispatch
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TouchlogDomain
import TouchlogProjections
import TouchlogStore

/// How `touchlog serve` runs.
public struct ServiceConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Nil: no tokens, every request is allowed (loopback only).
    public var tokens: TokenFile?
    public var ingestLimits = IngestLimits()
    public var commitLimits = GroupCommitter.Limits()
    /// A request body must arrive within this time (408 otherwise), so a stalled sender holds nothing.
    public var bodyTimeout: Duration = .seconds(30)
    /// A connection idle this long is closed.
    public var idleTimeout: Duration = .seconds(60)
    /// Heartbeat of the live stream when nothing else is sent.
    public var heartbeat: Duration = .seconds(15)
    /// A live stream consumer this many events behind the head is dropped with an error line.
    public var maxStreamLag: UInt64 = 100_000
    public var retryAfterSeconds = 1
    /// Open connections at most; further ones wait in the listen backlog.
    public var maxConnections = 1_024
    /// HTTPS with this certificate and key; nil: plain HTTP.
    public var tls: TLSFiles?
    public init() {}
}

/// `touchlog serve`: the HTTP front door of one store. One writer (`GroupCommitter`) owns its writes.
public final class TouchlogServer: Sendable {
    let store: Store
    let configuration: ServiceConfiguration
    let views: ReadViews
    let logger: Logger
    public let metrics = ServiceMetrics()
    let committer: GroupCommitter
    let follower: ProjectionFollower
    let hub = StreamHub()
    let access: AccessRecorder

    public init(store: Store, configuration: ServiceConfiguration, views: ReadViews, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.views = views
        self.logger = logger
        let follower = ProjectionFollower(store: store, logger: logger)
        access = AccessRecorder(store: store)
        let hub = hub
        self.follower = follower
        committer = GroupCommitter(store: store, limits: configuration.commitLimits, metrics: metrics) { _ in
            follower.notify()
            hub.wake()
        }
    }

    /// Serves until SIGTERM or SIGINT, then stops gracefully: no new connections or requests, the
    /// requests in flight answered (their group committed), the streams ended, the projections caught up.
    /// `onListening` gets the address bound (the port when 0 was asked).
    public func run(onListening: @escaping @Sendable (String) -> Void) async throws {
        committer.start()
        follower.start()
        access.start()
        let router = Router(context: ServiceRequestContext.self)
        // One structured log line per request at debug level (LOG_LEVEL=debug).
        router.add(middleware: LogRequestsMiddleware(.debug))
        addRoutes(router)
        let http = HTTPServerBuilder.http1(
            configuration: .init(idleTimeout: .nanoseconds(configuration.idleTimeout.nanoseconds)))
        let app = Application(
            router: router,
            server: try configuration.tls.map {
                try .tls(http, tlsConfiguration: try $0.serverConfiguration())
            }
                ?? http,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port),
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                onListening("\(channel.localAddress?.ipAddress ?? "?"):\(port)")
            },
            logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let signals = ShutdownSignals { [hub, logger] in
            logger.info("stopping: no new requests; answering the requests in flight")
            hub.close()
            Task { await group.triggerGracefulShutdown() }
        }
        defer { signals.cancel() }
        do {
            try await group.run()
        } catch {
            committer.stop()
            follower.stop()
            access.stop()
            throw error
        }
        committer.stop()
        follower.stop()
        access.stop()
        logger.info("stopped", metadata: ["commits": "\(metrics.commits)"])
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}

/// SIGTERM and SIGINT, turned into one call of `handler` (later signals are ignored: the stop is under way).
final class ShutdownSignals: @unchecked Sendable {
    // @unchecked Sendable: `sources` is set once in init; DispatchSource is thread-safe.
    private let sources: [any DispatchSourceSignal]

    init(_ handler: @escaping @Sendable () -> Void) {
        let once = OnceFlag()
        sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { if once.take() { handler() } }
            source.resume()
            return source
        }
    }

    func cancel() { for source in sources { source.cancel() } }
}

/// True exactly once.
final class OnceFlag: Sendable {
    private let taken = Mutex(false)
    func take() -> Bool {
        taken.withLock { taken in
            defer { taken = true }
            return !taken
        }
    }
}
