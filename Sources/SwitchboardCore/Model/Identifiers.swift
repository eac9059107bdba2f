import Foundation

public enum Identifier {
    /// A new random identifier with a short prefix telling what it names (`ten_…`, `cred_…`).
    public static func make(_ prefix: String) -> String {
        var out = prefix + "_"
        appendHex(UInt64.random(in: 0...UInt64.max) >> 24, digits: 10, to: &out)
        appendHex(UInt64.random(in: 0...UInt64.max) >> 24, digits: 10, to: &out)
        return out
    }

    /// A new identifier that sorts by creation time (`call_` + 11 hex digits of milliseconds since 1970 + 16 random
    /// hex digits), for rows written at a high rate: consecutive ids land on the same index pages, so a batch of new
    /// rows dirties a few pages instead of one page per row. 64 random bits keep ids made in the same millisecond
    /// apart.
    public static func ordered(_ prefix: String, at date: Date = Date()) -> String {
        var out = prefix + "_"
        appendHex(UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded())), digits: 11, to: &out)
        appendHex(UInt64.random(in: 0...UInt64.max), digits: 16, to: &out)
        return out
    }

    private static let hexDigits = Array("0123456789abcdef")

    /// The low `digits` hex digits of `value`, most significant first.
    private static func appendHex(_ value: UInt64, digits: Int, to out: inout String) {
        for i in stride(from: digits - 1, through: 0, by: -1) {
            out.append(hexDigits[Int((value >> UInt64(i * 4)) & 0xF)])
        }
    }
}
