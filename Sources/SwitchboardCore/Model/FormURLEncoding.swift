import Foundation

/// `application/x-www-form-urlencoded`: what PBXs post, what browsers submit, what amoCRM's webhooks send.
public enum FormURLEncoding {
    /// Fields of a body or query; `+` is a space; a repeated key keeps its last value.
    /// The form is split on its bytes (`&`, then the first `=`), as the format is defined.
    public static func decode(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "&") { end += 1 }
            if end > start {
                var equals = start
                while equals < end, bytes[equals] != UInt8(ascii: "=") { equals += 1 }
                out[unescape(bytes[start..<equals])] = equals < end ? unescape(bytes[(equals + 1)..<end]) : ""
            }
            start = end + 1
        }
        return out
    }

    /// Fields in key order, each percent-encoded.
    public static func encode(_ fields: [String: String]) -> String {
        fields.sorted { $0.key < $1.key }.map { "\(escape($0.key))=\(escape($0.value))" }.joined(separator: "&")
    }

    /// Every byte but ASCII letters, digits and `-._~` as `%XX` of its UTF-8.
    public static func escape(_ s: String) -> String {
        if s.utf8.allSatisfy(isUnreserved) { return s }
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count * 3)
        for c in s.utf8 {
            if isUnreserved(c) {
                out.append(c)
            } else {
                out += [UInt8(ascii: "%"), digits[Int(c >> 4)], digits[Int(c & 0x0f)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `+` → space and `%XX` → byte, as UTF-8; a malformed escape is kept as it was written.
    static func unescape(_ utf8: ArraySlice<UInt8>) -> String {
        guard utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else {
            return String(decoding: utf8, as: UTF8.self)
        }
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var i = utf8.startIndex
        while i != utf8.endIndex {
            let c = utf8[i]
            if c == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if c == UInt8(ascii: "%"), let j = utf8.index(i, offsetBy: 2, limitedBy: utf8.index(before: utf8.endIndex)),
                      let hi = hex(utf8[utf8.index(after: i)]), let lo = hex(utf8[j]) {
                out.append(hi << 4 | lo)
                i = j
            } else {
                out.append(c)
            }
            i = utf8.index(after: i)
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isUnreserved(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
