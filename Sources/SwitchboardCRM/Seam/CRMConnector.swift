import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardStorage

/// Everything generic code needs from one CRM, as one value (decision 0006): a struct of data and `@Sendable`
/// closures built in the CRM's own folder. Generic code iterates `ConnectorRegistry` and never names a CRM.
/// Capabilities a CRM does not have are `nil`.
public struct CRMConnector: Sendable {
    public let kind: CRMKind
    /// The CRM's name as tenants know it, in English and in Russian.
    public var title: String
    public var titleRU: String
    /// Job handlers by job kind (`<kind>.call.ringing`, `<kind>.call.finished`, …).
    public var handlers: [String: any JobHandler]
    /// CORE-6: the caller's personal manager in this CRM.
    public var managerLookup: (any ManagerLookup)?
    /// Reads and checks an integration's settings JSON: the problems a tenant can fix (an unreadable document is one
    /// problem with an empty field: the document itself).
    public var settingsProblems: @Sendable (JSONValue) -> [SettingsProblem]
    /// Runs after an integration of this CRM is saved (subscriptions in the CRM); failures are logged by the caller.
    public var onSave: (@Sendable (Integration) async throws -> Void)?
    /// The connector's own state, for its web routes and cabinet pages in the CRM's folders (opaque to generic code).
    public var context: any Sendable
    /// Addresses the CRM calls (installation, events, clicks); the server registers every connector's.
    public var inbound: [InboundEndpoint] = []
    /// CORE-1 "test": whether the credentials work, in words for the tenant ("portal X, N users, …"); the credential's
    /// status follows.
    public var check: (@Sendable (CRMCredential) async -> (ok: Bool, message: Phrase))? = nil
    /// Addresses a tenant pastes into the CRM for these credentials (an application's handler), by name.
    public var credentialLinks: @Sendable (CRMCredential) -> [String: String] = { _ in [:] }
    /// CORE-3: the CRM's users, for the employee mapping.
    public var users: (@Sendable (CRMCredential) async throws -> [CRMUserSummary])? = nil
    /// The call journal: what this CRM's call jobs keep per call (`crm_entities` kinds) that a manager reads as made,
    /// in the order shown. Kinds not listed are bookkeeping (intents, what the CRM knew) and stay out of the journal.
    public var madeKinds: [MadeKind] = []
    /// The address of a record the CRM's jobs made (a kept kind and the CRM's id), for the journal's links; nil when
    /// the CRM has no page for it.
    public var recordURL: (@Sendable (_ kind: String, _ id: String, CRMCredential) -> String?)? = nil
    /// CORE-16: the CRM's deals reach Raw data → Deals (set with `importDeals`, which adds its job handlers).
    public var deals: DealSpec? = nil
    /// CORE-17: the campaign each virtual number stands for (number → campaign), from an integration's settings
    /// (static call tracking), for the analytics' campaign view.
    public var lineCampaigns: (@Sendable (JSONValue) -> [String: String])? = nil
    /// CORE-15: requests and chats from the tenant's sites (set with `adopt(texts:env:)`).
    public var texts: TextSpec? = nil
    /// CORE-1 "connect": the authorization-code flow, when the CRM connects through an OAuth application.
    public var oauth: OAuthSpec? = nil
    /// Every sentence this CRM's connector can say to a tenant, with sample values (the catalogue test checks that
    /// each has its own code and both languages).
    public var phrases: [Phrase] = []

    /// The CRM's name in both languages, for sentences that name it.
    public var titlePhrase: Phrase { Phrase(code: "crm.\(kind.rawValue)", en: title, ru: titleRU) }

    public init(kind: CRMKind, title: String, titleRU: String, handlers: [String: any JobHandler] = [:],
                managerLookup: (any ManagerLookup)? = nil,
                settingsProblems: @escaping @Sendable (JSONValue) -> [SettingsProblem],
                onSave: (@Sendable (Integration) async throws -> Void)? = nil, context: any Sendable = ()) {
        self.kind = kind
        self.title = title
        self.titleRU = titleRU
        self.handlers = handlers
        self.managerLookup = managerLookup
        self.settingsProblems = settingsProblems
        self.onSave = onSave
        self.context = context
    }

    /// Decodes `Settings` from the integration's JSON and validates it; the seam's usual `settingsProblems`.
    public static func problems<Settings: Decodable & SendableMetatype>(_ type: Settings.Type, validate: @escaping @Sendable (Settings) -> [SettingsProblem])
        -> @Sendable (JSONValue) -> [SettingsProblem] {
        { json in
            do {
                return validate(try JSON.decode(Settings.self, from: JSON.string(json)))
            } catch {
                return [SettingsProblem(field: "", InputProblem.settingsUnreadable(error: "\(error)"))]
            }
        }
    }
}

/// A kind of thing a CRM's call jobs make, as the call journal names it. A `kind` ending in "." stands for every kept
/// kind it begins (`shown.` for each employee a card was shown to), listed once.
public struct MadeKind: Sendable, Equatable {
    public var kind: String
    public var en: String
    public var ru: String

    public init(_ kind: String, en: String, ru: String) {
        self.kind = kind
        self.en = en
        self.ru = ru
    }

    public func matches(_ kept: String) -> Bool { kind.hasSuffix(".") ? kept.hasPrefix(kind) : kept == kind }
}

/// The CRMs this build serves, and the ones a tenant will see announced.
public struct ConnectorRegistry: Sendable {
    public var all: [CRMConnector]
    /// CRMs shown in the cabinet as coming, not served yet: (kind, English title, Russian title).
    public var planned: [(kind: CRMKind, title: String, titleRU: String)]

    public init(all: [CRMConnector], planned: [(kind: CRMKind, title: String, titleRU: String)] = []) {
        self.all = all
        self.planned = planned
    }

    public subscript(kind: CRMKind) -> CRMConnector? { all.first { $0.kind == kind } }

    public var kinds: [CRMKind] { all.map(\.kind) }

    /// Every connector's job handlers, by job kind.
    public var handlers: [String: any JobHandler] {
        all.reduce(into: [:]) { out, c in out.merge(c.handlers) { first, _ in first } }
    }

    /// Every connector's personal-manager lookup, by CRM.
    public var lookups: [CRMKind: any ManagerLookup] {
        all.reduce(into: [:]) { out, c in if let l = c.managerLookup { out[c.kind] = l } }
    }
}
