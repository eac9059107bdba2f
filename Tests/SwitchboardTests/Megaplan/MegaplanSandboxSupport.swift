import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import SwitchboardSandbox

/// Talks to a live Megaplan sandbox the way a client written from Megaplan's documentation does: the password grant
/// as a form, JSON parameters in the query string of GETs, JSON bodies, `Authorization: Bearer`.
struct MegaplanWire {
    let base: String
    var token: String?

    /// Answers' HTTP status and JSON body.
    struct Answer {
        let status: Int
        let json: MegaplanJSON
        var meta: MegaplanJSON? { json["meta"] }
        var data: MegaplanJSON? { json["data"] }
        var firstError: MegaplanJSON? { json["meta"]?["errors"]?.array?.first }
    }

    func raw(_ method: HTTPMethod, _ pathAndQuery: String, body: Data? = nil, contentType: String = "application/json",
             headers: [(String, String)] = []) async throws -> Answer {
        var request = HTTPClientRequest(url: base + pathAndQuery)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        var buffer = try await response.body.collect(upTo: 4 << 20)
        let bytes = Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
        return Answer(status: Int(response.status.code), json: MegaplanJSON.parse(bytes) ?? .null)
    }

    /// `GET /api/v3/<path>?{json}` (the JSON percent-encoded, as the vendor's SDK does).
    func get(_ path: String, _ params: MegaplanJSON? = nil) async throws -> Answer {
        var q = ""
        if let params {
            let text = String(decoding: params.data, as: UTF8.self)
            q = "?" + (text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text)
        }
        return try await raw(.GET, "/api/v3/" + path + q)
    }

    func post(_ path: String, _ body: MegaplanJSON) async throws -> Answer {
        try await raw(.POST, "/api/v3/" + path, body: body.data)
    }

    func delete(_ path: String) async throws -> Answer { try await raw(.DELETE, "/api/v3/" + path) }

    /// The password grant as the docs' curl sends it (multipart/form-data).
    func passwordGrant(_ username: String, _ password: String) async throws -> Answer {
        let boundary = "sb-\(UUID().uuidString)"
        var text = ""
        for (k, v) in [("username", username), ("password", password), ("grant_type", "password")] {
            text += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(k)\"\r\n\r\n\(v)\r\n"
        }
        text += "--\(boundary)--\r\n"
        return try await raw(.POST, "/api/v3/auth/access_token", body: Data(text.utf8),
                             contentType: "multipart/form-data; boundary=\(boundary)")
    }

    func form(_ fields: [(String, String)]) async throws -> Answer {
        let text = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.1)" }.joined(separator: "&")
        return try await raw(.POST, "/api/v3/auth/access_token", body: Data(text.utf8), contentType: "application/x-www-form-urlencoded")
    }

    /// A client signed in as the demo account's administrator.
    static func signedIn(_ base: String) async throws -> MegaplanWire {
        let user = MegaplanSandboxSeed.demo.users[0]
        let answer = try await MegaplanWire(base: base).passwordGrant(user.username, user.password)
        return MegaplanWire(base: base, token: answer.json["access_token"]?.string)
    }

    func steer(_ path: String, _ body: MegaplanJSON = [:]) async throws -> Answer {
        var plain = self
        plain.token = nil
        return try await plain.raw(.POST, "/sandbox/" + path, body: body.data)
    }
}

/// A stand-in for Switchboard's inbound addresses: records every JSON body posted to `/hook/<name>`.
final class MegaplanHookCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [(path: String, body: MegaplanJSON)] = []

    var bodies: [(path: String, body: MegaplanJSON)] { lock.withLock { received } }

    func application(onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        router.post("hook/:name") { req, _ -> Response in
            var buffer = try await req.body.collect(upTo: 1 << 20)
            let body = MegaplanJSON.parse(Data(buffer.readBytes(length: buffer.readableBytes) ?? [])) ?? .null
            self.lock.withLock { self.received.append((req.uri.path, body)) }
            return Response(status: .ok)
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                           onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: testLogger())
    }

    /// Waits (bounded by attempts, not by a clock assertion) until `count` bodies arrived.
    func waitFor(_ count: Int) async throws -> [(path: String, body: MegaplanJSON)] {
        for _ in 0..<200 where bodies.count < count { try await Task.sleep(for: .milliseconds(25)) }
        return bodies
    }
}

/// Runs a fresh sandbox (demo seed) on a free port for `body`; no per-second limit unless `configure` sets one, so a
/// loaded machine's bursts do not meet a 429 a test did not ask for.
func withMegaplanSandbox<T>(_ configure: (inout MegaplanSandbox.Options) -> Void = { _ in },
                            _ body: (MegaplanSandbox, String) async throws -> T) async throws -> T {
    var options = MegaplanSandbox.Options()
    options.requestsPerSecond = nil
    configure(&options)
    let sandbox = MegaplanSandbox(seed: .demo, options: options)
    return try await withLiveApplication({ sandbox.application(logger: testLogger(), onRunning: $0) }) { base in
        try await body(sandbox, base)
    }
}
