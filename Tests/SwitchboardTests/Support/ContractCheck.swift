import Foundation
import Hummingbird
import NIOCore
@testable import SwitchboardApp
import Testing

/// Checks every exchange a test makes with Switchboard's routes against the OpenAPI document, whatever client
/// made it (HummingbirdTesting's, `ScenarioPlayer`, a raw socket): it sits in front of every route of every router
/// a Switchboard builds (`RouterHook`), so no test can reach a route around it. A violation is an issue of the
/// test that made the request. The cabinet's HTML pages are not part of the API and are not checked.
struct ContractCheckMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    /// Installs the check, once per test process; `TestStorage.make` calls it, so every Switchboard a test opens has it.
    static func install() { _ = installed }
    private static let installed: Void = { RouterHook.middleware.value = ContractCheckMiddleware() }()

    /// Routes outside the API's contract: the cabinet (HTML for browsers), the endpoints of PBX protocols that
    /// tests register beside the served ones (`PBXSeamRoomTests`, ids beginning `test-`), and the ingest benchmark's
    /// reference routes (`BenchFloor`, served only with `benchFloor` on).
    static func isChecked(route: String) -> Bool {
        route != "/cabinet" && !route.hasPrefix("/cabinet/") && !route.hasPrefix("/pbx/test-") && !route.hasPrefix("/bench/")
    }

    /// The last exchanges checked, for the test that the check is in place.
    static let recent = Guarded<[String]>([])

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let route = context.endpointPath, route.hasPrefix("/"), Self.isChecked(route: route) else {
            return try await next(request, context)
        }
        // The body as the route reads it, seen on the way through (reading it first would change what limits see).
        let seen = Guarded(ByteBuffer())
        var request = request
        request.body = RequestBody(asyncSequence: request.body.map { buffer in
            seen.withLock { _ = $0.writeImmutableBuffer(buffer) }
            return buffer
        })
        var exchange = APIExchange(method: request.method.rawValue, route: route, status: 0)
        exchange.query = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
        exchange.authorized = request.headers[.authorization]?.lowercased().hasPrefix("bearer ") == true
        exchange.requestContentType = request.headers[.contentType]
        do {
            var response = try await next(request, context)
            response = try await check(&exchange, response, seen: seen, uri: request.uri.description)
            return response
        } catch let error as any HTTPResponseError {
            _ = try await check(&exchange, try error.response(from: request, context: context), seen: seen,
                                uri: request.uri.description)
            throw error
        } catch {
            exchange.status = 500
            exchange.requestBody = seen.withLock { Array($0.readableBytesView) }
            record(OpenAPIContract.served.violations(exchange), uri: request.uri.description)
            throw error
        }
    }

    /// Checks the exchange with `response`, and gives the response back with its body collected.
    func check(_ exchange: inout APIExchange, _ response: Response, seen: Guarded<ByteBuffer>,
               uri: String) async throws -> Response {
        var response = response
        let collector = Collector()
        try await response.body.write(collector)
        let body = collector.buffer.withLock { $0 }
        response.body = ResponseBody(byteBuffer: body)
        exchange.status = Int(response.status.code)
        exchange.responseContentType = response.headers[.contentType]
        exchange.responseBody = Array(body.readableBytesView)
        exchange.requestBody = seen.withLock { Array($0.readableBytesView) }
        record(OpenAPIContract.served.violations(exchange), uri: uri)
        return response
    }

    func record(_ violations: [String], uri: String) {
        Self.recent.withLock { recent in
            recent.append(uri)
            if recent.count > 1000 { recent.removeFirst(recent.count - 1000) }
        }
        for violation in violations {
            Issue.record("API contract (scripts/openapi.py): \(violation), at \(uri)")
        }
    }

    struct Collector: ResponseBodyWriter {
        let buffer = Guarded(ByteBuffer())
        func write(_ buffer: ByteBuffer) async throws { self.buffer.withLock { _ = $0.writeImmutableBuffer(buffer) } }
        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}

/// A value behind a lock, changed in place.
final class Guarded<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
