import Foundation

/// CORE-1: a CRM account address typed with or without protocol, normalised to `https://host[:port]`.
public enum AccountURL {
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case empty
        case malformed(String)
        case insecure(String)

        public var description: String {
            switch self {
            case .empty: return "the account address is required"
            case .malformed(let s): return "\"\(s)\" is not an account address such as https://example.amocrm.ru"
            case .insecure(let s): return "\(s) must use https (http is accepted only on this machine's loopback addresses)"
            }
        }
    }

    public static func normalize(_ input: String) throws(Problem) -> String {
        var text = input.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw .empty }
        if !text.contains("://") { text = "https://" + text }
        guard let c = URLComponents(string: text), let scheme = c.scheme?.lowercased(),
              let host = c.host?.lowercased(), !host.isEmpty, host.contains(".") || isLoopback(host),
              scheme == "https" || scheme == "http" else {
            throw .malformed(input)
        }
        if scheme == "http" && !isLoopback(host) { throw .insecure(input) }
        let port = c.port.map { ":\($0)" } ?? ""
        return "\(scheme)://\(host)\(port)"
    }

    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}
