import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import SwitchboardSandbox

/// One answer from the MoySklad sandbox, its body already un-gzipped and parsed.
struct MSAnswer {
    var status: Int
    var headers: HTTPHeaders
    var json: Any?

    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var rows: [[String: Any]] { object["rows"] as? [[String: Any]] ?? [] }
    var firstError: [String: Any] { (object["errors"] as? [[String: Any]])?.first ?? [:] }
    var errorCode: Int? { firstError["code"] as? Int }
    func header(_ name: String) -> String? { headers.first(name: name) }
}

enum MSAuth {
    case none
    case basic(String, String)
    case bearer(String)
    case phone(String)

    static let solution = MSAuth.bearer(MoySkladSandboxSeed.demo.solutionTokens[0])
    static let admin = MSAuth.basic("admin@demo", "demo-password")
    static let phoneKey = MSAuth.phone(MoySkladSandboxSeed.demo.phoneAccessKey)
}

/// Talks to the sandbox over HTTP the way a MoySklad client must: `Accept-Encoding: gzip` and gzip-decoded answers.
struct MSClient {
    let base: String
    let client: HTTPClient

    func call(_ method: HTTPMethod, _ path: String, _ body: Any? = nil, auth: MSAuth = .solution,
              headers extra: [(String, String)] = []) async throws -> MSAnswer {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Accept-Encoding", value: "gzip")
        switch auth {
        case .none: break
        case .basic(let login, let password):
            request.headers.add(name: "Authorization", value: "Basic " + Data("\(login):\(password)".utf8).base64EncodedString())
        case .bearer(let token): request.headers.add(name: "Authorization", value: "Bearer " + token)
        case .phone(let key): request.headers.add(name: "Lognex-Phone-Auth-Token", value: key)
        }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        var buffer = try await response.body.collect(upTo: 16 << 20)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        let json = bytes.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(bytes))
        return MSAnswer(status: Int(response.status.code), headers: response.headers, json: json)
    }

    func phone(_ method: HTTPMethod, _ path: String, _ body: Any? = nil, auth: MSAuth = .phoneKey) async throws -> MSAnswer {
        try await call(method, "/api/phone/1.0" + path, body, auth: auth)
    }

    func remap(_ method: HTTPMethod, _ path: String, _ body: Any? = nil, auth: MSAuth = .solution,
               headers: [(String, String)] = []) async throws -> MSAnswer {
        try await call(method, "/api/remap/1.2" + path, body, auth: auth, headers: headers)
    }

    /// A steering call (`/sandbox/…`): plain JSON, no auth.
    func steer(_ path: String, _ body: Any = [String: Any]()) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: base + "/sandbox/" + path)
        request.method = .POST
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        let response = try await client.execute(request, timeout: .seconds(30))
        var buffer = try await response.body.collect(upTo: 1 << 20)
        return (try? JSONSerialization.jsonObject(with: Data(buffer.readBytes(length: buffer.readableBytes) ?? []))) as? [String: Any] ?? [:]
    }
}

/// A MoySklad sandbox on a real socket for the duration of `body`.
func withMoySklad<T>(_ options: MoySkladSandbox.Options = .init(), seed: MoySkladSandboxSeed = .demo,
                     _ body: (MoySkladSandbox, MSClient) async throws -> T) async throws -> T {
    let sandbox = MoySkladSandbox(seed: seed, options: options)
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(decompression: .enabled(limit: .none)))
    do {
        let result = try await withLiveApplication({ sandbox.application(logger: testLogger(), onRunning: $0) }) { base in
            try await body(sandbox, MSClient(base: base, client: client))
        }
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// What a webhook receiver or telephony provider got: each request's path and query, headers and body.
final class MSReceiver: @unchecked Sendable {
    struct Hit {
        var uri: String
        var headers: [String: String]
        var body: String
    }

    private let lock = NSLock()
    private var stored: [Hit] = []
    private var failures: Int

    /// The first `failFirst` requests get 500.
    init(failFirst: Int = 0) { failures = failFirst }

    var hits: [Hit] { lock.withLock { stored } }

    func application(onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        router.post("**") { req, _ -> Response in
            var buffer = try await req.body.collect(upTo: 1 << 20)
            let body = buffer.readString(length: buffer.readableBytes) ?? ""
            var headers: [String: String] = [:]
            for field in req.headers { headers[field.name.canonicalName.lowercased()] = field.value }
            let fail: Bool = self.lock.withLock {
                self.stored.append(Hit(uri: req.uri.description, headers: headers, body: body))
                if self.failures > 0 {
                    self.failures -= 1
                    return true
                }
                return false
            }
            return Response(status: fail ? .internalServerError : .ok)
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                           onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: testLogger())
    }
}

/// Waits (up to about ten seconds, polling) until `condition` holds.
func eventually(_ condition: () -> Bool) async throws -> Bool {
    for _ in 0..<200 {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return condition()
}
