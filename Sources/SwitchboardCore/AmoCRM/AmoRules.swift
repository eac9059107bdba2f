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

/// What only amoCRM knows of the caller: the contact's open deal.
public struct AmoCallerOwn: Codable, Sendable, Equatable {
    /// An open deal (not won, not lost) of the contact, if any.
    public var openLeadId: Int?

    public init(openLeadId: Int? = nil) { self.openLeadId = openLeadId }
}

public typealias AmoKnowledge = CallerKnowledge<AmoCallerOwn>

extension AmoCallerInfo {
    /// The neutral form the rules read (the kept form stays as it was, so calls kept before read the same).
    public var knowledge: AmoKnowledge {
        AmoKnowledge(contact: contactId.map(String.init), owner: contactResponsibleUserId.map(String.init),
                     own: AmoCallerOwn(openLeadId: openLeadId))
    }
}

/// What only amoCRM does for a call; contacts, the call log and tasks are common steps (`CommonStep`).
public enum AmoStep: Codable, Sendable, Equatable, StepDescribing {
    /// A new deal; with the new contact when `withNewContact`, else linked to the existing contact.
    case createLead(pipelineId: Int, statusId: Int, responsibleUserId: Int, tags: [String], withNewContact: Bool)
    /// An Unsorted entry for the call in a pipeline.
    case createUnsorted(pipelineId: Int, responsibleUserId: Int)
    /// The contact's open deal is used instead of a new one.
    case reuseLead(leadId: Int)
    /// The call in the history of the contact amoCRM finds for the number; when it finds none, an Unsorted entry
    /// instead (the notes' connector pattern).
    case logCallOrUnsorted(responsibleUserId: Int)

    public var summary: Phrase {
        switch self {
        case .createLead(let p, let s, let who, let tags, let withContact):
            let tagged = tags.isEmpty ? "" : ", tags \(tags.joined(separator: ", "))"
            return Phrase(code: withContact ? "amo.plan.contactAndDeal" : "amo.plan.deal",
                          en: "plan: " + (withContact ? "create a contact and a deal" : "create a deal")
                            + " in pipeline \(p), stage \(s), responsible \(who)" + tagged,
                          ru: "план: " + (withContact ? "создать контакт и сделку" : "создать сделку")
                            + " в воронке \(p), этап \(s), ответственный \(who)" + (tags.isEmpty ? "" : ", теги \(tags.joined(separator: ", "))"))
        case .createUnsorted(let p, let who):
            return Phrase(code: "amo.plan.unsorted", en: "plan: create an Unsorted entry in pipeline \(p), responsible \(who)",
                          ru: "план: создать заявку в «Неразобранном» воронки \(p), ответственный \(who)")
        case .reuseLead(let id):
            return Phrase(code: "amo.plan.reuseLead", en: "plan: use the open deal \(id)", ru: "план: прикрепить звонок к открытой сделке \(id)")
        case .logCallOrUnsorted(let who):
            return Phrase(code: "amo.plan.logCallOrUnsorted", en: "plan: log the call, made by \(who), or put it in Unsorted",
                          ru: "план: записать звонок (сотрудник \(who)), а если контакта нет — в «Неразобранное»")
        }
    }
}

public typealias AmoPlan = Plan<AmoStep>

public enum AmoRules {
    /// Decides what a finished call makes in amoCRM. Pure: the same facts and settings give the same plan.
    public static func plan(_ call: CallFacts, _ caller: AmoKnowledge, _ settings: AmoSettings) -> AmoPlan {
        var reasons: [Phrase] = []
        let dir = settings.direction(call.direction)
        let outgoing = call.direction == .outbound
        guard let fallback = settings.defaultResponsibleUserId else {
            return AmoPlan(steps: [], reasons: [AmoReason.noDefaultResponsible.phrase])
        }
        let choice: TalkerChoice = settings.responsibleTalker == .first ? .first : .last
        let talker = CallRuleKit.talker(call, choice).flatMap { Int($0) }
        // The employee who dialled an outgoing call is known even when nobody talked: they stand in for the default.
        let dialer = CallRuleKit.dialler(call).flatMap { Int($0) }
        // Answered: whoever talked. Missed: the client's own manager, else the dialler, else the default (CORE-7, CORE-8).
        let responsible = CallRuleKit.responsible(call, owner: caller.owner, choice: choice, fallback: String(fallback))
            .flatMap { Int($0) } ?? fallback
        // The call itself is made by whoever talked, else (outgoing) by whoever dialled.
        let callMaker = talker ?? dialer ?? responsible
        let client = call.client ?? PhoneNumber(e164: nil, raw: "")
        let filtered = CallRuleKit.isFiltered(client, dir.filterNumbers)
        var steps: [PlanStep<AmoStep>] = []

        if filtered {
            reasons.append(AmoReason.filtered(number: client.display, outgoing: outgoing).phrase)
        } else {
            let rule = dir.rule(answered: call.answered, known: caller.isKnown)
            let ruleName = AmoReason.rule(outgoing: outgoing, answered: call.answered, known: caller.isKnown).phrase
            let tags = dir.tags ? [client.display] : []
            if !rule.enabled {
                reasons.append(AmoReason.switchedOff(rule: ruleName).phrase)
            } else {
                switch (rule.action, caller.isKnown) {
                case (.contactAndDeal, false):
                    if let p = rule.pipelineId, let s = rule.statusId {
                        steps.append(.own(.createLead(pipelineId: p, statusId: s, responsibleUserId: responsible, tags: tags, withNewContact: true)))
                        reasons.append(AmoReason.contactAndDeal(rule: ruleName).phrase)
                    } else {
                        reasons.append(AmoReason.noPipelineOrStage(rule: ruleName).phrase)
                    }
                case (.contactOnly, false):
                    steps.append(.common(.createContact(responsible: String(responsible), fields: [:], tags: tags)))
                    reasons.append(AmoReason.contactOnly(rule: ruleName).phrase)
                case (.unsorted, _):
                    if let p = rule.pipelineId {
                        steps.append(.own(.createUnsorted(pipelineId: p, responsibleUserId: responsible)))
                        reasons.append(AmoReason.unsortedAlways(rule: ruleName).phrase)
                    } else {
                        reasons.append(AmoReason.noPipeline(rule: ruleName).phrase)
                    }
                case (.deal, true):
                    if let open = caller.own.openLeadId {
                        steps.append(.own(.reuseLead(leadId: open)))
                        reasons.append(AmoReason.openDealUsed(rule: ruleName, deal: open).phrase)
                    } else if let p = rule.pipelineId, let s = rule.statusId {
                        steps.append(.own(.createLead(pipelineId: p, statusId: s, responsibleUserId: responsible, tags: tags, withNewContact: false)))
                        reasons.append(AmoReason.dealNoOpen(rule: ruleName).phrase)
                    } else {
                        reasons.append(AmoReason.noPipelineOrStage(rule: ruleName).phrase)
                    }
                case (.dealAlways, true):
                    if let p = rule.pipelineId, let s = rule.statusId {
                        steps.append(.own(.createLead(pipelineId: p, statusId: s, responsibleUserId: responsible, tags: tags, withNewContact: false)))
                        reasons.append(AmoReason.dealAlways(rule: ruleName).phrase)
                    } else {
                        reasons.append(AmoReason.noPipelineOrStage(rule: ruleName).phrase)
                    }
                default:
                    reasons.append(AmoReason.actionDoesNotApply(rule: ruleName, action: rule.action.rawValue).phrase)
                }
            }
        }

        // The call itself goes to amoCRM whenever there is a contact to hold it (CORE-5).
        let willHaveContact = caller.isKnown || steps.contains { step in
            switch step {
            case .common(.createContact), .own(.createLead(_, _, _, _, true)): return true
            default: return false
            }
        }
        let hasUnsorted = steps.contains { if case .own(.createUnsorted) = $0 { return true } else { return false } }
        if hasUnsorted {
            reasons.append(AmoReason.recordedWithUnsorted.phrase)
        } else if willHaveContact {
            steps.append(.common(.logCall(responsible: String(callMaker), withRecording: true)))
        } else if !filtered && call.direction != .outbound {
            // An unknown inbound caller and nothing to create: amoCRM may still know the number (a company, a contact
            // made since); if not, the call lands in Unsorted, but only for a tenant who creates entities from calls.
            let anyRule = [dir.answeredUnknown, dir.missedUnknown].contains { $0.enabled }
            steps.append(anyRule ? .own(.logCallOrUnsorted(responsibleUserId: callMaker))
                : .common(.logCall(responsible: String(callMaker), withRecording: true)))
        } else {
            reasons.append(AmoReason.notLoggedNoContact(number: client.display).phrase)
        }

        if call.answered, dir.taskForAnswerer, !filtered {
            if let who = talker {
                steps.append(.common(.createTask(responsible: String(who), text: taskText(client), dueMinutes: 24 * 60)))
                reasons.append(AmoReason.taskForAnswerer.phrase)
            } else {
                reasons.append(AmoReason.noTaskUnmapped.phrase)
            }
        }
        return AmoPlan(steps: steps, reasons: reasons)
    }

    /// The text of the task for the employee who answered (AMO-4).
    public static func taskText(_ client: PhoneNumber) -> String { "Обработать звонок \(client.display)" }
}
