import Foundation

/// A site of a tenant that sends requests (заявки) and chats to Switchboard: its own forms through the public API,
/// or Switchboard's embeddable form and chat widget. The key is public (it sits in the site's HTML); what protects
/// the site is the list of origins browsers may post from, the per-key rate limit and strict validation.
public struct Site: Codable, Sendable, Equatable {
    public var id: String
    public var tenantId: String
    public var name: String
    /// The key in the site's script tag and in the public API's path.
    public var key: String
    /// Origins (`https://shop.example`) whose pages may post from a browser; empty: any origin.
    public var origins: [String]
    /// Request types the site's forms send (`callback`, `order`, …), shown in the form's type list; empty: free text.
    public var requestTypes: [String]
    public var createdAt: Date

    public init(id: String, tenantId: String, name: String, key: String, origins: [String], requestTypes: [String],
                createdAt: Date) {
        self.id = id
        self.tenantId = tenantId
        self.name = name
        self.key = key
        self.origins = origins
        self.requestTypes = requestTypes
        self.createdAt = createdAt
    }
}

/// What a text communication is: a web request (a form sent once) or a chat (a session of messages).
public enum TextKind: String, Codable, Sendable, CaseIterable {
    case request, chat
}

/// The moments of a text communication a CRM can act on (CORE-15: chats trigger on start, finish or a tag).
public enum TextEvent: String, Codable, Sendable, CaseIterable {
    case requestReceived = "request.received"
    case chatStarted = "chat.started"
    case chatFinished = "chat.finished"
    case chatTagged = "chat.tagged"
}

/// One line of a chat's transcript.
public struct ChatMessage: Codable, Sendable, Equatable {
    public enum Author: String, Codable, Sendable { case visitor, operator_ = "operator", system }
    public var at: Date
    public var author: Author
    /// The operator's name for operator lines.
    public var name: String?
    public var text: String

    public init(at: Date, author: Author, name: String? = nil, text: String) {
        self.at = at
        self.author = author
        self.name = name
        self.text = text
    }
}

/// A request or a chat as Switchboard keeps it (table `text_events`), neutral to every CRM.
public struct TextCommunication: Codable, Sendable, Equatable {
    public var id: String
    public var tenantId: String
    public var siteId: String
    /// The site's name when it was received (the filter's "site").
    public var site: String
    public var kind: TextKind
    /// The sender's own id of the communication (a form submission's id): the same id twice is one communication.
    public var externalId: String?
    /// A request's type (`callback`, `order`, …); for chats nil.
    public var requestType: String?
    /// A chat's channel (`site`, `telegram`, …); for requests nil.
    public var channel: String?
    public var name: String?
    public var phone: String?
    public var email: String?
    public var message: String?
    /// `utm_source`, `utm_medium`, `utm_campaign`, `utm_content`, `utm_term` as the page had them.
    public var utm: [String: String]
    /// The page the visitor was on.
    public var page: String?
    public var tags: [String]
    public var transcript: [ChatMessage]
    /// `open` for a chat in progress, `finished` after it ended; requests are `received`.
    public var state: String
    public var createdAt: Date
    public var finishedAt: Date?

    public init(id: String, tenantId: String, siteId: String, site: String, kind: TextKind, externalId: String? = nil,
                requestType: String? = nil, channel: String? = nil, name: String? = nil, phone: String? = nil,
                email: String? = nil, message: String? = nil, utm: [String: String] = [:], page: String? = nil,
                tags: [String] = [], transcript: [ChatMessage] = [], state: String, createdAt: Date, finishedAt: Date? = nil) {
        self.id = id
        self.tenantId = tenantId
        self.siteId = siteId
        self.site = site
        self.kind = kind
        self.externalId = externalId
        self.requestType = requestType
        self.channel = channel
        self.name = name
        self.phone = phone
        self.email = email
        self.message = message
        self.utm = utm
        self.page = page
        self.tags = tags
        self.transcript = transcript
        self.state = state
        self.createdAt = createdAt
        self.finishedAt = finishedAt
    }

    /// The sender's phone number, when it reads as one.
    public func phoneNumber(region: String = "RU") -> PhoneNumber? {
        guard let phone, !phone.isEmpty else { return nil }
        let n = PhoneNumber.parse(phone, region: region)
        return n.last10 == nil ? nil : n
    }

    /// Whether the visitor left a way to reach them (a phone number or an e-mail).
    public var hasContactDetails: Bool { phoneNumber() != nil || !(email ?? "").isEmpty }

    /// The transcript as text for a CRM's note or comment: one line per message, with the time (UTC) and the author.
    public func transcriptText() -> String {
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "UTC")
        format.dateFormat = "yyyy-MM-dd HH:mm"
        return transcript.map { m in
            let who: String
            switch m.author {
            case .visitor: who = name.flatMap { $0.isEmpty ? nil : $0 } ?? "Посетитель"
            case .operator_: who = m.name ?? "Оператор"
            case .system: who = "Switchboard"
            }
            return "[\(format.string(from: m.at))] \(who): \(m.text)"
        }.joined(separator: "\n")
    }
}

/// The job kinds of text communications: `<crm>.request.received`, `<crm>.chat.finished`, …
public enum TextJobKind {
    public static func kind(_ crm: CRMKind, _ event: TextEvent) -> String { "\(crm.rawValue).\(event.rawValue)" }
}

/// The payload of every text job: which communication, for which integration, at which moment.
public struct TextJobPayload: Codable, Sendable, Equatable {
    public var textId: String
    public var integrationId: String
    public var event: TextEvent

    public init(textId: String, integrationId: String, event: TextEvent) {
        self.textId = textId
        self.integrationId = integrationId
        self.event = event
    }
}
