import Foundation

/// A JSON value as Megaplan's API v3 sends and receives it: entities are objects with a `contentType`, ids are strings.
/// Decoded with `JSONDecoder` (booleans and numbers stay apart on every platform) and encoded with sorted keys.
public enum MegaplanJSON: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([MegaplanJSON])
    case object([String: MegaplanJSON])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null } else if let b = try? c.decode(Bool.self) { self = .bool(b) } else if let i = try? c.decode(Int.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) { self = .double(d) } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([MegaplanJSON].self) { self = .array(a) } else {
            self = .object(try c.decode([String: MegaplanJSON].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case let .bool(b): try c.encode(b)
        case let .int(i): try c.encode(i)
        case let .double(d): try c.encode(d)
        case let .string(s): try c.encode(s)
        case let .array(a): try c.encode(a)
        case let .object(o): try c.encode(o)
        }
    }

    public static func parse(_ data: Data) -> MegaplanJSON? { try? JSONDecoder().decode(MegaplanJSON.self, from: data) }

    public var data: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("null".utf8)
    }

    public subscript(key: String) -> MegaplanJSON? {
        if case let .object(o) = self { return o[key] }
        return nil
    }

    public var object: [String: MegaplanJSON]? { if case let .object(o) = self { return o } else { return nil } }
    public var array: [MegaplanJSON]? { if case let .array(a) = self { return a } else { return nil } }
    public var bool: Bool? { if case let .bool(b) = self { return b } else { return nil } }
    public var isNull: Bool { self == .null }

    /// Strings as they are; integral numbers as their digits (Megaplan accepts ids either way).
    public var string: String? {
        switch self {
        case let .string(s): s
        case let .int(i): String(i)
        default: nil
        }
    }

    public var int: Int? {
        switch self {
        case let .int(i): i
        case let .double(d): Int(exactly: d)
        case let .string(s): Int(s)
        default: nil
        }
    }
}

extension MegaplanJSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: MegaplanJSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, MegaplanJSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}
