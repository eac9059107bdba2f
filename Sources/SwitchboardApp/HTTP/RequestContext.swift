import Hummingbird
import NIOCore

/// The context of every request Switchboard serves: Hummingbird's basics plus the peer's socket address, which
/// the cabinet's sign-in limit keys on (`ClientAddress` decides when a forwarding header may replace it).
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connected peer; nil when there is no socket (the in-process test client).
    public let remoteAddress: SocketAddress?
    /// Who the bearer token of an `/api/v1` request speaks for, put here by `TenantAuthMiddleware`.
    var tenantAuth: TenantAuth = .notChecked

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
