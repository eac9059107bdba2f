import Foundation

/// What the CRM knew of the caller when the rules ran (found once per call and kept, so a retry decides the same way).
/// `Own` is what only that CRM knows (amoCRM: the contact's open deal).
public struct CallerKnowledge<Own: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    /// The CRM's record of the caller (contact, client, counterparty), nil when the CRM has none.
    public var contact: String?
    /// The CRM user responsible for that record (the client's own manager, CORE-7).
    public var owner: String?
    public var own: Own

    public init(contact: String? = nil, owner: String? = nil, own: Own) {
        self.contact = contact
        self.owner = owner
        self.own = own
    }

    public var isKnown: Bool { contact != nil }
}

/// Nothing more than the shared fields: for a CRM whose rules need no knowledge of their own.
public struct NoKnowledge: Codable, Sendable, Equatable {
    public init() {}
}

/// A step's one-line description for the call journal (the plan is listed before it runs).
public protocol StepDescribing: Sendable {
    var summary: Phrase { get }
}

/// The steps every CRM can take for a call; each CRM executes them its own way (decision 0006 §2).
public enum CommonStep: Codable, Sendable, Equatable, StepDescribing {
    /// A new contact (client, counterparty) with the caller's number; `fields` are the extra fields (CORE-13). A nil
    /// responsible leaves the choice to the CRM.
    case createContact(responsible: String?, fields: [String: String], tags: [String])
    /// The extra fields written on the contact the CRM already has (CORE-13 "update always").
    case updateContactFields([String: String])
    /// The call in the contact's history, with its recording (CORE-5); nil: nobody's call (a missed incoming call).
    case logCall(responsible: String?, withRecording: Bool)
    /// A task after the call (CORE-10), due `dueMinutes` after it is made.
    case createTask(responsible: String?, text: String, dueMinutes: Int)
    /// Tags on what the call made (AMO-3).
    case tag([String])
    /// A message to a CRM user.
    case notify(user: String, text: String)

    public var summary: Phrase {
        switch self {
        case .createContact(let responsible, let fields, let tags):
            let who = responsible ?? "—"
            let extra = fields.isEmpty ? ("", "") : (", with \(fields.count) extra fields", ", дополнительных полей: \(fields.count)")
            let tagged = tags.isEmpty ? ("", "") : (", tags \(tags.joined(separator: ", "))", ", теги \(tags.joined(separator: ", "))")
            return Phrase(code: "plan.createContact", en: "plan: create a contact, responsible \(who)" + extra.0 + tagged.0,
                          ru: "план: создать контакт, ответственный \(who)" + extra.1 + tagged.1)
        case .updateContactFields(let fields):
            return Phrase(code: "plan.updateContactFields", en: "plan: write \(fields.count) extra fields on the contact",
                          ru: "план: записать в контакт дополнительные поля (\(fields.count))")
        case .logCall(let responsible, let recording):
            let who = responsible ?? "—"
            return Phrase(code: "plan.logCall", en: "plan: log the call, made by \(who)" + (recording ? ", with its recording" : ""),
                          ru: "план: записать звонок" + (recording ? " с записью разговора" : "") + ", сотрудник \(who)")
        case .createTask(let responsible, let text, _):
            let who = responsible ?? "—"
            return Phrase(code: "plan.createTask", en: "plan: create the task \"\(text)\" for \(who)", ru: "план: поставить задачу «\(text)» сотруднику \(who)")
        case .tag(let tags):
            return Phrase(code: "plan.tag", en: "plan: tag with \(tags.joined(separator: ", "))", ru: "план: поставить теги \(tags.joined(separator: ", "))")
        case .notify(let user, _):
            return Phrase(code: "plan.notify", en: "plan: send a message to \(user)", ru: "план: отправить сообщение сотруднику \(user)")
        }
    }
}

/// One step of a plan: a shared one, or one only this CRM has.
public enum PlanStep<Own: Codable & Sendable & Equatable & StepDescribing>: Codable, Sendable, Equatable, StepDescribing {
    case common(CommonStep)
    case own(Own)

    public var summary: Phrase {
        switch self {
        case .common(let s): return s.summary
        case .own(let s): return s.summary
        }
    }
}

/// What a CRM's rules decided for a call: the steps in order, and why (for the call journal).
public struct Plan<Own: Codable & Sendable & Equatable & StepDescribing>: Codable, Sendable, Equatable {
    public var steps: [PlanStep<Own>]
    public var reasons: [Phrase]

    public init(steps: [PlanStep<Own>] = [], reasons: [Phrase] = []) {
        self.steps = steps
        self.reasons = reasons
    }

    /// What the journal shows before the plan runs: the reasons, then one line per step.
    public var journal: [Phrase] {
        reasons + steps.map(\.summary)
    }
}
