import Foundation

/// What amoCRM knows of the caller, found before the rules run.
public struct AmoCallerInfo: Codable, Sendable, Equatable {
    public var contactId: Int?
    public var contactResponsibleUserId: Int?
    /// An open deal (not won, not lost) of the contact, if any.
    public var openLeadId: Int?

    public init(contactId: Int? = nil, contactResponsibleUserId: Int? = nil, openLeadId: Int? = nil) {
        self.contactId = contactId
        self.contactResponsibleUserId = contactResponsibleUserId
        self.openLeadId = openLeadId
    }

    public var isKnown: Bool { contactId != nil }
}

/// The call as the amoCRM rules see it.
public struct AmoCallFacts: Codable, Sendable, Equatable {
    public var callId: String
    public var direction: CallDirection
    public var answered: Bool
    public var client: PhoneNumber
    /// The amoCRM users (through the employee mapping) of the employees who talked, in order.
    public var talkerUserIds: [Int]
    /// The amoCRM user (through the employee mapping) of the employee who dialled an outgoing call; nil inbound.
    public var dialerUserId: Int?
    public var startedAt: Date
    public var talkSec: Int
    public var recordingURL: String?
    public var result: CallResult

    public init(callId: String, direction: CallDirection, answered: Bool, client: PhoneNumber, talkerUserIds: [Int],
                startedAt: Date, talkSec: Int, recordingURL: String?, result: CallResult, dialerUserId: Int? = nil) {
        self.callId = callId
        self.dialerUserId = dialerUserId
        self.direction = direction
        self.answered = answered
        self.client = client
        self.talkerUserIds = talkerUserIds
        self.startedAt = startedAt
        self.talkSec = talkSec
        self.recordingURL = recordingURL
        self.result = result
    }
}

/// One thing to do in amoCRM. The executor turns these into as few API requests as it can.
public enum AmoStep: Codable, Sendable, Equatable {
    /// A new contact with the caller's number.
    case createContact(responsibleUserId: Int, tags: [String])
    /// A new deal; with the new contact when `withNewContact`, else linked to the existing contact.
    case createLead(pipelineId: Int, statusId: Int, responsibleUserId: Int, tags: [String], withNewContact: Bool)
    /// An Unsorted entry for the call in a pipeline.
    case createUnsorted(pipelineId: Int, responsibleUserId: Int)
    /// The contact's open deal is used instead of a new one.
    case reuseLead(leadId: Int)
    /// The call in the contact's (or deal's) history, with its recording. When amoCRM finds no contact for the
    /// number and `fallbackToUnsorted`, the call goes to Unsorted instead (the notes' connector pattern).
    case logCall(responsibleUserId: Int, fallbackToUnsorted: Bool)
    /// A task for the employee who answered.
    case createTask(responsibleUserId: Int)
}

/// The decision for one finished call: the steps, and why (for the call journal).
public struct AmoPlan: Codable, Sendable, Equatable {
    public var steps: [AmoStep]
    public var reasons: [String]
}

public enum AmoRules {
    /// Decides what a finished call makes in amoCRM. Pure: the same facts and settings give the same plan.
    public static func plan(call: AmoCallFacts, caller: AmoCallerInfo, settings: AmoSettings) -> AmoPlan {
        var reasons: [String] = []
        let dir = settings.direction(call.direction)
        let directionName = call.direction == .outbound ? "outgoing" : "incoming"
        guard let fallback = settings.defaultResponsibleUserId else {
            return AmoPlan(steps: [], reasons: ["settings incomplete: no default responsible user"])
        }
        let talker = settings.responsibleTalker == .first ? call.talkerUserIds.first : call.talkerUserIds.last
        // The employee who dialled an outgoing call is known even when nobody talked: they stand in for the default.
        let dialer = call.direction == .outbound ? call.dialerUserId : nil
        // Answered: whoever talked. Missed: the client's own manager, else the dialler, else the default (CORE-7, CORE-8).
        let responsible = (call.answered ? talker : nil) ?? caller.contactResponsibleUserId ?? dialer ?? fallback
        // The call itself is made by whoever talked, else (outgoing) by whoever dialled.
        let callMaker = talker ?? dialer ?? responsible
        let filtered = dir.filterNumbers.contains { PhoneNumber.parse($0).last10 == call.client.last10 }
        var steps: [AmoStep] = []

        if filtered {
            reasons.append("the number \(call.client.display) is in the \(directionName) filter: no entities are created")
        } else {
            let rule = dir.rule(answered: call.answered, known: caller.isKnown)
            let ruleName = "\(directionName) \(call.answered ? "answered" : "missed") call from " +
                (caller.isKnown ? "an existing client" : "an unknown number")
            let tags = dir.tags ? [call.client.display] : []
            if !rule.enabled {
                reasons.append("\(ruleName): switched off")
            } else {
                switch (rule.action, caller.isKnown) {
                case (.contactAndDeal, false):
                    if let p = rule.pipelineId, let s = rule.statusId {
                        steps.append(.createLead(pipelineId: p, statusId: s, responsibleUserId: responsible, tags: tags, withNewContact: true))
                        reasons.append("\(ruleName): create a contact and a deal")
                    } else {
                        reasons.append("\(ruleName): no pipeline or stage chosen")
                    }
                case (.contactOnly, false):
                    steps.append(.createContact(responsibleUserId: responsible, tags: tags))
                    reasons.append("\(ruleName): create a contact")
                case (.unsorted, _):
                    if let p = rule.pipelineId {
                        steps.append(.createUnsorted(pipelineId: p, responsibleUserId: responsible))
                        reasons.append("\(ruleName): create an Unsorted entry (always, whatever deals are open)")
                    } else {
                        reasons.append("\(ruleName): no pipeline chosen")
                    }
                case (.deal, true):
                    if let open = caller.openLeadId {
                        steps.append(.reuseLead(leadId: open))
                        reasons.append("\(ruleName): the client's open deal \(open) is used")
                    } else if let p = rule.pipelineId, let s = rule.statusId {
                        steps.append(.createLead(pipelineId: p, statusId: s, responsibleUserId: responsible, tags: tags, withNewContact: false))
                        reasons.append("\(ruleName): create a deal (the client has no open deal)")
                    } else {
                        reasons.append("\(ruleName): no pipeline or stage chosen")
                    }
                case (.dealAlways, true):
                    if let p = rule.pipelineId, let s = rule.statusId {
                        steps.append(.createLead(pipelineId: p, statusId: s, responsibleUserId: responsible, tags: tags, withNewContact: false))
                        reasons.append("\(ruleName): create a deal always, at the end of the call")
                    } else {
                        reasons.append("\(ruleName): no pipeline or stage chosen")
                    }
                default:
                    reasons.append("\(ruleName): action \(rule.action.rawValue) does not apply")
                }
            }
        }

        // The call itself goes to amoCRM whenever there is a contact to hold it (CORE-5).
        let willHaveContact = caller.isKnown || steps.contains { step in
            switch step {
            case .createContact, .createLead(_, _, _, _, true): return true
            default: return false
            }
        }
        let hasUnsorted = steps.contains { if case .createUnsorted = $0 { return true } else { return false } }
        if hasUnsorted {
            reasons.append("the call is recorded with the Unsorted entry")
        } else if willHaveContact {
            steps.append(.logCall(responsibleUserId: callMaker, fallbackToUnsorted: false))
        } else if !filtered && call.direction != .outbound {
            // An unknown inbound caller and nothing to create: amoCRM may still know the number (a company, a contact
            // made since); if not, the call lands in Unsorted, but only for a tenant who creates entities from calls.
            let anyRule = [dir.answeredUnknown, dir.missedUnknown].contains { $0.enabled }
            steps.append(.logCall(responsibleUserId: callMaker, fallbackToUnsorted: anyRule))
        } else {
            reasons.append("the call is not logged: amoCRM has no contact for \(call.client.display)")
        }

        if call.answered, dir.taskForAnswerer, !filtered {
            if let who = talker {
                steps.append(.createTask(responsibleUserId: who))
                reasons.append("task for the employee who answered")
            } else {
                reasons.append("no task: the employee who answered is not mapped to an amoCRM user")
            }
        }
        return AmoPlan(steps: steps, reasons: reasons)
    }
}
