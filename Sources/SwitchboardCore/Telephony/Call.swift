import Foundation

public enum CallDirection: String, Codable, Sendable, CaseIterable {
    case inbound, outbound, `internal`, unknown
}

/// A call's lifecycle; it only moves forward (see `rank`).
public enum CallState: String, Codable, Sendable, CaseIterable {
    case ringing, connected, ended, finalized

    var rank: Int {
        switch self {
        case .ringing: return 1
        case .connected: return 2
        case .ended: return 3
        case .finalized: return 4
        }
    }
}

/// What became of the call.
public enum CallResult: String, Codable, Sendable, CaseIterable {
    case pending, answered, missed, busy, noAnswer = "no_answer", cancelled, failed, notAllowed = "not_allowed",
         notFound = "not_found"

    public var isAnswered: Bool { self == .answered }
}

public enum LegState: String, Codable, Sendable {
    case ringing, connected, ended
}

/// One employee's part in a call.
public struct Leg: Codable, Sendable, Equatable {
    /// The employee's PBX login (ITooLabs `user`), or a provider leg id.
    public var id: String
    public var employeeLogin: String?
    public var extension_: String?
    public var group: String?
    public var state: LegState
    public var startedAt: Date
    public var answeredAt: Date?
    public var endedAt: Date?
    /// The provider's end reason as it came: `COMPLETED`, `CANCELLED`, `TRANSFERRED`, …
    public var endReason: String?
    /// The provider call id this leg came on (a transfer's second id puts it after the first).
    public var segment: String?

    enum CodingKeys: String, CodingKey {
        case id, employeeLogin, extension_ = "extension", group, state, startedAt, answeredAt, endedAt, endReason, segment
    }

    public init(id: String, employeeLogin: String?, extension_: String?, group: String?, state: LegState, startedAt: Date,
                answeredAt: Date? = nil, endedAt: Date? = nil, endReason: String? = nil) {
        self.id = id
        self.employeeLogin = employeeLogin
        self.extension_ = extension_
        self.group = group
        self.state = state
        self.startedAt = startedAt
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.endReason = endReason
    }
}

/// The PBX's final record of a call (ITooLabs `history`, a summary, a CDR).
public struct CallFinal: Codable, Sendable, Equatable {
    /// The provider's status as it came (`Success`, `missed`, `Busy`, …).
    public var status: String
    public var result: CallResult
    public var startedAt: Date?
    public var durationSec: Int?
    public var waitSec: Int?
    public var employeeLogin: String?

    public init(status: String, result: CallResult, startedAt: Date?, durationSec: Int?, waitSec: Int? = nil,
                employeeLogin: String? = nil) {
        self.status = status
        self.result = result
        self.startedAt = startedAt
        self.durationSec = durationSec
        self.waitSec = waitSec
        self.employeeLogin = employeeLogin
    }
}

/// One customer conversation, however many legs, transfers and provider ids it had.
public struct Call: Codable, Sendable, Equatable {
    public var id: String
    public var tenantId: String
    public var pbxConnectionId: String
    /// Every provider id this call is known by (`callid`, `second_callid`, …).
    public var externalIds: [String]
    public var direction: CallDirection
    public var client: PhoneNumber?
    /// The tenant's virtual number the call came through (DID).
    public var lineNumber: String?
    public var state: CallState
    public var legs: [Leg]
    /// Employees who talked, in the order they answered (CORE-8: first and last talker).
    public var talkers: [String]
    public var createdAt: Date
    public var answeredAt: Date?
    public var endedAt: Date?
    public var final: CallFinal?
    public var recordingURL: String?
    public var rating: Int?
    /// `pbx`, or `switchboard` for calls Switchboard originated (click-to-call).
    public var origin: String
    /// A leg ended by a transfer and the next employee has not rung yet: the call is not over.
    public var transferPending: Bool
    /// Transfers as (from provider id, to provider id): they order the talkers when events come out of order.
    public var transfers: [[String]]

    public init(id: String, tenantId: String, pbxConnectionId: String, externalIds: [String], createdAt: Date) {
        self.id = id
        self.tenantId = tenantId
        self.pbxConnectionId = pbxConnectionId
        self.externalIds = externalIds
        self.direction = .unknown
        self.client = nil
        self.lineNumber = nil
        self.state = .ringing
        self.legs = []
        self.talkers = []
        self.createdAt = createdAt
        self.origin = "pbx"
        self.transferPending = false
        self.transfers = []
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        tenantId = try c.decode(String.self, forKey: .tenantId)
        pbxConnectionId = try c.decode(String.self, forKey: .pbxConnectionId)
        externalIds = try c.decode([String].self, forKey: .externalIds)
        direction = try c.decode(CallDirection.self, forKey: .direction)
        client = try c.decodeIfPresent(PhoneNumber.self, forKey: .client)
        lineNumber = try c.decodeIfPresent(String.self, forKey: .lineNumber)
        state = try c.decode(CallState.self, forKey: .state)
        legs = try c.decode([Leg].self, forKey: .legs)
        talkers = try c.decode([String].self, forKey: .talkers)
        createdAt = try c.decode(Date.self, forKey: .createdAt)
        answeredAt = try c.decodeIfPresent(Date.self, forKey: .answeredAt)
        endedAt = try c.decodeIfPresent(Date.self, forKey: .endedAt)
        final = try c.decodeIfPresent(CallFinal.self, forKey: .final)
        recordingURL = try c.decodeIfPresent(String.self, forKey: .recordingURL)
        rating = try c.decodeIfPresent(Int.self, forKey: .rating)
        origin = try c.decodeIfPresent(String.self, forKey: .origin) ?? "pbx"
        transferPending = try c.decodeIfPresent(Bool.self, forKey: .transferPending) ?? false
        transfers = try c.decodeIfPresent([[String]].self, forKey: .transfers) ?? []
    }

    public var firstTalker: String? { talkers.first }
    public var lastTalker: String? { talkers.last }

    /// Answered beats every later "missed", "cancelled" or final status.
    public var result: CallResult {
        if !talkers.isEmpty { return .answered }
        if let final { return final.result }
        if state.rank >= CallState.ended.rank { return direction == .outbound ? .noAnswer : .missed }
        return .pending
    }

    public var isOver: Bool { state.rank >= CallState.ended.rank }

    /// Seconds of conversation: the PBX's own figure when it gave one.
    public var talkSec: Int? {
        if let d = final?.durationSec { return result == .answered ? d : 0 }
        guard let a = answeredAt, let e = endedAt else { return result == .answered ? nil : 0 }
        return max(0, Int(e.timeIntervalSince(a).rounded()))
    }

    /// Seconds from the first ring to the answer (or to the end, unanswered).
    public var waitSec: Int? {
        if let w = final?.waitSec { return w }
        guard let end = answeredAt ?? endedAt else { return nil }
        return max(0, Int(end.timeIntervalSince(createdAt).rounded()))
    }
}
