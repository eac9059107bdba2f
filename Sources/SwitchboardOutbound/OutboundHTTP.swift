import AsyncHTTPClient
import Dispatch
import Foundation
import NIOCore
import SwitchboardCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one way Switchboard calls an address a tenant set (a CRM account, a PBX's API): the installation's
/// `OutboundPolicy` checked on the URL, then on every address its host resolves to right before the request, and an
/// HTTP client that never follows redirects (a 3xx comes back as an answer, so a redirect cannot lead a secret on).
///
/// The client resolves the name again when it connects; a name whose answers change between the two lookups within
/// milliseconds is the remaining gap.
public struct OutboundHTTP: Sendable {
    public let policy: OutboundPolicy
    let client: HTTPClient
    let resolve: @Sendable (String) async throws -> [IPAddress]

    /// `resolve` turns a host name into its addresses (tests give fixed answers).
    public init(policy: OutboundPolicy, client: HTTPClient = OutboundHTTP.noRedirects,
                resolve: @escaping @Sendable (String) async throws -> [IPAddress] = OutboundHTTP.systemResolve) {
        self.policy = policy
        self.client = client
        self.resolve = resolve
    }

    /// A name that could not be resolved: a network failure, worth another try later (not a policy refusal).
    public struct ResolutionFailed: Error, CustomStringConvertible {
        public let host: String
        public let reason: String
        public var description: String { "\(host) cannot be resolved: \(reason)" }
    }

    /// Checks `url` as the request is about to be sent: throws `OutboundPolicy.Problem` when the policy refuses it,
    /// `ResolutionFailed` when the name does not resolve.
    public func admit(_ url: String) async throws {
        let destination = try policy.check(url)
        guard destination.literal == nil else { return }
        let addresses: [IPAddress]
        do {
            addresses = try await resolve(destination.host)
        } catch let failure as ResolutionFailed {
            throw failure
        } catch {
            throw ResolutionFailed(host: destination.host, reason: "\(error)")
        }
        try policy.check(resolved: addresses, for: destination)
    }

    /// Sends `request` once `admit` accepts its URL.
    public func execute(_ request: HTTPClientRequest, timeout: TimeAmount) async throws -> HTTPClientResponse {
        try await admit(request.url)
        return try await client.execute(request, timeout: timeout)
    }

    /// The client for outbound requests: redirects are answers, never followed.
    public static let noRedirects: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// The system resolver (getaddrinfo), off the cooperative threads: it blocks.
    public static let systemResolve: @Sendable (String) async throws -> [IPAddress] = { host in
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try getaddrinfoAddresses(host) })
            }
        }
    }

    static func getaddrinfoAddresses(_ host: String) throws -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else {
            throw ResolutionFailed(host: host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var next = list
        while let info = next {
            if let sa = info.pointee.ai_addr {
                switch Int32(sa.pointee.sa_family) {
                case AF_INET:
                    sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in
                        var a = p.pointee.sin_addr
                        if let ip = withUnsafeBytes(of: &a, { IPAddress(bytes: Array($0)) }) { addresses.append(ip) }
                    }
                case AF_INET6:
                    sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                        var a = p.pointee.sin6_addr
                        if let ip = withUnsafeBytes(of: &a, { IPAddress(bytes: Array($0)) }) { addresses.append(ip) }
                    }
                default:
                    break
                }
            }
            next = info.pointee.ai_next
        }
        return addresses
    }
}
