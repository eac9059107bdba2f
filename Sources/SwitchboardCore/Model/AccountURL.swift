import Foundation

/// CORE-1: a CRM account address typed with or without protocol, normalised to `https://host[:port]` and checked
/// against the installation's `OutboundPolicy` (the account's token is sent there).
public enum AccountURL {
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case empty
        case malformed(String)
        case insecure(String)
        /// The outbound policy refuses the address; the reason says why.
        case refused(String)

        public var description: String {
            switch self {
            case .empty: return "the account address is required"
            case .malformed(let s): return "\"\(s)\" is not an account address such as https://account.example.com"
            case .insecure(let s): return "\(s) must use https (http is accepted only on this machine's loopback addresses)"
            case .refused(let reason): return reason
            }
        }
    }

    public static func normalize(_ input: String, policy: OutboundPolicy) throws(Problem) -> String {
        var text = input.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw .empty }
        if !text.contains("://") { text = "https://" + text }
        guard let c = URLComponents(string: text), let scheme = c.scheme?.lowercased(),
              let host = c.host?.lowercased(), !host.isEmpty,
              host.contains(".") || IPAddress(host) != nil || OutboundPolicy.isLocalhostName(host),
              scheme == "https" || scheme == "http" else {
            throw .malformed(input)
        }
        let port = c.port.map { ":\($0)" } ?? ""
        let normalized = "\(scheme)://\(host)\(port)"
        guard c.user == nil, c.password == nil else { throw .refused(OutboundPolicy.Problem.userinfo(input).description) }
        do {
            _ = try policy.check(normalized)
        } catch {
            if case .insecure = error { throw .insecure(input) }
            throw .refused(error.description)
        }
        return normalized
    }

    /// Whether the host is this machine by its spelling (`127.0.0.0/8`, `::1`, `localhost`), parsed, not prefix-matched.
    public static func isLoopback(_ host: String) -> Bool {
        OutboundPolicy.isLoopback(host: host)
    }
}
