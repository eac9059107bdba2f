import Foundation
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardStorage

/// An error a client can act on: a status, a message, and the field it concerns.
public struct APIError: HTTPResponseError {
    public let status: HTTPResponse.Status
    public let message: String
    public let field: String?

    public init(_ status: HTTPResponse.Status, _ message: String, field: String? = nil) {
        self.status = status
        self.message = message
        self.field = field
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var body: [String: String] = ["message": message]
        if let field { body["field"] = field }
        return jsonResponse(["error": body], status: status)
    }
}

func jsonResponse<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
    let data = (try? JSON.encoder.encode(value)) ?? Data("null".utf8)
    return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

extension Request {
    /// The body, read up to `limit` bytes.
    func bodyBytes(limit: Int = 1 << 20) async throws -> [UInt8] {
        do {
            var buffer = try await body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch {
            throw APIError(.contentTooLarge, "request body larger than \(limit) bytes")
        }
    }

    /// Decodes a JSON body, turning decoding failures into messages that name the field.
    func decodeJSON<T: Decodable>(_ type: T.Type) async throws -> T {
        let bytes = try await bodyBytes()
        if let problem = NULText.problem(json: bytes) { throw APIError(.badRequest, problem) }
        do {
            return try JSON.decoder.decode(T.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIError(.badRequest, "field \(key.stringValue) is required", field: key.stringValue)
        } catch let DecodingError.typeMismatch(_, ctx) {
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw APIError(.badRequest, "field \(path) has the wrong type", field: path)
        } catch let DecodingError.valueNotFound(_, ctx) {
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw APIError(.badRequest, "field \(path) must not be null", field: path)
        } catch let DecodingError.dataCorrupted(ctx) {
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw APIError(.badRequest, path.isEmpty ? "the body is not valid JSON" : "field \(path) is invalid: \(ctx.debugDescription)",
                           field: path.isEmpty ? nil : path)
        } catch {
            throw APIError(.badRequest, "the body is not valid JSON")
        }
    }

    /// A query parameter, refused when it carries a NUL character (no stored text can hold one) or comes twice with
    /// different values (which one counts would be a guess).
    func query(_ name: String) throws -> String? {
        let values = Set(uri.queryParameters.getAll(name))
        guard let value = values.first else { return nil }
        if values.count > 1 { throw APIError(.badRequest, "\(name) is given more than once", field: name) }
        if value.contains("\0") { throw APIError(.badRequest, "\(name): \(NULText.message)", field: name) }
        return value
    }

    /// The `limit` query parameter: a whole number from 1 to 1000, 100 when absent.
    func limit() throws -> Int {
        guard let text = try query("limit") else { return 100 }
        guard let n = Int(text), (1...1000).contains(n) else {
            throw APIError(.badRequest, "limit is a whole number from 1 to 1000", field: "limit")
        }
        return n
    }

    var bearerToken: String? {
        guard let value = headers[.authorization] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
    }
}

extension RequestContext {
    func param(_ name: String) throws -> String {
        guard let value = parameters.get(name) else { throw APIError(.badRequest, "missing path parameter \(name)") }
        return value
    }
}

func mapStoreError<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as StoreError {
        switch error {
        case .notFound(let m): throw APIError(.notFound, m)
        case .conflict(let m): throw APIError(.conflict, m)
        case .invalid(let m): throw APIError(.unprocessableContent, m)
        }
    }
}

