import Foundation

/// MoySklad's wire details the sandbox shares between the JSON API and the Phone API: gzip bodies, the
/// `yyyy-MM-dd HH:mm:ss[.SSS]` Moscow-time dates and the `filter=` syntax.
enum MoySkladWire {
    // MARK: gzip

    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    /// A valid gzip member holding `bytes` in stored (uncompressed) deflate blocks: any gzip reader accepts it, and the
    /// sandbox needs no zlib.
    static func gzip(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
        var offset = 0
        repeat {
            let n = min(65_535, bytes.count - offset)
            let final: UInt8 = offset + n >= bytes.count ? 1 : 0
            out.append(final)
            out += [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += bytes[offset..<offset + n]
            offset += n
        } while offset < bytes.count
        let crc = crc32(bytes), size = UInt32(truncatingIfNeeded: bytes.count)
        for v in [crc, size] { out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }
        return out
    }

    // MARK: dates

    /// MoySklad's times are Moscow time (UTC+3 all year since 2014).
    static let moscow = TimeZone(secondsFromGMT: 3 * 3600)!

    static func formatter(_ format: String) -> DateFormatter {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = moscow
        f.dateFormat = format
        return f
    }

    /// `2016-08-23 15:21:09.000`, the form responses carry.
    static func format(_ date: Date) -> String { formatter("yyyy-MM-dd HH:mm:ss.SSS").string(from: date) }

    /// Parses `ГГГГ-ММ-ДД ЧЧ:мм:сс` or `ГГГГ-ММ-ДД ЧЧ:мм:сс.ммм` (Moscow time); nil for anything else.
    static func parse(_ text: String) -> Date? {
        let withMillis = text.count == 23, plain = text.count == 19
        guard withMillis || plain else { return nil }
        return formatter(withMillis ? "yyyy-MM-dd HH:mm:ss.SSS" : "yyyy-MM-dd HH:mm:ss").date(from: text)
    }

    // MARK: filter

    struct Condition: Equatable {
        var field: String
        var op: String
        var value: String
    }

    static let operators = ["!=", ">=", "<=", "~=", "=~", "=", ">", "<", "~"]

    /// Splits `a=1;b~x` into conditions; `\;` is a literal semicolon. Nil when a part has no operator.
    static func conditions(_ filter: String) -> [Condition]? {
        var parts: [String] = [], current = ""
        var chars = Array(filter)[...]
        while let c = chars.popFirst() {
            if c == "\\", chars.first == ";" {
                current.append(";")
                chars = chars.dropFirst()
            } else if c == ";" {
                parts.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        parts.append(current)
        var out: [Condition] = []
        for part in parts where !part.isEmpty {
            guard let i = part.firstIndex(where: { "=!<>~".contains($0) }) else { return nil }
            let rest = part[i...]
            guard let op = operators.first(where: { rest.hasPrefix($0) }) else { return nil }
            out.append(Condition(field: String(part[..<i]), op: op, value: String(rest.dropFirst(op.count))))
        }
        return out
    }

    /// The id at the end of a reference's href (filters on references take an href).
    static func lastComponent(_ s: String) -> String {
        s.split(separator: "/").last.map(String.init) ?? s
    }

    /// Evaluates conditions against an entity's filterable fields: `=` on one field are OR'ed, everything else AND'ed;
    /// `~`, `~=`, `=~` are case-insensitive contains, prefix and suffix; an empty value tests for no value.
    static func matches(_ conditions: [Condition], _ fields: [String: String?]) -> Bool {
        let byField = Dictionary(grouping: conditions, by: \.field)
        for (field, conds) in byField {
            let value = fields[field] ?? nil
            let equals = conds.filter { $0.op == "=" }
            if !equals.isEmpty && !equals.contains(where: { test($0, value) }) { return false }
            for c in conds where c.op != "=" && !test(c, value) { return false }
        }
        return true
    }

    static func test(_ c: Condition, _ value: String?) -> Bool {
        let v = value ?? ""
        let wanted = c.value.contains("/") ? lastComponent(c.value) : c.value
        switch c.op {
        case "=": return wanted.isEmpty ? v.isEmpty : v == wanted
        case "!=": return wanted.isEmpty ? !v.isEmpty : v != wanted
        case "~": return v.lowercased().contains(wanted.lowercased())
        case "~=": return v.lowercased().hasPrefix(wanted.lowercased())
        case "=~": return v.lowercased().hasSuffix(wanted.lowercased())
        case ">": return v > wanted
        case "<": return v < wanted
        case ">=": return v >= wanted
        default: return v <= wanted
        }
    }
}
