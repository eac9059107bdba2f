import Foundation

/// NUL characters in what a client sends. PostgreSQL cannot store them in text and SQLite cuts the text at the first
/// one, so text with a NUL is refused where it comes in, the same on both stores.
public enum NULText {
    public static let message = "text must not contain NUL characters (\\u0000)"

    /// Whether a JSON text has a string with a NUL: the escape `\u0000` (a raw NUL is not JSON at all).
    public static func inJSON(_ bytes: [UInt8]) -> Bool {
        var i = 0
        let zero = UInt8(ascii: "0")
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "\\") else { i += 1; continue }
            if i + 5 < bytes.count, bytes[i + 1] == UInt8(ascii: "u"),
               bytes[i + 2] == zero, bytes[i + 3] == zero, bytes[i + 4] == zero, bytes[i + 5] == zero {
                return true
            }
            i += 2  // an escape's two characters: `\\u` is a backslash, then a plain `u`
        }
        return false
    }

    /// Why a JSON body is refused before it is decoded: a NUL in a string, or an encoding other than UTF-8 (JSON in
    /// UTF-16 or UTF-32 always has zero bytes, as does no UTF-8 JSON).
    public static func problem(json bytes: [UInt8]) -> String? {
        if bytes.contains(0) { return "the body is not JSON in UTF-8" }
        return inJSON(bytes) ? message : nil
    }

    public static func inFields(_ fields: [String: String]) -> Bool {
        fields.contains { $0.key.contains("\0") || $0.value.contains("\0") }
    }
}
