import Foundation

/// The part of text-communication rules every CRM shares (CORE-15, MP-10, MS-3), read from the `texts` block of an
/// integration's settings JSON. What a CRM makes beyond it (a pipeline, an entity type) it reads from the same block
/// with its own type. Every field has a default: a missing block means "send nothing".
public struct TextRules: Codable, Sendable, Equatable {
    /// Web requests (заявки).
    public struct Requests: Codable, Sendable, Equatable {
        /// Send requests to this CRM at all.
        public var enabled: Bool = false
        /// Only requests from these sites (by name or id); empty: every site.
        public var sites: [String] = []
        /// Only requests of these types; empty: every type.
        public var types: [String] = []
        /// The CRM user made responsible for what a request creates (required when enabled).
        public var defaultResponsible: String?
        /// A contact (client, counterparty) for the sender, unless the CRM knows them by phone or e-mail.
        public var createContact: Bool = true
        /// A lead, deal or order for the request, as the CRM's guide says.
        public var createDeal: Bool = true
        /// A task for the responsible user to handle the request.
        public var createTask: Bool = false

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Requests()
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? d.enabled
            sites = try c.decodeIfPresent([String].self, forKey: .sites) ?? d.sites
            types = try c.decodeIfPresent([String].self, forKey: .types) ?? d.types
            defaultResponsible = try c.user(.defaultResponsible)
            createContact = try c.decodeIfPresent(Bool.self, forKey: .createContact) ?? d.createContact
            createDeal = try c.decodeIfPresent(Bool.self, forKey: .createDeal) ?? d.createDeal
            createTask = try c.decodeIfPresent(Bool.self, forKey: .createTask) ?? d.createTask
        }
    }

    /// When a chat makes its records (CORE-15: chat started, chat finished, tag set).
    public enum ChatTrigger: String, Codable, Sendable, CaseIterable {
        case started, finished, tagged

        public var event: TextEvent {
            switch self {
            case .started: return .chatStarted
            case .finished: return .chatFinished
            case .tagged: return .chatTagged
            }
        }
    }

    /// Chats.
    public struct Chats: Codable, Sendable, Equatable {
        public var enabled: Bool = false
        /// Only chats from these sites; empty: every site.
        public var sites: [String] = []
        /// Only chats of these channels; empty: every channel.
        public var channels: [String] = []
        /// Only chats with one of these tags; empty: every chat.
        public var tags: [String] = []
        public var defaultResponsible: String?
        /// The moment records are made; the transcript is always written when the chat finishes.
        public var trigger: ChatTrigger = .finished
        /// Other moments a CRM's own rules make records at (Megaplan chooses the moment per record: client, todo,
        /// process); the CRM's form writes them beside its own options.
        public var alsoAt: [ChatTrigger] = []
        public var createContact: Bool = true
        /// A new contact for a chat whose visitor left no phone or e-mail (each such chat makes a new one).
        public var contactWithoutDetails: Bool = false
        public var createDeal: Bool = false
        public var createTask: Bool = false
        /// Write the transcript to the client when the chat finishes.
        public var transcript: Bool = true

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Chats()
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? d.enabled
            sites = try c.decodeIfPresent([String].self, forKey: .sites) ?? d.sites
            channels = try c.decodeIfPresent([String].self, forKey: .channels) ?? d.channels
            tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? d.tags
            defaultResponsible = try c.user(.defaultResponsible)
            trigger = try c.decodeIfPresent(ChatTrigger.self, forKey: .trigger) ?? d.trigger
            alsoAt = try c.decodeIfPresent([ChatTrigger].self, forKey: .alsoAt) ?? d.alsoAt
            createContact = try c.decodeIfPresent(Bool.self, forKey: .createContact) ?? d.createContact
            contactWithoutDetails = try c.decodeIfPresent(Bool.self, forKey: .contactWithoutDetails) ?? d.contactWithoutDetails
            createDeal = try c.decodeIfPresent(Bool.self, forKey: .createDeal) ?? d.createDeal
            createTask = try c.decodeIfPresent(Bool.self, forKey: .createTask) ?? d.createTask
            transcript = try c.decodeIfPresent(Bool.self, forKey: .transcript) ?? d.transcript
        }
    }

    public var requests = Requests()
    public var chats = Chats()

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        requests = try c.decodeIfPresent(Requests.self, forKey: .requests) ?? Requests()
        chats = try c.decodeIfPresent(Chats.self, forKey: .chats) ?? Chats()
    }

    /// The rules in an integration's settings (`texts`); the defaults when there is no block. Throws when the block is
    /// there but cannot be read.
    public static func of(settings: JSONValue) throws -> TextRules {
        guard let block = settings["texts"] else { return TextRules() }
        return try JSON.decode(TextRules.self, from: JSON.string(block))
    }

    /// The events of this communication these rules act on (empty: the CRM is not told). A chat's transcript is
    /// written when it finishes, so a chat with a transcript to write wants `chat.finished` whatever its trigger.
    public func wants(_ text: TextCommunication, siteId: String, at event: TextEvent) -> Bool {
        switch text.kind {
        case .request:
            guard event == .requestReceived, requests.enabled else { return false }
            return Self.matches(requests.sites, [text.site, siteId]) &&
                Self.matches(requests.types, [text.requestType ?? ""])
        case .chat:
            guard chats.enabled, Self.matches(chats.sites, [text.site, siteId]),
                  Self.matches(chats.channels, [text.channel ?? ""]) else { return false }
            // A tag filter: the chat must carry one of the tags by the time it acts.
            let tagged = chats.tags.isEmpty || !Set(chats.tags.map { $0.lowercased() }).isDisjoint(with: text.tags.map { $0.lowercased() })
            if event == chats.trigger.event || chats.alsoAt.contains(where: { $0.event == event }) { return tagged }
            return event == .chatFinished && chats.transcript && tagged
        }
    }

    /// Why these rules do not act on a communication at an event, for the journal (nil when they do).
    public func skipReason(_ text: TextCommunication, siteId: String, at event: TextEvent) -> TextSkip? {
        wants(text, siteId: siteId, at: event) ? nil : .filtered(kind: text.kind, site: text.site, event: event.rawValue)
    }

    static func matches(_ allowed: [String], _ values: [String]) -> Bool {
        if allowed.isEmpty { return true }
        let wanted = Set(allowed.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        return values.contains { wanted.contains($0.lowercased()) }
    }

    /// What a tenant must fix in the `texts` block, by field (`texts.requests.defaultResponsible`, …).
    public func problems() -> [SettingsProblem] {
        var out: [SettingsProblem] = []
        if requests.enabled && requests.defaultResponsible == nil {
            out.append(SettingsProblem(field: "texts.requests.defaultResponsible", InputProblem.requestsResponsible))
        }
        if chats.enabled && chats.defaultResponsible == nil {
            out.append(SettingsProblem(field: "texts.chats.defaultResponsible", InputProblem.chatsResponsible))
        }
        return out
    }
}

extension KeyedDecodingContainer {
    /// A CRM user id given as a number or a string (an empty string is none).
    func user(_ key: Key) throws -> String? {
        if let n = try? decodeIfPresent(Int.self, forKey: key) { return String(n) }
        return try decodeIfPresent(String.self, forKey: key).flatMap { $0.isEmpty ? nil : $0 }
    }
}

extension JSONValue {
    /// A settings document written by a form that edits only some blocks, with the blocks it does not know (the text
    /// rules under `texts`, say) kept from `old`: top-level keys of `old` missing here are carried over.
    public func keepingBlocks(of old: JSONValue) -> JSONValue {
        guard case .object(var new) = self, case .object(let before) = old else { return self }
        for (key, value) in before where new[key] == nil { new[key] = value }
        return .object(new)
    }
}

/// Why the text rules leave a request or a chat alone.
public enum TextSkip: PhraseCatalog, Equatable {
    case filtered(kind: TextKind, site: String, event: String)

    public var phrase: Phrase {
        switch self {
        case .filtered(let kind, let site, let event):
            Phrase(code: "texts.filtered",
                   en: "the \(kind.rawValue) from \(site) does not pass this integration's filters (site, type, channel, tags) for \(event)",
                   ru: "\(kind == .request ? "заявка" : "чат") с сайта \(site) не проходит фильтры интеграции (сайт, тип, канал, метки) для события \(event)")
        }
    }

    public static var samples: [TextSkip] { [.filtered(kind: .request, site: "s", event: "e")] }
}
