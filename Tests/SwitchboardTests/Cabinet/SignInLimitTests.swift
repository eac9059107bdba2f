import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardStorage

/// The hashes a cabinet's password checks were made against (real bcrypt underneath).
final class PasswordChecks: @unchecked Sendable {
    private let lock = NSLock()
    private var _hashes: [String] = []

    var hashes: [String] { lock.withLock { _hashes } }

    var check: PasswordCheck {
        PasswordCheck { password, hash in
            self.lock.withLock { self._hashes.append(hash) }
            return Passwords.verify(password, hash: hash)
        }
    }
}

@Suite("Cabinet: sign-in limits per e-mail and per client, counted before the password is checked")
struct SignInLimitTests {
    static let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "sb_login=n"]

    static func attempt(_ client: some TestClientProtocol, _ email: String, _ password: String,
                        forwardedFor: String? = nil) async throws -> HTTPResponse.Status {
        var headers = Self.headers
        if let forwardedFor { headers[.xForwardedFor] = forwardedFor }
        return try await client.execute(uri: "/cabinet/login", method: .post, headers: headers,
                                        body: ByteBuffer(string: FormURLEncoding.encode(["csrf": "n", "email": email, "password": password]))) {
            $0.status
        }
    }

    static func expect(_ client: some TestClientProtocol, _ email: String, _ password: String, forwardedFor: String? = nil,
                       _ status: HTTPResponse.Status, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let got = try await attempt(client, email, password, forwardedFor: forwardedFor)
        #expect(got == status, "\(email)", sourceLocation: sourceLocation)
    }

    /// A Switchboard with one cabinet user, boss@acme.ru / "correct horse", and `configure` applied to its settings.
    static func withCabinet(_ backend: Backend, configure: (inout AppConfig) -> Void = { _ in },
                            _ body: (Switchboard) async throws -> Void) async throws {
        try await withSwitchboard(backend, configure: configure) { sb in
            let tenant = try await sb.tenants.create(name: "Acme")
            _ = try await sb.tenants.addUser(tenantId: tenant.id, email: "boss@acme.ru", passwordHash: Passwords.hash("correct horse"))
            try await body(sb)
        }
    }

    /// The cabinet alone, with its password checks going through `checks`.
    static func cabinetApp(_ sb: Switchboard, _ checks: PasswordChecks) -> some ApplicationProtocol {
        let router = Router(context: AppRequestContext.self)
        Cabinet(sb: sb, limiter: sb.signInLimiter, passwords: checks.check).register(on: router)
        return Application(router: router)
    }

    @Test("five failures with made-up e-mails lock out neither the real user nor the address", arguments: Backend.available)
    func madeUpEmails(_ backend: Backend) async throws {
        try await Self.withCabinet(backend) { sb in
            try await sb.buildApplication(workers: false).test(.router) { client in
                for i in 0..<5 {
                    try await Self.expect(client, "nobody\(i)@example.com", "guess", .unauthorized)
                }
                try await Self.expect(client, "boss@acme.ru", "correct horse", .seeOther)
                // The e-mail's own limit still holds.
                for _ in 0..<5 { try await Self.expect(client, "boss@acme.ru", "guess", .unauthorized) }
                try await Self.expect(client, "boss@acme.ru", "correct horse", .tooManyRequests)
            }
        }
    }

    @Test("an address gets twenty attempts however many e-mails it tries; X-Forwarded-For from a client is ignored",
          arguments: Backend.available)
    func perAddress(_ backend: Backend) async throws {
        try await Self.withCabinet(backend) { sb in
            try await sb.buildApplication(workers: false).test(.live) { client in
                for i in 0..<20 {
                    try await Self.expect(client, "nobody\(i)@example.com", "guess", forwardedFor: "198.51.100.\(i)", .unauthorized)
                }
                try await Self.expect(client, "someone@example.com", "guess", forwardedFor: "198.51.100.99", .tooManyRequests)
                try await Self.expect(client, "boss@acme.ru", "correct horse", forwardedFor: "198.51.100.98", .tooManyRequests)
            }
        }
    }

    @Test("behind a trusted proxy each forwarded client has its own limit, and a client cannot pose as another",
          arguments: Backend.available)
    func trustedProxy(_ backend: Backend) async throws {
        try await Self.withCabinet(backend, configure: { $0.trustedProxies = ["127.0.0.0/8", "::1"] }) { sb in
            try await sb.buildApplication(workers: false).test(.live) { client in
                for i in 0..<20 {
                    try await Self.expect(client, "nobody\(i)@example.com", "guess", forwardedFor: "203.0.113.7", .unauthorized)
                }
                try await Self.expect(client, "someone@example.com", "guess", forwardedFor: "203.0.113.7", .tooManyRequests)
                // What the client wrote left of what the proxy appended does not count.
                try await Self.expect(client, "someone@example.com", "guess",
                                               forwardedFor: "203.0.113.8, 203.0.113.7", .tooManyRequests)
                try await Self.expect(client, "boss@acme.ru", "correct horse", forwardedFor: "203.0.113.8", .seeOther)
            }
        }
    }

    @Test("thirty concurrent guesses for one e-mail: five are checked (401), the rest refused (429)", arguments: Backend.available)
    func concurrentGuesses(_ backend: Backend) async throws {
        try await Self.withCabinet(backend) { sb in
            let checks = PasswordChecks()
            try await Self.cabinetApp(sb, checks).test(.router) { client in
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for i in 0..<30 { group.addTask { try await Self.attempt(client, "boss@acme.ru", "guess \(i)") } }
                    return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == .unauthorized }.count == 5)
                #expect(statuses.filter { $0 == .tooManyRequests }.count == 25)
                #expect(checks.hashes.count == 5)
            }
        }
    }

    @Test("an unknown e-mail is checked against a hash of the same cost as a real one", arguments: Backend.available)
    func unknownEmailHashes(_ backend: Backend) async throws {
        try await Self.withCabinet(backend) { sb in
            let checks = PasswordChecks()
            try await Self.cabinetApp(sb, checks).test(.router) { client in
                try await Self.expect(client, "nobody@example.com", "guess", .unauthorized)
                try await Self.expect(client, "boss@acme.ru", "guess", .unauthorized)
            }
            let hashes = checks.hashes
            #expect(hashes.count == 2)
            let real = try #require(try await sb.tenants.userForLogin(email: "boss@acme.ru")).1
            // bcrypt's "$2b$11$": the same algorithm and cost, so the same work.
            #expect(hashes.first.map { String($0.prefix(7)) } == String(real.prefix(7)))
            #expect(hashes.first != real)
        }
    }

    @Test("successful sign-ins do not use up the address's attempts", arguments: Backend.available)
    func successesDoNotCount(_ backend: Backend) async throws {
        try await Self.withCabinet(backend) { sb in
            try await sb.buildApplication(workers: false).test(.router) { client in
                for _ in 0..<21 { try await Self.expect(client, "boss@acme.ru", "correct horse", .seeOther) }
            }
            let stored = try await sb.db.read { try await $0.query("SELECT key_hash FROM signin_failures", []) }
            #expect(stored.isEmpty)
        }
    }

    @Test("the client address: the peer unless it is a trusted proxy; then the right-most untrusted forwarded address")
    func clientAddress() throws {
        let none = TrustedProxies()
        let peer = try SocketAddress(ipAddress: "192.0.2.10", port: 4000)
        #expect(none.client(peer: peer, forwardedFor: ["203.0.113.1"]) == "192.0.2.10")
        #expect(none.client(peer: nil, forwardedFor: ["203.0.113.1"]) == "local")

        let proxies = try TrustedProxies(["192.0.2.0/24", "10.0.0.1", "2001:db8::/32"])
        #expect(proxies.client(peer: peer, forwardedFor: []) == "192.0.2.10")
        #expect(proxies.client(peer: peer, forwardedFor: ["203.0.113.1"]) == "203.0.113.1")
        #expect(proxies.client(peer: peer, forwardedFor: ["198.51.100.5, 203.0.113.1", "10.0.0.1"]) == "203.0.113.1")
        #expect(proxies.client(peer: peer, forwardedFor: ["203.0.113.1, garbage"]) == "192.0.2.10")
        #expect(proxies.client(peer: try SocketAddress(ipAddress: "::ffff:192.0.2.10", port: 1), forwardedFor: ["203.0.113.1"]) == "203.0.113.1")
        #expect(proxies.client(peer: try SocketAddress(ipAddress: "2001:db8::5", port: 1), forwardedFor: ["2001:db9::1"]) == "2001:db9::1")
        #expect(proxies.client(peer: try SocketAddress(ipAddress: "192.0.3.1", port: 1), forwardedFor: ["203.0.113.1"]) == "192.0.3.1")

        #expect(throws: TrustedProxies.Problem.self) { try TrustedProxies(["proxy.internal"]) }
        #expect(throws: TrustedProxies.Problem.self) { try TrustedProxies(["10.0.0.0/33"]) }
        // An IPv6 client is limited by its /64, which one host can roam.
        #expect(SignInLimiter.Attempt(email: "", address: "2001:db8:1:2:3:4:5:6").addressKey == "ip:2001:db8:1:2::/64")
        #expect(SignInLimiter.Attempt(email: "", address: "203.0.113.1").addressKey == "ip:203.0.113.1")
    }
}
