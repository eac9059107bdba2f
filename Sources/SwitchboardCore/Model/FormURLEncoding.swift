import Foundation

/// `application/x-www-form-urlencoded`: what PBXs post, what browsers submit, what amoCRM's webhooks send.
public enum FormURLEncoding {
    /// Fields of a body or query; `+` is a space; a repeated key keeps its last value.
    public static func decode(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            out[unescape(String(parts[0]))] = parts.count > 1 ? unescape(String(parts[1])) : ""
        }
        return out
    }

    /// Fields in key order, each percent-encoded.
    public static func encode(_ fields: [String: String]) -> String {
        fields.sorted { $0.key < $1.key }.map { "\(escape($0.key))=\(escape($0.value))" }.joined(separator: "&")
    }

    public static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? s
    }

    static func unescape(_ s: String) -> String {
        s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? s
    }

    static let unreserved: CharacterSet = {
        var set = CharacterSet.alphanumerics
        set.insert(charactersIn: "-._~")
        return set
    }()
}
