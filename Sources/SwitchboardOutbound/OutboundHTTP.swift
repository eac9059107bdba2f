import AsyncHTTPClient
import Dispatch
import Foundation
import NIOCore
import NIOHTTP1
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
    let resolve: @Sendable (String) async throws -> [IPAddress]
    let transport: Transport

    /// What carries an admitted request: the HTTP clients in production, a script or a loud failure in tests. `gzip`
    /// asks for an answer decompressed (CRMs that answer only gzip).
    public typealias Transport = @Sendable (_ request: HTTPClientRequest, _ timeout: TimeAmount, _ gzip: Bool) async throws
        -> HTTPClientResponse

    /// `resolve` turns a host name into its addresses (tests give fixed answers).
    public init(policy: OutboundPolicy, client: HTTPClient = OutboundHTTP.noRedirects,
                resolve: @escaping @Sendable (String) async throws -> [IPAddress] = OutboundHTTP.systemResolve) {
        self.init(policy: policy, resolve: resolve) { request, timeout, gzip in
            try await (gzip ? OutboundHTTP.decompressing : client).execute(request, timeout: timeout)
        }
    }

    /// Requests pass the policy as always, then go to `transport` instead of the network.
    public init(policy: OutboundPolicy, resolve: @escaping @Sendable (String) async throws -> [IPAddress] = OutboundHTTP.systemResolve,
                transport: @escaping Transport) {
        self.policy = policy
        self.resolve = resolve
        self.transport = transport
    }

    /// Host names of the test values below resolve here, so any name passes a policy that allows loopback.
    static let testResolve: @Sendable (String) async throws -> [IPAddress] = { _ in [IPAddress("127.0.0.1")!] }

    /// For tests that must not reach any remote: every request that passes the policy is reported through `report`
    /// (a test records it as a failure) and fails with `UnexpectedRequest`, so a stray call cannot pass unnoticed.
    public static func failing(policy: OutboundPolicy = OutboundPolicy(allowLoopback: true),
                               report: @escaping @Sendable (String) -> Void) -> OutboundHTTP {
        OutboundHTTP(policy: policy, resolve: testResolve) { request, _, _ in
            let what = "\(request.method.rawValue) \(request.url)"
            report("unexpected outbound request: " + what)
            throw UnexpectedRequest(request: what)
        }
    }

    /// For tests of a client's handling of answers: `answer` gives the status, headers and body for each request.
    public static func scripted(policy: OutboundPolicy = OutboundPolicy(allowLoopback: true),
                                _ answer: @escaping @Sendable (HTTPClientRequest) async throws -> (status: Int, headers: [(String, String)], body: String))
        -> OutboundHTTP {
        OutboundHTTP(policy: policy, resolve: testResolve) { request, _, _ in
            let (status, headers, body) = try await answer(request)
            var response = HTTPClientResponse(status: .init(statusCode: status), headers: HTTPHeaders(headers))
            response.body = .bytes(ByteBuffer(string: body))
            return response
        }
    }

    /// A request a test's outbound client did not expect.
    public struct UnexpectedRequest: Error, CustomStringConvertible {
        public let request: String
        public var description: String { "no remote may be called here, yet \(request) was sent" }
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

    /// Sends `request` once `admit` accepts its URL; `gzip` reads a compressed answer.
    public func execute(_ request: HTTPClientRequest, timeout: TimeAmount, gzip: Bool = false) async throws -> HTTPClientResponse {
        try await admit(request.url)
        return try await transport(request, timeout, gzip)
    }

    /// The client for outbound requests: redirects are answers, never followed.
    public static let noRedirects: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// For remotes that answer only gzip: a client that decompresses answers and, like `noRedirects`, never follows a
    /// redirect.
    public static let decompressing: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .enabled(limit: .ratio(200))
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
