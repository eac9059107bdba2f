import Foundation
@testable import SwitchboardApp
import SwitchboardCore

/// One request and its answer, as a route of Switchboard's router saw them.
struct APIExchange: Sendable {
    var method: String
    /// The route's template as the router writes it: `/api/v1/credentials/{id}`.
    var route: String
    var query: [(name: String, value: String)] = []
    var authorized = false
    var requestContentType: String?
    var requestBody: [UInt8] = []
    var status: Int
    var responseContentType: String?
    var responseBody: [UInt8] = []

    var description: String { "\(method) \(route) → \(status)" }
}

/// The management API's OpenAPI document (the one `/api/v1/openapi.json` serves), read as the contract every
/// exchange the tests make must keep (docs/decisions/0007-api-contract.md):
/// - the route and method are documented, and the status is among the operation's responses;
/// - a response's media type is a documented one, its JSON body matches the schema, and a response documented
///   without content has no body;
/// - a request the route accepted (2xx) matches the documented request body, has the required query parameters,
///   and carried a token when the operation needs one. A refused request may be wrong on purpose: only its answer
///   is checked.
///
/// Response schemas are read as closed: an object schema that lists `properties` lists all of them, unless it gives
/// `additionalProperties`, so a field added to a Swift type and not to the document is caught. Request schemas are
/// read as JSON Schema reads them: a route may ignore what it does not know (fields, query parameters), and may
/// read a media type the document does not list. Query values are not checked: the routes default or clamp what
/// they cannot use (an unknown `crm` filters nothing, `limit=5000` reads 1000). `format` is checked for
/// `date-time` only.
struct OpenAPIContract: Sendable {
    let document: JSONValue
    /// Documented path templates by their shape (every `{name}` written `{}`).
    let pathsByShape: [String: String]

    static let served: OpenAPIContract = {
        do { return try OpenAPIContract(bytes: OpenAPIDocument.bytes) } catch {
            fatalError("the OpenAPI document in Resources cannot be read: \(error)")
        }
    }()

    init(bytes: [UInt8]) throws {
        document = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        var shapes: [String: String] = [:]
        for path in (document["paths"]?.objectValue ?? [:]).keys { shapes[Self.shape(path)] = path }
        pathsByShape = shapes
    }

    static func shape(_ template: String) -> String {
        template.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("{") && $0.hasSuffix("}") ? "{}" : String($0) }
            .joined(separator: "/")
    }

    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// Every documented operation, as `METHOD shape`.
    var operations: Set<String> {
        var result: Set<String> = []
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for method in Self.methods where item[method] != nil { result.insert("\(method.uppercased()) \(Self.shape(path))") }
        }
        return result
    }

    /// What in `exchange` the document does not allow; empty when it keeps the contract.
    func violations(_ exchange: APIExchange) -> [String] {
        guard let path = pathsByShape[Self.shape(exchange.route)], let item = document["paths"]?[path],
              let operation = item[exchange.method.lowercased()] else {
            return ["\(exchange.method) \(exchange.route) is not in the OpenAPI document"]
        }
        var problems: [String] = []
        checkResponse(exchange, operation, &problems)
        if (200..<300).contains(exchange.status) { checkRequest(exchange, item, operation, &problems) }
        return problems.map { "\(exchange.description): \($0)" }
    }

    // MARK: responses

    func checkResponse(_ exchange: APIExchange, _ operation: JSONValue, _ problems: inout [String]) {
        let responses = operation["responses"]?.objectValue ?? [:]
        let code = String(exchange.status)
        guard let documented = responses[code] ?? responses[String(code.prefix(1)) + "XX"] ?? responses["default"] else {
            problems.append("status \(code) is not documented (documented: \(responses.keys.sorted().joined(separator: ", ")))")
            return
        }
        let response = resolve(documented)
        guard let content = response["content"]?.objectValue, !content.isEmpty else {
            if !exchange.responseBody.isEmpty {
                problems.append("the response has a body (\(exchange.responseContentType ?? "no type")), the document none")
            }
            return
        }
        checkContent(body: exchange.responseBody, contentType: exchange.responseContentType, content: content,
                     what: "response", closed: true, &problems)
    }

    // MARK: requests

    func checkRequest(_ exchange: APIExchange, _ item: JSONValue, _ operation: JSONValue, _ problems: inout [String]) {
        if let requestBody = operation["requestBody"].map(resolve) {
            if exchange.requestBody.isEmpty {
                if requestBody["required"] == .bool(true) { problems.append("accepted a request without its required body") }
            } else if let content = requestBody["content"]?.objectValue {
                checkContent(body: exchange.requestBody, contentType: exchange.requestContentType, content: content,
                             what: "request", closed: false, &problems)
            }
        } else if !exchange.requestBody.isEmpty {
            problems.append("accepted a request body the operation does not take")
        }
        var parameters: [String: JSONValue] = [:]
        for p in (item["parameters"]?.arrayValue ?? []) + (operation["parameters"]?.arrayValue ?? []) {
            let p = resolve(p)
            if p["in"]?.stringValue == "query", let name = p["name"]?.stringValue { parameters[name] = p }
        }
        for (name, parameter) in parameters where parameter["required"] == .bool(true) {
            if !exchange.query.contains(where: { $0.name == name }) {
                problems.append("accepted a request without the required query parameter \(name)")
            }
        }
        let security = operation["security"]?.arrayValue ?? document["security"]?.arrayValue ?? []
        let anonymous = security.isEmpty || security.contains { $0.objectValue?.isEmpty == true }
        if !anonymous && !exchange.authorized { problems.append("answered without the bearer token the document requires") }
    }

    // MARK: bodies

    func checkContent(body: [UInt8], contentType: String?, content: [String: JSONValue], what: String, closed: Bool,
                      _ problems: inout [String]) {
        let mediaType = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let mediaType, let media = content[mediaType] else {
            if !closed { return }
            problems.append("the \(what)'s media type \(mediaType ?? "(none)") is not documented "
                            + "(documented: \(content.keys.sorted().joined(separator: ", ")))")
            return
        }
        guard mediaType == "application/json" || mediaType.hasSuffix("+json"), let schema = media["schema"] else { return }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body)) else {
            // A request this reader cannot parse (duplicated keys, numbers past Double) is the route's parser's to judge.
            if closed { problems.append("the \(what) body is not JSON") }
            return
        }
        validate(value, schema, at: what, closed: closed, &problems)
    }

    // MARK: JSON Schema (the subset the document uses)

    func resolve(_ node: JSONValue) -> JSONValue {
        guard let ref = node["$ref"]?.stringValue else { return node }
        guard ref.hasPrefix("#/") else { return node }
        var target: JSONValue? = document
        for part in ref.dropFirst(2).split(separator: "/") { target = target?[String(part)] }
        return target.map(resolve) ?? .null
    }

    func validate(_ value: JSONValue, _ schema: JSONValue, at where_: String, closed: Bool, _ problems: inout [String]) {
        if let ref = schema["$ref"]?.stringValue {
            let target = resolve(schema)
            if target == .null { problems.append("\(where_): unresolvable \(ref)") } else { validate(value, target, at: where_, closed: closed, &problems) }
            return
        }
        if let choices = schema["oneOf"]?.arrayValue {
            let outcomes = choices.map { choice in
                var p: [String] = []
                validate(value, choice, at: where_, closed: closed, &p)
                return p
            }
            let matching = outcomes.filter(\.isEmpty).count
            if matching != 1 {
                let why = outcomes.compactMap(\.first).joined(separator: "; ")
                problems.append("\(where_): matches \(matching) of the \(choices.count) schemas of oneOf, not exactly one (\(why))")
            }
        }
        if let options = schema["enum"]?.arrayValue, !options.contains(value) {
            problems.append("\(where_): \(Self.show(value)) is not one of \(options.map(Self.show).joined(separator: ", "))")
            return
        }
        let types: [String]
        switch schema["type"] {
        case .string(let t): types = [t]
        case .array(let ts): types = ts.compactMap(\.stringValue)
        default: types = []
        }
        if !types.isEmpty && !types.contains(where: { Self.has(value, type: $0) }) {
            problems.append("\(where_): \(Self.show(value)) is not \(types.joined(separator: " or "))")
            return
        }
        switch value {
        case .object(let fields):
            for name in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where fields[name] == nil {
                problems.append("\(where_): the required property \(name) is missing")
            }
            let properties = schema["properties"]?.objectValue
            let additional = schema["additionalProperties"]
            for (name, field) in fields.sorted(by: { $0.key < $1.key }) {
                if let property = properties?[name] {
                    validate(field, property, at: "\(where_).\(name)", closed: closed, &problems)
                } else if let additional, additional != .bool(true) {
                    if additional == .bool(false) {
                        problems.append("\(where_): the property \(name) is not allowed")
                    } else {
                        validate(field, additional, at: "\(where_).\(name)", closed: closed, &problems)
                    }
                } else if closed && properties != nil && additional == nil {
                    problems.append("\(where_): the property \(name) is not in the document")
                }
            }
        case .array(let items):
            if let itemSchema = schema["items"] {
                for (i, item) in items.enumerated() { validate(item, itemSchema, at: "\(where_)[\(i)]", closed: closed, &problems) }
            }
        case .string(let s):
            if let min = schema["minLength"]?.numberValue, Double(s.count) < min {
                problems.append("\(where_): shorter than \(Int(min)) characters")
            }
            if schema["format"]?.stringValue == "date-time", !Self.isDateTime(s) {
                problems.append("\(where_): \(Self.show(value)) is not an RFC 3339 date-time")
            }
        case .number(let n):
            if let min = schema["minimum"]?.numberValue, n < min { problems.append("\(where_): \(n) is below \(min)") }
            if let max = schema["maximum"]?.numberValue, n > max { problems.append("\(where_): \(n) is above \(max)") }
        default:
            break
        }
    }

    static func has(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null),
             ("number", .number): return true
        case ("integer", .number(let n)): return n == n.rounded()
        default: return false
        }
    }

    static func isDateTime(_ s: String) -> Bool {
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return plain.date(from: s) != nil || fractional.date(from: s) != nil
    }

    static func show(_ value: JSONValue) -> String {
        let text = JSON.string(value)
        return text.count > 80 ? String(text.prefix(80)) + "…" : text
    }
}

extension JSONValue {
    var objectValue: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    var numberValue: Double? { if case .number(let n) = self { n } else { nil } }
}
