/// The languages a tenant reads Switchboard in.
public enum Language: String, Sendable, CaseIterable, Codable {
    case ru, en
}

/// A sentence a tenant reads (a journal note, a failure's reason, a credential's state, a settings problem), in both
/// languages, written beside the decision that produces it. `code` names the sentence (not its parameters), so the API
/// and the tests can tell sentences apart without reading either language; `en` is also what logs and the API show.
public struct Phrase: Codable, Sendable, Hashable, TenantReadable {
    public var code: String
    public var en: String
    public var ru: String

    public init(code: String, en: String, ru: String) {
        self.code = code
        self.en = en
        self.ru = ru
    }

    public func text(_ language: Language) -> String { language == .ru ? ru : en }

    public var phrase: Phrase { self }

    /// Several phrases read as one, joined by `separator` in both languages (the code lists the parts' codes).
    public static func joined(_ parts: [Phrase], separator: String = "; ") -> Phrase {
        Phrase(code: parts.map(\.code).joined(separator: "+"), en: parts.map(\.en).joined(separator: separator),
               ru: parts.map(\.ru).joined(separator: separator))
    }
}

/// Something that has its own tenant-readable text.
public protocol TenantReadable: Sendable {
    var phrase: Phrase { get }
}

/// A producer of phrases whose every sentence can be shown with sample values, so the catalogue test can check that
/// each one has its own code and both languages.
public protocol PhraseCatalog: TenantReadable {
    static var samples: [Self] { get }
}

extension PhraseCatalog {
    public static var phrases: [Phrase] { samples.map(\.phrase) }
}

/// A CRM credential's state, as `crm_credentials.status` stores it.
public enum CredentialStatus: String, Sendable, CaseIterable, PhraseCatalog {
    case unchecked, ok, failed
    /// Access was revoked or expired for good: the tenant must connect the account again.
    case reconnect

    public var phrase: Phrase {
        switch self {
        case .unchecked: Phrase(code: "credential.unchecked", en: "unchecked", ru: "не проверено")
        case .ok: Phrase(code: "credential.ok", en: "ok", ru: "работает")
        case .failed: Phrase(code: "credential.failed", en: "failed", ru: "ошибка")
        case .reconnect: Phrase(code: "credential.reconnect", en: "reconnect", ru: "нужно переподключить")
        }
    }

    public static var samples: [CredentialStatus] { allCases }
}
