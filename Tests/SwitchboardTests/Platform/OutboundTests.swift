import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardOutbound
import SwitchboardPBX
import SwitchboardStorage

/// A listener on 127.0.0.1 that records every request it gets and answers with `answer`: stands in for a host a
/// tenant points Switchboard at, so a test can tell whether a secret reached it.
final class RecordingServer: @unchecked Sendable {
    struct Seen: Sendable {
        var method: String
        var path: String
        var authorization: String?
        var apiKey: String?
        var body: String
    }

    private let lock = NSLock()
    private var requests: [Seen] = []
    let answer: @Sendable (Seen) -> Response

    init(answer: @escaping @Sendable (Seen) -> Response = { _ in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "[]")))
    }) {
        self.answer = answer
    }

    var seen: [Seen] { lock.withLock { requests } }

    func application(onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            var buffer = try await request.body.collect(upTo: 1 << 20)
            let seen = Seen(method: request.method.rawValue, path: request.uri.path,
                            authorization: request.headers[.authorization],
                            apiKey: request.headers[HTTPField.Name("X-API-KEY")!],
                            body: buffer.readString(length: buffer.readableBytes) ?? "")
            self.lock.withLock { self.requests.append(seen) }
            return self.answer(seen)
        }
        return Application(responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                           onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: testLogger())
    }
}

/// Runs two recording listeners ("the tenant's real host" and "somewhere else") for the duration of `body`.
func withRecorders<T>(_ first: RecordingServer, _ second: RecordingServer,
                      _ body: (String, String) async throws -> T) async throws -> T {
    try await withLiveApplication({ first.application(onRunning: $0) }) { a in
        try await withLiveApplication({ second.application(onRunning: $0) }) { b in try await body(a, b) }
    }
}

@Suite("Outbound policy: where Switchboard sends requests")
struct OutboundPolicyTests {
    static let strict = OutboundPolicy()
    static let dev = OutboundPolicy(allowLoopback: true)
    static let lan = OutboundPolicy(allowPrivateNetworks: true)

    @Test("addresses are classified by parsing, not by their spelling")
    func kinds() throws {
        let table: [(String, IPAddress.Kind)] = [
            ("127.0.0.1", .loopback), ("127.255.1.2", .loopback), ("::1", .loopback), ("[::1]", .loopback),
            ("10.1.2.3", .private), ("172.16.0.1", .private), ("172.31.255.255", .private), ("172.32.0.1", .public),
            ("192.168.1.1", .private), ("100.64.0.1", .private), ("100.128.0.1", .public), ("198.18.0.1", .private),
            ("fd00::1", .private), ("fc12::1", .private),
            ("169.254.169.254", .linkLocal), ("fe80::1", .linkLocal), ("[fe80::1%eth0]", .linkLocal), ("fd00:ec2::254", .linkLocal),
            ("0.0.0.0", .unspecified), ("0.1.2.3", .unspecified), ("::", .unspecified),
            ("224.0.0.1", .multicast), ("ff02::1", .multicast), ("240.0.0.1", .reserved), ("255.255.255.255", .reserved),
            ("::ffff:127.0.0.1", .loopback), ("::ffff:169.254.169.254", .linkLocal), ("64:ff9b::a00:1", .private),
            ("93.184.216.34", .public), ("2a00:1450:4010:c05::64", .public),
        ]
        for (text, kind) in table {
            let address = try #require(IPAddress(text), "\(text) should parse")
            #expect(address.kind == kind, "\(text)")
        }
        for notAnAddress in ["127.attacker.example", "127.1", "2130706433", "0x7f.0.0.1", "127.0.0.01", "256.1.1.1", "example.com", ""] {
            #expect(IPAddress(notAnAddress) == nil, "\(notAnAddress) is a name, judged after resolution")
        }
        #expect(IPAddress("169.254.169.254")?.description == "169.254.169.254")
        #expect(IPAddress("fd00:ec2::254")?.description == "fd00:ec2::254")
    }

    @Test("item 7: 127.attacker.example is not loopback, and http to it is refused")
    func loopbackByParsing() throws {
        for host in ["127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost", "api.localhost"] {
            #expect(AccountURL.isLoopback(host), "\(host)")
        }
        for host in ["127.attacker.example", "127.0.0.1.attacker.example", "localhost.attacker.example", "1270.0.0.1"] {
            #expect(!AccountURL.isLoopback(host), "\(host)")
        }
        // Even in development mode, where loopback http is fine.
        #expect(throws: AccountURL.Problem.insecure("http://127.attacker.example")) {
            try AccountURL.normalize("http://127.attacker.example", policy: Self.dev)
        }
        #expect(throws: OutboundPolicy.Problem.insecure("http://127.attacker.example")) {
            try Self.dev.check("http://127.attacker.example")
        }
        #expect(try AccountURL.normalize("http://127.0.0.1:9000/", policy: Self.dev) == "http://127.0.0.1:9000")
    }

    @Test("the static checks: scheme, user info, literal addresses, development mode, private networks")
    func staticChecks() {
        // (url, strict, dev, private networks allowed): true = accepted.
        let table: [(String, Bool, Bool, Bool)] = [
            ("https://example.amocrm.ru", true, true, true),
            ("https://pbx.example.com:8443/api", true, true, true),
            ("https://93.184.216.34/", true, true, true),
            ("http://example.amocrm.ru", false, false, false),
            ("http://127.0.0.1:8081", false, true, false),
            ("https://127.0.0.1:8081", false, true, false),
            ("http://localhost:8081", false, true, false),
            ("http://[::1]:8081", false, true, false),
            ("http://127.attacker.example", false, false, false),
            ("http://169.254.169.254/latest/meta-data", false, false, false),
            ("https://169.254.169.254/latest/meta-data", false, false, false),
            ("https://[fe80::1]/", false, false, false),
            ("https://[fd00:ec2::254]/", false, false, false),
            ("https://0.0.0.0:8080/", false, false, false),
            ("https://224.0.0.1/", false, false, false),
            ("https://10.0.0.5/", false, false, true),
            ("https://172.20.1.1/", false, false, true),
            ("https://192.168.0.10/", false, false, true),
            ("https://100.64.0.1/", false, false, true),
            ("https://[fd12::1]/", false, false, true),
            ("http://10.0.0.5/", false, false, false),
            ("http+unix://%2Fvar%2Frun%2Fdocker.sock/containers/json", false, false, false),
            ("unix:///var/run/docker.sock", false, false, false),
            ("ftp://example.com/", false, false, false),
            ("https://user:pass@example.amocrm.ru", false, false, false),
            ("https://user@example.amocrm.ru", false, false, false),
            ("not a url", false, false, false),
            ("https://", false, false, false),
        ]
        for (url, strict, dev, lan) in table {
            for (policy, expected, name) in [(Self.strict, strict, "strict"), (Self.dev, dev, "dev"), (Self.lan, lan, "private")] {
                let accepted = (try? policy.check(url)) != nil
                #expect(accepted == expected, "\(url) under the \(name) policy")
            }
        }
    }

    @Test("names are judged by every address they resolve to")
    func resolvedChecks() throws {
        let https = try Self.strict.check("https://crm.example.com")
        let a = { (s: String) in IPAddress(s)! }
        #expect(throws: Never.self) { try Self.strict.check(resolved: [a("93.184.216.34"), a("2a00:1450::1")], for: https) }
        for bad in ["169.254.169.254", "10.0.0.1", "127.0.0.1", "::ffff:10.0.0.1", "fd00:ec2::254", "0.0.0.0"] {
            #expect(throws: OutboundPolicy.Problem.self, "\(bad)") {
                try Self.strict.check(resolved: [a("93.184.216.34"), a(bad)], for: https)
            }
        }
        #expect(throws: OutboundPolicy.Problem.unresolved("crm.example.com")) { try Self.strict.check(resolved: [], for: https) }
        #expect(throws: Never.self) { try Self.lan.check(resolved: [a("10.0.0.1")], for: https) }
        // localhost over http in development mode: only while it resolves to loopback.
        let local = try Self.dev.check("http://localhost:8081")
        #expect(throws: Never.self) { try Self.dev.check(resolved: [a("127.0.0.1"), a("::1")], for: local) }
        #expect(throws: OutboundPolicy.Problem.self) { try Self.dev.check(resolved: [a("93.184.216.34")], for: local) }
    }

    @Test("OutboundHTTP resolves right before the request and refuses a name that leads to a forbidden address")
    func admitAfterResolution() async throws {
        let answers: [String: [IPAddress]] = [
            "metadata.attacker.example": [IPAddress("169.254.169.254")!],
            "intranet.attacker.example": [IPAddress("10.1.2.3")!],
            "crm.example.com": [IPAddress("93.184.216.34")!],
        ]
        let resolve: @Sendable (String) async throws -> [IPAddress] = { answers[$0] ?? [] }
        let strict = OutboundHTTP(policy: Self.strict, resolve: resolve)
        try await strict.admit("https://crm.example.com/api/v4/account")
        await #expect(throws: OutboundPolicy.Problem.self) { try await strict.admit("https://metadata.attacker.example/latest") }
        await #expect(throws: OutboundPolicy.Problem.self) { try await strict.admit("https://intranet.attacker.example/") }
        await #expect(throws: OutboundPolicy.Problem.self) { try await strict.admit("https://nowhere.example/") }
        try await OutboundHTTP(policy: Self.lan, resolve: resolve).admit("https://intranet.attacker.example/")
        // The system resolver: localhost is this machine, accepted only in development mode.
        try await OutboundHTTP(policy: Self.dev).admit("http://localhost:1/")
        await #expect(throws: OutboundPolicy.Problem.self) { try await OutboundHTTP(policy: Self.strict).admit("https://localhost:1/") }
    }

    @Test("amoCRM's OAuth client secret goes to amoCRM's own domains only (loopback in development mode)")
    func amoDomains() {
        let table: [(String, Bool, Bool)] = [
            ("https://example.amocrm.ru", true, true), ("https://example.amocrm.com", true, true),
            ("https://example.kommo.com", true, true), ("https://EXAMPLE.AmoCRM.ru", true, true),
            ("http://example.amocrm.ru", false, false), ("https://amocrm.ru.attacker.example", false, false),
            ("https://exampleamocrm.ru", false, false), ("https://example.amocrm.ru.", false, false),
            ("https://user@example.amocrm.ru", false, false), ("https://crm.attacker.example", false, false),
            ("http://127.0.0.1:8081", false, true), ("http://localhost:8081", false, true),
            ("http://127.attacker.example", false, false),
        ]
        for (url, production, dev) in table {
            #expect(CRMDomains.amocrm.admits(url, policy: Self.strict) == production, "\(url) in production")
            #expect(CRMDomains.amocrm.admits(url, policy: Self.dev) == dev, "\(url) in development mode")
        }
    }

    @Test("moving a secret's address needs the secret again")
    func pinningRule() {
        func credential(_ kind: CRMAuthKind, hasSecret: Bool = true) -> CRMCredential {
            CRMCredential(id: "c", tenantId: "t", crm: .amocrm, name: "", baseURL: "https://a.amocrm.ru", authKind: kind,
                          status: "ok", statusDetail: nil, hasSecret: hasSecret, createdAt: Date(), updatedAt: Date())
        }
        let moved = "https://b.amocrm.ru"
        #expect(SecretPinning.missingField(credential(.token), newURL: moved, secret: nil) == "token")
        #expect(SecretPinning.missingField(credential(.token), newURL: moved, secret: CRMSecret(token: "")) == "token")
        #expect(SecretPinning.missingField(credential(.token), newURL: moved, secret: CRMSecret(token: "t2")) == nil)
        #expect(SecretPinning.missingField(credential(.token), newURL: "https://a.amocrm.ru", secret: nil) == nil)
        #expect(SecretPinning.missingField(credential(.token), newURL: nil, secret: nil) == nil)
        #expect(SecretPinning.missingField(credential(.token, hasSecret: false), newURL: moved, secret: nil) == nil)
        #expect(SecretPinning.missingField(credential(.password), newURL: moved, secret: CRMSecret(login: "a")) == "password")
        #expect(SecretPinning.missingField(credential(.oauth), newURL: moved, secret: nil) == nil)  // tokens are dropped instead
        let pbx = PBXConnection(id: "p", tenantId: "t", name: "", protocol: .itoolabs, apiURL: "https://a.example", apiFlavor: "legacy",
                                hasAPIKey: true, routingDeadlineMs: 1500, region: "RU", createdAt: Date(), updatedAt: Date())
        #expect(SecretPinning.apiKeyMissing(pbx, newURL: "https://b.example", apiKey: nil))
        #expect(SecretPinning.apiKeyMissing(pbx, newURL: "", apiKey: nil))
        #expect(!SecretPinning.apiKeyMissing(pbx, newURL: "https://b.example", apiKey: "k2"))
        #expect(!SecretPinning.apiKeyMissing(pbx, newURL: "https://a.example", apiKey: nil))
        #expect(!SecretPinning.apiKeyMissing(pbx, newURL: nil, apiKey: nil))
    }
}

@Suite("Secrets stay where they were entered (API and cabinet)")
struct SecretPinningTests {
    func patch(_ client: some TestClientProtocol, _ uri: String, _ tenant: TestTenant, _ json: String) async throws -> (Int, JSONValue) {
        try await client.execute(uri: uri, method: .patch, headers: tenant.auth, body: body(json)) { (Int($0.status.code), $0.body.j) }
    }

    @Test("a credential moved to another host without its token is refused; its token never reaches that host",
          arguments: Backend.available)
    func credentialMove(_ backend: Backend) async throws {
        let home = RecordingServer(), elsewhere = RecordingServer()
        try await withRecorders(home, elsewhere) { homeURL, elsewhereURL in
            try await withSwitchboard(backend) { sb in
                let tenant = try await TestTenant.make(sb)
                let c = try await sb.credentials.create(tenantId: tenant.id, crm: .amocrm, name: "", baseURL: homeURL, authKind: .token,
                                                        secret: CRMSecret(token: "stored-token"))
                try await sb.buildApplication(workers: false).test(.router) { client in
                    var (status, json) = try await patch(client, "/api/v1/credentials/\(c.id)", tenant, #"{"baseURL":"\#(elsewhereURL)"}"#)
                    #expect(status == 422)
                    #expect(json["error"]?["field"]?.stringValue == "token")
                    // A name change alone is fine, and so is "moving" to where it already is.
                    (status, _) = try await patch(client, "/api/v1/credentials/\(c.id)", tenant, #"{"name":"main","baseURL":"\#(homeURL)"}"#)
                    #expect(status == 200)
                    try await client.execute(uri: "/api/v1/credentials/\(c.id)/test", method: .post, headers: tenant.auth) { _ in }
                    #expect(elsewhere.seen.isEmpty)
                    #expect(home.seen.contains { $0.authorization == "Bearer stored-token" })
                    // With the token re-entered the move goes ahead, and only the new token goes there.
                    (status, _) = try await patch(client, "/api/v1/credentials/\(c.id)", tenant,
                                                  #"{"baseURL":"\#(elsewhereURL)","token":"new-token"}"#)
                    #expect(status == 200)
                    try await client.execute(uri: "/api/v1/credentials/\(c.id)/test", method: .post, headers: tenant.auth) { _ in }
                    #expect(!elsewhere.seen.isEmpty)
                    #expect(elsewhere.seen.allSatisfy { $0.authorization == "Bearer new-token" })
                }
                // The store alone never lets a secret follow a new address: an OAuth credential moved loses its tokens.
                let o = try await sb.credentials.create(tenantId: tenant.id, crm: .amocrm, name: "", baseURL: homeURL, authKind: .oauth,
                                                        secret: CRMSecret(accessToken: "at", refreshToken: "rt"))
                _ = try await sb.credentials.update(tenantId: tenant.id, id: o.id, name: nil, baseURL: elsewhereURL, secret: nil)
                #expect(try await sb.credentials.secret(tenantId: tenant.id, id: o.id) == nil)
                #expect(try await sb.credentials.get(tenantId: tenant.id, id: o.id)?.hasSecret == false)
            }
        }
    }

    @Test("a PBX connection moved to another host without its API key is refused; the key never reaches that host",
          arguments: Backend.available)
    func pbxMove(_ backend: Backend) async throws {
        let home = RecordingServer(), elsewhere = RecordingServer()
        try await withRecorders(home, elsewhere) { homeURL, elsewhereURL in
            try await withSwitchboard(backend) { sb in
                let fx = try await PBXFixture.make(sb, apiURL: homeURL, apiKey: "stored-key")
                let tenant = fx.tenant
                try await sb.buildApplication(workers: false).test(.router) { client in
                    let uri = "/api/v1/pbx-connections/\(fx.connection.id)"
                    var (status, json) = try await patch(client, uri, tenant, #"{"apiURL":"\#(elsewhereURL)"}"#)
                    #expect(status == 422)
                    #expect(json["error"]?["field"]?.stringValue == "apiKey")
                    try await client.execute(uri: uri + "/accounts", method: .get, headers: tenant.auth) { _ in }
                    #expect(elsewhere.seen.isEmpty)
                    #expect(home.seen.contains { $0.body.contains("token=stored-key") })
                    (status, _) = try await patch(client, uri, tenant, #"{"apiURL":"\#(elsewhereURL)","apiKey":"new-key"}"#)
                    #expect(status == 200)
                    try await client.execute(uri: uri + "/accounts", method: .get, headers: tenant.auth) { _ in }
                    #expect(!elsewhere.seen.isEmpty)
                    #expect(elsewhere.seen.allSatisfy { $0.body.contains("token=new-key") && !$0.body.contains("stored-key") })
                    // The store alone: moved without a key, the connection has none left.
                    _ = try await sb.pbx.update(tenantId: tenant.id, id: fx.connection.id, name: nil, apiURL: homeURL, apiKey: nil,
                                                apiFlavor: nil, routingDeadlineMs: nil, region: nil)
                    #expect(try await sb.pbx.apiKey(connectionId: fx.connection.id) == nil)
                }
            }
        }
    }

    @Test("PBX API addresses pass the outbound policy: no metadata service, no unix sockets, no loopback outside development mode",
          arguments: Backend.available)
    func pbxAddresses(_ backend: Backend) async throws {
        try await withSwitchboard(backend, configure: { $0.devMode = false }) { sb in
            let tenant = try await TestTenant.make(sb)
            try await sb.buildApplication(workers: false).test(.router) { client in
                for url in ["http://169.254.169.254/latest/meta-data", "https://169.254.169.254/", "http+unix://%2Fvar%2Frun%2Fdocker.sock/x",
                            "http://127.0.0.1:8082", "https://10.0.0.5", "http://pbx.example.com", "https://u:p@pbx.example.com"] {
                    try await client.execute(uri: "/api/v1/pbx-connections", method: .post, headers: tenant.auth,
                                             body: body(#"{"name":"x","protocol":"itoolabs","apiURL":"\#(url)","apiKey":"k"}"#)) { res in
                        #expect(res.status == .unprocessableContent, "\(url)")
                        #expect(res.body.j["error"]?["field"]?.stringValue == "apiURL", "\(url)")
                    }
                }
                try await client.execute(uri: "/api/v1/pbx-connections", method: .post, headers: tenant.auth,
                                         body: body(#"{"name":"x","protocol":"itoolabs","apiURL":"https://pbx.example.com","apiKey":"k"}"#)) {
                    #expect($0.status == .created)
                }
                // Credentials likewise: the account address passes the same policy.
                try await client.execute(uri: "/api/v1/credentials", method: .post, headers: tenant.auth,
                                         body: body(#"{"crm":"amocrm","baseURL":"http://127.0.0.1:8081","authKind":"token","token":"t"}"#)) { res in
                    #expect(res.status == .unprocessableContent)
                    #expect(res.body.j["error"]?["field"]?.stringValue == "baseURL")
                }
            }
        }
    }

    @Test("redirects are answers, never followed: a PBX API that redirects elsewhere does not pass the key on",
          arguments: Backend.available)
    func noRedirects(_ backend: Backend) async throws {
        let elsewhere = RecordingServer()
        try await withLiveApplication({ elsewhere.application(onRunning: $0) }) { elsewhereURL in
            let redirecting = RecordingServer { _ in
                Response(status: .temporaryRedirect, headers: [.location: elsewhereURL + "/sys/crm_api.wcgp"])
            }
            try await withLiveApplication({ redirecting.application(onRunning: $0) }) { redirectingURL in
                try await withSwitchboard(backend) { sb in
                    let fx = try await PBXFixture.make(sb, apiURL: redirectingURL, apiKey: "stored-key")
                    try await sb.buildApplication(workers: false).test(.router) { client in
                        try await client.execute(uri: "/api/v1/pbx-connections/\(fx.connection.id)/accounts", method: .get,
                                                 headers: fx.tenant.auth) { res in
                            #expect(res.status.code >= 400)
                        }
                    }
                    #expect(redirecting.seen.count == 1)
                    #expect(elsewhere.seen.isEmpty)
                }
            }
        }
    }

    @Test("the cabinet refuses to move a credential or a PBX connection without its secret", arguments: Backend.available)
    func cabinetMoves(_ backend: Backend) async throws {
        let home = RecordingServer(), elsewhere = RecordingServer()
        try await withRecorders(home, elsewhere) { homeURL, elsewhereURL in
            try await withSwitchboard(backend) { sb in
                let tenant = try await sb.tenants.create(name: "Acme")
                _ = try await sb.tenants.addUser(tenantId: tenant.id, email: "boss@acme.ru", passwordHash: Passwords.hash("correct horse"))
                let c = try await sb.credentials.create(tenantId: tenant.id, crm: .amocrm, name: "", baseURL: homeURL, authKind: .token,
                                                        secret: CRMSecret(token: "stored-token"))
                let (p, _) = try await sb.pbx.create(tenantId: tenant.id, name: "PBX", protocol: .itoolabs, apiURL: homeURL,
                                                     apiKey: "stored-key")
                try await sb.buildApplication(workers: false).test(.router) { client in
                    let cookie = try await cabinetSignIn(client, email: "boss@acme.ru", password: "correct horse")
                    let csrf = try await client.execute(uri: "/cabinet/credentials", method: .get, headers: cookie) {
                        try #require(hiddenCSRF($0.body.text))
                    }
                    let headers: HTTPFields = cookie + [.contentType: "application/x-www-form-urlencoded"]
                    try await client.execute(uri: "/cabinet/credentials/\(c.id)", method: .post, headers: headers,
                                             body: ByteBuffer(string: FormURLEncoding.encode(
                                                ["csrf": csrf, "action": "save", "name": "", "baseURL": elsewhereURL, "token": ""]))) {
                        #expect($0.status == .unprocessableContent)
                    }
                    try await client.execute(uri: "/cabinet/credentials/\(c.id)", method: .post, headers: headers,
                                             body: ByteBuffer(string: FormURLEncoding.encode(["csrf": csrf, "action": "test"]))) { _ in }
                    try await client.execute(uri: "/cabinet/pbx/\(p.id)", method: .post, headers: headers,
                                             body: ByteBuffer(string: FormURLEncoding.encode(
                                                ["csrf": csrf, "action": "save", "name": "PBX", "apiURL": elsewhereURL, "apiKey": "",
                                                 "apiFlavor": "legacy", "routingDeadlineMs": "1500"]))) {
                        #expect($0.status == .unprocessableContent)
                    }
                    try await client.execute(uri: "/cabinet/pbx/\(p.id)", method: .post, headers: headers,
                                             body: ByteBuffer(string: FormURLEncoding.encode(["csrf": csrf, "action": "import"]))) { _ in }
                }
                #expect(elsewhere.seen.isEmpty)
                #expect(home.seen.contains { $0.authorization == "Bearer stored-token" })
                #expect(home.seen.contains { $0.body.contains("token=stored-key") })
                #expect(try await sb.credentials.get(tenantId: tenant.id, id: c.id)?.baseURL == homeURL)
                #expect(try await sb.pbx.get(tenantId: tenant.id, id: p.id)?.apiURL == homeURL)
            }
        }
    }
}

@Suite("The installation's OAuth client secret goes to the CRM's own domains only")
struct OAuthDomainTests {
    @Test("with development mode off, OAuth start, callback and refresh for an account on another host are refused; nothing is posted there",
          arguments: Backend.available)
    func refusedElsewhere(_ backend: Backend) async throws {
        let attacker = RecordingServer { _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(string: #"{"access_token":"a","refresh_token":"r","expires_in":3600}"#)))
        }
        try await withLiveApplication({ attacker.application(onRunning: $0) }) { attackerURL in
            try await withSwitchboard(backend, configure: {
                $0.devMode = false
                $0.connectorSettings["AMOCRM_CLIENT_ID"] = "installation-client"
                $0.connectorSettings["AMOCRM_CLIENT_SECRET"] = "installation-secret"
            }) { sb in
                let tenant = try await TestTenant.make(sb)
                // Stored directly: an address accepted before this policy, or by a path that skipped it.
                let c = try await sb.credentials.create(tenantId: tenant.id, crm: .amocrm, name: "", baseURL: attackerURL, authKind: .oauth,
                                                        secret: CRMSecret(accessToken: "old", refreshToken: "rt",
                                                                          accessTokenExpiresAt: Date(timeIntervalSinceNow: -10)))
                try await sb.buildApplication(workers: false).test(.router) { client in
                    try await client.execute(uri: "/api/v1/credentials/\(c.id)/oauth", method: .post, headers: tenant.auth) { res in
                        #expect(res.status == .unprocessableContent)
                        #expect(res.body.text.contains("amocrm.ru"))
                    }
                    let sb = sb
                    let state = OAuthFlow.state(for: c, vault: sb.vault)
                    try await client.execute(uri: "/oauth/amocrm/callback?code=abc&state=\(state)", method: .get) { res in
                        #expect(res.status == .unprocessableContent)
                    }
                    try await client.execute(uri: "/api/v1/credentials/\(c.id)/test", method: .post, headers: tenant.auth) { res in
                        #expect(res.status == .unprocessableContent)
                    }
                }
                await #expect(throws: (any Error).self) {
                    try await AmoClient.exchangeCode("abc", accountURL: attackerURL,
                                                     oauth: AmoOAuthApp(clientId: "i", clientSecret: "s", redirectURI: "r"), http: sb.outbound)
                }
                #expect(attacker.seen.isEmpty)
            }
        }
    }

    @Test("even in development mode, an https account outside amoCRM's domains cannot start OAuth", arguments: Backend.available)
    func otherDomainInDevMode(_ backend: Backend) async throws {
        try await withSwitchboard(backend, configure: {
            $0.connectorSettings["AMOCRM_CLIENT_ID"] = "installation-client"
            $0.connectorSettings["AMOCRM_CLIENT_SECRET"] = "installation-secret"
        }) { sb in
            let tenant = try await TestTenant.make(sb)
            try await sb.buildApplication(workers: false).test(.router) { client in
                let id = try await client.execute(uri: "/api/v1/credentials", method: .post, headers: tenant.auth,
                                                  body: body(#"{"crm":"amocrm","baseURL":"crm.attacker.example","authKind":"oauth"}"#)) { res in
                    #expect(res.status == .created)
                    return res.body.j["id"]?.stringValue ?? ""
                }
                try await client.execute(uri: "/api/v1/credentials/\(id)/oauth", method: .post, headers: tenant.auth) { res in
                    #expect(res.status == .unprocessableContent)
                    #expect(res.body.j["error"]?["field"]?.stringValue == "baseURL")
                }
            }
        }
    }
}
