import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardCore

/// SplitMix64: a small generator whose whole sequence follows from its seed, so a failing case can be replayed.
struct FuzzRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    /// The generator of case `index` of a run: each case is reproducible on its own.
    init(seed: UInt64, case index: Int) {
        var mixer = FuzzRandom(seed: seed ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03))
        state = mixer.next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
}

/// JSON as a fuzzer needs it: keys in order and repeatable, numbers kept as their text (so `1e400` and
/// `9223372036854775808` reach the server as written), and strings that may carry bytes that are not UTF-8.
indirect enum FJ {
    case lit(String)
    case str(String)
    case bytes([UInt8])
    case arr([FJ])
    case obj([(String, FJ)])

    static func int(_ n: Int) -> FJ { .lit(String(n)) }
    static func bool(_ b: Bool) -> FJ { .lit(b ? "true" : "false") }
    static let null = FJ.lit("null")

    var serialized: [UInt8] {
        var out: [UInt8] = []
        write(&out)
        return out
    }

    func write(_ out: inout [UInt8]) {
        switch self {
        case .lit(let s): out += Array(s.utf8)
        case .str(let s): FJ.quote(Array(s.utf8), &out)
        case .bytes(let b): out.append(UInt8(ascii: "\"")); out += b; out.append(UInt8(ascii: "\""))
        case .arr(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(&out)
            }
            out.append(UInt8(ascii: "]"))
        case .obj(let entries):
            out.append(UInt8(ascii: "{"))
            for (i, (k, v)) in entries.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                FJ.quote(Array(k.utf8), &out)
                out.append(UInt8(ascii: ":"))
                v.write(&out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func quote(_ s: [UInt8], _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let hex = Array("0123456789abcdef".utf8)
        for c in s {
            switch c {
            case UInt8(ascii: "\""): out += Array("\\\"".utf8)
            case UInt8(ascii: "\\"): out += Array("\\\\".utf8)
            case 0..<0x20: out += Array("\\u00".utf8) + [hex[Int(c >> 4)], hex[Int(c & 0xF)]]
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Every path to a value inside, for mutations that pick one.
    var paths: [[PathStep]] {
        var out: [[PathStep]] = []
        func walk(_ v: FJ, _ prefix: [PathStep]) {
            switch v {
            case .obj(let entries):
                for (i, (_, child)) in entries.enumerated() {
                    out.append(prefix + [.entry(i)])
                    walk(child, prefix + [.entry(i)])
                }
            case .arr(let items):
                for (i, child) in items.enumerated() {
                    out.append(prefix + [.item(i)])
                    walk(child, prefix + [.item(i)])
                }
            default: break
            }
        }
        walk(self, [])
        return out
    }

    enum PathStep { case entry(Int), item(Int) }

    /// Changes the value at `path` (or the container holding it, for `parent`).
    func updating(_ path: [PathStep], _ change: (FJ) -> FJ?) -> FJ {
        guard let first = path.first else { return change(self) ?? .null }
        let rest = Array(path.dropFirst())
        switch (self, first) {
        case (.obj(var entries), .entry(let i)) where i < entries.count:
            if rest.isEmpty {
                if let new = change(entries[i].1) { entries[i].1 = new } else { entries.remove(at: i) }
            } else {
                entries[i].1 = entries[i].1.updating(rest, change)
            }
            return .obj(entries)
        case (.arr(var items), .item(let i)) where i < items.count:
            if rest.isEmpty {
                if let new = change(items[i]) { items[i] = new } else { items.remove(at: i) }
            } else {
                items[i] = items[i].updating(rest, change)
            }
            return .arr(items)
        default:
            return self
        }
    }

    func value(at path: [PathStep]) -> FJ? {
        guard let first = path.first else { return self }
        switch (self, first) {
        case (.obj(let entries), .entry(let i)) where i < entries.count: return entries[i].1.value(at: Array(path.dropFirst()))
        case (.arr(let items), .item(let i)) where i < items.count: return items[i].value(at: Array(path.dropFirst()))
        default: return nil
        }
    }

    func key(at path: [PathStep]) -> String? {
        guard case .entry(let i)? = path.last, case .obj(let entries)? = value(at: Array(path.dropLast())),
              i < entries.count else { return nil }
        return entries[i].0
    }
}

/// One request as sent: everything a failure report needs to replay it.
struct FuzzRequest: Sendable {
    var method: HTTPMethod
    /// Path and query, already percent-encoded.
    var target: String
    var headers: [(String, String)]
    var body: [UInt8]?

    var summary: String {
        var s = "\(method.rawValue) \(target)"
        for (k, v) in headers { s += "\n\(k): \(FuzzText.shown(Array(v.utf8), limit: 120))" }
        if let body { s += "\n\n" + FuzzText.shown(body, limit: 600) + (body.count > 600 ? " … (\(body.count) bytes)" : "") }
        return s
    }
}

struct FuzzReply: Sendable {
    var status: Int
    var contentType: String?
    var location: String?
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The reason a refusal gives: ITooLabs' `{"error": "..."}`, Switchboard's `{"error": {"message": "..."}}`,
    /// or the text of an HTML page.
    var reason: String? {
        if contentType?.contains("json") == true {
            guard let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
            if let s = json["error"] as? String, !s.isEmpty { return s }
            if let e = json["error"] as? [String: Any], let m = e["message"] as? String, !m.isEmpty { return m }
            // A credential test's documented refusal (CheckResult): `ok` false with the CRM's reason.
            if json["ok"] as? Bool == false, let m = json["message"] as? String, !m.isEmpty { return m }
            return nil
        }
        if contentType?.contains("html") == true {
            return text.isEmpty ? nil : text
        }
        return nil
    }
}

enum FuzzText {
    /// Bytes as readable text: printable ASCII as is, everything else escaped.
    static func shown(_ bytes: [UInt8], limit: Int) -> String {
        var out = ""
        for b in bytes.prefix(limit) {
            switch b {
            case 0x20..<0x7F where b != UInt8(ascii: "\\"): out.append(Character(Unicode.Scalar(b)))
            case UInt8(ascii: "\\"): out += "\\\\"
            case 0x0A: out += "\\n"
            default: out += String(format: "\\x%02X", b)
            }
        }
        return out
    }
}

/// Sends fuzz requests over real sockets.
struct FuzzClient: Sendable {
    let base: String
    let http: HTTPClient

    /// A client that shows redirects instead of following them (the cabinet answers forms with 303).
    static func makeHTTP() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func send(_ r: FuzzRequest) async throws -> FuzzReply {
        var request = HTTPClientRequest(url: base + r.target)
        request.method = r.method
        for (k, v) in r.headers { request.headers.add(name: k, value: v) }
        if let body = r.body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await http.execute(request, timeout: .seconds(60))
        var buffer = try await response.body.collect(upTo: 16 << 20)
        return FuzzReply(status: Int(response.status.code), contentType: response.headers.first(name: "content-type"),
                         location: response.headers.first(name: "location"),
                         body: buffer.readBytes(length: buffer.readableBytes) ?? [])
    }
}

/// Percent-encodes a path segment or a query value byte by byte.
func fuzzEscape(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    for c in bytes {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            out.append(c)
        default:
            out += [UInt8(ascii: "%"), digits[Int(c >> 4)], digits[Int(c & 0xF)]]
        }
    }
    return String(decoding: out, as: UTF8.self)
}

func fuzzEscape(_ s: String) -> String { fuzzEscape(Array(s.utf8)) }

/// Form fields in order, repeatable, with values that may be any bytes.
func formBody(_ fields: [(String, [UInt8])]) -> [UInt8] {
    Array(fields.map { "\(fuzzEscape($0.0))=\(fuzzEscape($0.1))" }.joined(separator: "&").utf8)
}
