import Foundation

/// What to create in amoCRM for one kind of call (AMO-2).
public enum AmoAction: String, Codable, Sendable, CaseIterable {
    /// Unknown caller: a new contact and a deal in the chosen pipeline stage.
    case contactAndDeal
    /// An entry in Unsorted (pipeline only); always made, whatever deals are open.
    case unsorted
    /// Unknown caller: a contact only.
    case contactOnly
    /// Known caller: a deal in the chosen stage, unless the contact already has an open deal (which is reused).
    case deal
    /// Known caller: a new deal every time; made only when the call ends.
    case dealAlways
}

/// One of the four switches of a call direction: answered/missed × unknown/existing caller.
public struct AmoRule: Codable, Sendable, Equatable {
    public var enabled: Bool
    public var action: AmoAction
    public var pipelineId: Int?
    public var statusId: Int?

    public init(enabled: Bool = false, action: AmoAction, pipelineId: Int? = nil, statusId: Int? = nil) {
        self.enabled = enabled
        self.action = action
        self.pipelineId = pipelineId
        self.statusId = statusId
    }
}

/// The settings of incoming or outgoing calls (AMO-2…AMO-4, AMO-7, AMO-8).
public struct AmoDirectionSettings: Codable, Sendable, Equatable {
    public var answeredUnknown: AmoRule
    public var missedUnknown: AmoRule
    public var answeredKnown: AmoRule
    public var missedKnown: AmoRule
    /// AMO-3: the caller's number as a tag on the deal and the contact a call creates.
    public var tags: Bool
    /// AMO-4: a task for the employee who answered.
    public var taskForAnswerer: Bool
    /// AMO-7: client numbers for which no entities are created.
    public var filterNumbers: [String]

    public init(answeredUnknown: AmoRule = AmoRule(action: .contactAndDeal), missedUnknown: AmoRule = AmoRule(action: .contactAndDeal),
                answeredKnown: AmoRule = AmoRule(action: .deal), missedKnown: AmoRule = AmoRule(action: .deal),
                tags: Bool = false, taskForAnswerer: Bool = false, filterNumbers: [String] = []) {
        self.answeredUnknown = answeredUnknown
        self.missedUnknown = missedUnknown
        self.answeredKnown = answeredKnown
        self.missedKnown = missedKnown
        self.tags = tags
        self.taskForAnswerer = taskForAnswerer
        self.filterNumbers = filterNumbers
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AmoDirectionSettings()
        answeredUnknown = try c.decodeIfPresent(AmoRule.self, forKey: .answeredUnknown) ?? d.answeredUnknown
        missedUnknown = try c.decodeIfPresent(AmoRule.self, forKey: .missedUnknown) ?? d.missedUnknown
        answeredKnown = try c.decodeIfPresent(AmoRule.self, forKey: .answeredKnown) ?? d.answeredKnown
        missedKnown = try c.decodeIfPresent(AmoRule.self, forKey: .missedKnown) ?? d.missedKnown
        tags = try c.decodeIfPresent(Bool.self, forKey: .tags) ?? false
        taskForAnswerer = try c.decodeIfPresent(Bool.self, forKey: .taskForAnswerer) ?? false
        filterNumbers = try c.decodeIfPresent([String].self, forKey: .filterNumbers) ?? []
    }

    public func rule(answered: Bool, known: Bool) -> AmoRule {
        switch (answered, known) {
        case (true, false): return answeredUnknown
        case (false, false): return missedUnknown
        case (true, true): return answeredKnown
        case (false, true): return missedKnown
        }
    }
}

/// Every setting of the amoCRM integration (seed 004), as stored in `Integration.settings`.
public struct AmoSettings: Codable, Sendable, Equatable {
    public var incoming: AmoDirectionSettings
    public var outgoing: AmoDirectionSettings
    /// AMO-5: forward incoming callers to the contact's responsible user (incoming only).
    public var personalManager: Bool
    /// AMO-6 / CORE-7: responsible for created entities when no talker is known; required.
    public var defaultResponsibleUserId: Int?
    /// CORE-8: for a transferred call, the first or the last employee who talked is responsible.
    public var responsibleTalker: ResponsibleTalker
    /// CORE-12.
    public var clickToCall: ClickToCallSettings

    public enum ResponsibleTalker: String, Codable, Sendable, CaseIterable { case first, last }

    public init(incoming: AmoDirectionSettings = .init(), outgoing: AmoDirectionSettings = .init(), personalManager: Bool = false,
                defaultResponsibleUserId: Int? = nil, responsibleTalker: ResponsibleTalker = .last,
                clickToCall: ClickToCallSettings = .init()) {
        self.incoming = incoming
        self.outgoing = outgoing
        self.personalManager = personalManager
        self.defaultResponsibleUserId = defaultResponsibleUserId
        self.responsibleTalker = responsibleTalker
        self.clickToCall = clickToCall
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        incoming = try c.decodeIfPresent(AmoDirectionSettings.self, forKey: .incoming) ?? .init()
        outgoing = try c.decodeIfPresent(AmoDirectionSettings.self, forKey: .outgoing) ?? .init()
        personalManager = try c.decodeIfPresent(Bool.self, forKey: .personalManager) ?? false
        defaultResponsibleUserId = try c.decodeIfPresent(Int.self, forKey: .defaultResponsibleUserId)
        responsibleTalker = try c.decodeIfPresent(ResponsibleTalker.self, forKey: .responsibleTalker) ?? .last
        clickToCall = try c.decodeIfPresent(ClickToCallSettings.self, forKey: .clickToCall) ?? .init()
    }

    public func direction(_ d: CallDirection) -> AmoDirectionSettings { d == .outbound ? outgoing : incoming }

    public typealias Problem = SettingsProblem

    /// Checks the settings the way the guide describes; every problem names its field.
    public func validate() -> [Problem] {
        var problems: [Problem] = []
        if defaultResponsibleUserId == nil {
            problems.append(Problem(field: "defaultResponsibleUserId", AmoReason.chooseDefaultResponsible))
        }
        for (dirName, dir) in [("incoming", incoming), ("outgoing", outgoing)] {
            for (name, rule, known) in [("answeredUnknown", dir.answeredUnknown, false), ("missedUnknown", dir.missedUnknown, false),
                                        ("answeredKnown", dir.answeredKnown, true), ("missedKnown", dir.missedKnown, true)] {
                let field = "\(dirName).\(name)"
                let allowed: [AmoAction] = known ? [.deal, .unsorted, .dealAlways] : [.contactAndDeal, .unsorted, .contactOnly]
                guard allowed.contains(rule.action) else {
                    problems.append(Problem(field: "\(field).action", AmoReason.chooseAction(known: known, allowed: allowed.map(\.rawValue))))
                    continue
                }
                guard rule.enabled else { continue }
                switch rule.action {
                case .contactAndDeal, .deal, .dealAlways:
                    if rule.pipelineId == nil { problems.append(Problem(field: "\(field).pipelineId", AmoReason.choosePipeline)) }
                    if rule.statusId == nil { problems.append(Problem(field: "\(field).statusId", AmoReason.chooseStage)) }
                case .unsorted:
                    if rule.pipelineId == nil { problems.append(Problem(field: "\(field).pipelineId", AmoReason.choosePipeline)) }
                case .contactOnly:
                    break
                }
            }
            for number in dir.filterNumbers where PhoneNumber.parse(number).last10 == nil {
                problems.append(Problem(field: "\(dirName).filterNumbers", InputProblem.notAPhoneNumber(number)))
            }
        }
        return problems
    }
}

extension AmoSettings: CRMSettings {
    /// amoCRM keeps `personalManager` and `clickToCall` at the top, as every CRM does; it has no virtual-number filter
    /// and sends no internal calls.
    public var common: CommonSettings { CommonSettings(personalManager: personalManager, clickToCall: clickToCall) }
}
