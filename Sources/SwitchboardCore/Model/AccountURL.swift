import Foundation

/// CORE-1: a CRM account address typed with or without protocol, normalised to `https://host[:port]` and checked
/// against the installation's `OutboundPolicy` (the account's token is sent there).
public enum AccountURL {
    public enum Problem: Error, Equatable, CustomStringConvertible, PhraseCatalog {
        case empty
        case malformed(String)
        case insecure(String)
        /// The outbound policy refuses the address; the reason says why.
        case refused(OutboundPolicy.Problem)

        public var description: String { phrase.en }

        public var phrase: Phrase {
            switch self {
            case .empty: Phrase(code: "account.empty", en: "the account address is required", ru: "укажите адрес аккаунта")
            case .malformed(let s):
                Phrase(code: "account.malformed", en: "\"\(s)\" is not an account address such as https://account.example.com",
                       ru: "«\(s)» — не адрес аккаунта (пример: https://account.example.com)")
            case .insecure(let s): OutboundPolicy.Problem.insecure(s).phrase
            case .refused(let reason): reason.phrase
            }
        }

        public static var samples: [Problem] { [.empty, .malformed("x")] }
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
        guard c.user == nil, c.password == nil else { throw .refused(.userinfo(input)) }
        do {
            _ = try policy.check(normalized)
        } catch {
            if case .insecure = error { throw .insecure(input) }
            throw .refused(error)
        }
        return normalized
    }

    /// Whether the host is this machine by its spelling (`127.0.0.0/8`, `::1`, `localhost`), parsed, not prefix-matched.
    public static func isLoopback(_ host: String) -> Bool {
        OutboundPolicy.isLoopback(host: host)
    }
}
