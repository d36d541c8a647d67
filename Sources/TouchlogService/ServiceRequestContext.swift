import Hummingbird
import NIOCore

/// The request context of the service: Hummingbird's core storage, and the peer's address for the
/// read-access log.
public struct ServiceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// `host:port` of the client.
    public let remoteAddress: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        if let address = source.channel.remoteAddress, let ip = address.ipAddress {
            remoteAddress = "\(ip):\(address.port ?? 0)"
        } else {
            remoteAddress = "unknown"
        }
    }
}
