import Foundation

/// A stored secret is pinned to the address it was entered for. Moving a credential's `baseURL` or a PBX connection's
/// `apiURL` needs the secret again in the same request; otherwise the old secret would follow the new address (a
/// "test" would hand it to whoever runs that host). OAuth tokens cannot be re-entered: they are dropped instead, and
/// the account is connected again.
public enum SecretPinning {
    /// The secret field a request must carry to move the credential to `newURL`, or nil when it may go ahead.
    public static func missingField(_ c: CRMCredential, newURL: String?, secret: CRMSecret?) -> String? {
        guard let newURL, newURL != c.baseURL, c.hasSecret else { return nil }
        switch c.authKind {
        case .oauth:
            return nil
        case .token, .webhook:
            return (secret?.token ?? "").isEmpty ? "token" : nil
        case .password:
            if (secret?.login ?? "").isEmpty { return "login" }
            return (secret?.password ?? "").isEmpty ? "password" : nil
        }
    }

    /// Whether moving the connection to `newURL` needs its API key again.
    public static func apiKeyMissing(_ c: PBXConnection, newURL: String?, apiKey: String?) -> Bool {
        guard let newURL, newURL != (c.apiURL ?? ""), c.hasAPIKey else { return false }
        return (apiKey ?? "").isEmpty
    }

    public static func message(field: String) -> String { SecretMoved(field: field).phrase.en }
}

/// A stored secret's address changed without the secret: the secret field `field` must come again.
public struct SecretMoved: PhraseCatalog, Equatable {
    public var field: String

    public init(field: String) { self.field = field }

    public var phrase: Phrase {
        let ru = ["token": "токен", "apiKey": "ключ API", "password": "пароль", "login": "логин"][field] ?? field
        return Phrase(code: "secret.moved",
                      en: "changing the address requires the \(field) again: a stored secret is sent only to the address it was entered for",
                      ru: "при смене адреса нужно заново ввести \(ru): сохранённый секрет отправляется только на адрес, для которого его ввели")
    }

    public static var samples: [SecretMoved] { [SecretMoved(field: "token")] }
}
