import Foundation

/// What happened, in the terms of the call model; each PBX adapter translates its wire format into these.
public enum CallEventKind: String, Codable, Sendable {
    /// An employee's phone rings (incoming), or an employee dials out (outgoing).
    case legRinging = "leg.ringing"
    case legAnswered = "leg.answered"
    case legEnded = "leg.ended"
    /// The employee's leg is handed to someone else; `relatedExternalId` names the new part.
    case transferred = "call.transferred"
    /// The PBX says the whole call is over.
    case callEnded = "call.ended"
    /// The PBX's final record (history, summary, CDR).
    case finalized = "call.finalized"
    case recordingReady = "recording.ready"
    case rated = "call.rated"
}

/// One normalised PBX event. Append-only and idempotent: `key` is the provider's event id or a hash of stable fields.
public struct CallEvent: Codable, Sendable, Equatable {
    public var key: String
    public var kind: CallEventKind
    /// The provider's own name for it (`INCOMING`, `ACCEPTED`, `history`, …).
    public var providerType: String
    /// The provider's call id.
    public var externalCallId: String
    /// A second provider id of the same call (ITooLabs `second_callid` on a transfer).
    public var relatedExternalId: String?
    public var occurredAt: Date
    /// False when the provider sent no time and `occurredAt` is when Switchboard received it.
    public var occurredAtIsProviderTime: Bool
    public var direction: CallDirection?
    public var clientNumberRaw: String?
    public var lineNumber: String?
    public var employeeLogin: String?
    public var extension_: String?
    public var group: String?
    public var final: CallFinal?
    public var recordingURL: String?
    public var rating: Int?
    /// Ordering hint within one call, when the provider gives one.
    public var sequence: Int?

    enum CodingKeys: String, CodingKey {
        case key, kind, providerType, externalCallId, relatedExternalId, occurredAt, occurredAtIsProviderTime, direction,
             clientNumberRaw, lineNumber, employeeLogin, extension_ = "extension", group, final, recordingURL, rating, sequence
    }

    public init(key: String, kind: CallEventKind, providerType: String, externalCallId: String,
                relatedExternalId: String? = nil, occurredAt: Date, occurredAtIsProviderTime: Bool = false,
                direction: CallDirection? = nil, clientNumberRaw: String? = nil, lineNumber: String? = nil,
                employeeLogin: String? = nil, extension_: String? = nil, group: String? = nil, final: CallFinal? = nil,
                recordingURL: String? = nil, rating: Int? = nil, sequence: Int? = nil) {
        self.key = key
        self.kind = kind
        self.providerType = providerType
        self.externalCallId = externalCallId
        self.relatedExternalId = relatedExternalId
        self.occurredAt = occurredAt
        self.occurredAtIsProviderTime = occurredAtIsProviderTime
        self.direction = direction
        self.clientNumberRaw = clientNumberRaw
        self.lineNumber = lineNumber
        self.employeeLogin = employeeLogin
        self.extension_ = extension_
        self.group = group
        self.final = final
        self.recordingURL = recordingURL
        self.rating = rating
        self.sequence = sequence
    }
}

/// What a change to a call means for the integrations.
public enum CallTransition: String, Codable, Sendable, Equatable {
    /// An employee's phone started ringing (incoming) or the employee dialled out: show the card (CORE-4).
    case employeeRinging = "employee_ringing"
    /// An employee picked up.
    case employeeAnswered = "employee_answered"
    /// The call is over (realtime end).
    case ended
    /// The PBX's final record arrived: durations, recording.
    case finalized
}

/// The per-call state machine: monotonic, tolerant of repeats, reordering and late legs.
public enum CallReducer {
    /// Applies `event` to `call`; returns the new call and what changed that integrations care about.
    public static func apply(_ event: CallEvent, to call: Call, region: String) -> (Call, [CallTransition]) {
        var call = call
        var transitions: [CallTransition] = []
        let before = call

        if call.direction == .unknown, let d = event.direction, d != .unknown { call.direction = d }
        if call.client == nil, let raw = event.clientNumberRaw, !raw.isEmpty {
            call.client = PhoneNumber.parse(raw, region: region)
        }
        if call.lineNumber == nil, let line = event.lineNumber, !line.isEmpty { call.lineNumber = line }
        if let related = event.relatedExternalId, !call.externalIds.contains(related) { call.externalIds.append(related) }
        if !call.externalIds.contains(event.externalCallId) { call.externalIds.append(event.externalCallId) }
        if event.occurredAt < call.createdAt && event.occurredAtIsProviderTime { call.createdAt = event.occurredAt }

        let legId = event.employeeLogin ?? event.extension_
        switch event.kind {
        case .legRinging:
            if let legId {
                let isNew = call.legs.firstIndex { $0.id == legId } == nil
                upsertLeg(&call, id: legId, event: event) { leg in
                    if leg.state == .ended && leg.endReason == nil { leg.state = .ringing }
                }
                if isNew {
                    call.transferPending = false
                    transitions.append(.employeeRinging)
                }
            }
            advance(&call, to: .ringing)

        case .legAnswered:
            if let legId {
                upsertLeg(&call, id: legId, event: event) { leg in
                    if leg.state != .ended { leg.state = .connected }
                    leg.answeredAt = leg.answeredAt ?? event.occurredAt
                }
                if !call.talkers.contains(legId) {
                    call.talkers.append(legId)
                    transitions.append(.employeeAnswered)
                }
                call.transferPending = false
            }
            call.answeredAt = min(call.answeredAt ?? event.occurredAt, event.occurredAt)
            advance(&call, to: .connected)

        case .legEnded, .transferred:
            if let legId {
                upsertLeg(&call, id: legId, event: event) { leg in
                    leg.state = .ended
                    leg.endedAt = leg.endedAt ?? event.occurredAt
                    leg.endReason = leg.endReason ?? event.providerType
                }
            }
            if event.kind == .transferred {
                call.transferPending = true
                if let to = event.relatedExternalId, !call.transfers.contains([event.externalCallId, to]) {
                    call.transfers.append([event.externalCallId, to])
                }
            }
            // The call ends when nobody is on it any more and no transfer is under way. A group member's
            // CANCELLED while a colleague talks leaves the call going; an answered call stays answered.
            if !call.legs.isEmpty, call.legs.allSatisfy({ $0.state == .ended }), !call.transferPending {
                call.endedAt = call.legs.compactMap(\.endedAt).max()
                advance(&call, to: .ended)
            }

        case .callEnded:
            call.endedAt = call.endedAt ?? event.occurredAt
            call.transferPending = false
            for i in call.legs.indices where call.legs[i].state != .ended {
                call.legs[i].state = .ended
                call.legs[i].endedAt = event.occurredAt
                call.legs[i].endReason = call.legs[i].endReason ?? event.providerType
            }
            advance(&call, to: .ended)

        case .finalized:
            if let final = event.final {
                call.final = final
                if let started = final.startedAt, started < call.createdAt { call.createdAt = started }
                // A final record naming the talker counts as an answer when no realtime answer was seen.
                if final.result == .answered, let who = final.employeeLogin ?? legId, !call.talkers.contains(who) {
                    call.talkers.append(who)
                }
                if call.endedAt == nil, let started = final.startedAt, let d = final.durationSec {
                    call.endedAt = started.addingTimeInterval(Double(d + (final.waitSec ?? 0)))
                }
            }
            if let url = event.recordingURL, !url.isEmpty { call.recordingURL = url }
            call.transferPending = false
            for i in call.legs.indices where call.legs[i].state != .ended {
                call.legs[i].state = .ended
                call.legs[i].endedAt = call.legs[i].endedAt ?? event.occurredAt
            }
            if call.endedAt == nil { call.endedAt = event.occurredAt }
            advance(&call, to: .finalized)

        case .recordingReady:
            if let url = event.recordingURL, !url.isEmpty { call.recordingURL = url }

        case .rated:
            if let r = event.rating { call.rating = r }
        }

        orderTalkers(&call)
        if before.state.rank < CallState.ended.rank && call.state.rank >= CallState.ended.rank {
            transitions.append(.ended)
        }
        if before.state != .finalized && call.state == .finalized { transitions.append(.finalized) }
        return (call, transitions)
    }

    /// Talkers in conversation order: by transfer hop (a transfer's target comes after its origin), then answer time.
    static func orderTalkers(_ call: inout Call) {
        guard call.talkers.count > 1 else { return }
        var rank: [String: Int] = [:]
        let targets = Set(call.transfers.map { $0[1] })
        for root in call.externalIds where !targets.contains(root) { rank[root] = 0 }
        for _ in 0..<call.transfers.count {
            for t in call.transfers where t.count == 2 {
                if let r = rank[t[0]], (rank[t[1]] ?? Int.max) > r + 1 { rank[t[1]] = r + 1 }
            }
        }
        let answered = call.legs.enumerated().filter { call.talkers.contains($0.element.id) && $0.element.answeredAt != nil }
            .sorted { a, b in
                let ra = rank[a.element.segment ?? ""] ?? 0, rb = rank[b.element.segment ?? ""] ?? 0
                if ra != rb { return ra < rb }
                if a.element.answeredAt! != b.element.answeredAt! { return a.element.answeredAt! < b.element.answeredAt! }
                return a.offset < b.offset
            }
        var ordered = answered.map(\.element.id)
        for t in call.talkers where !ordered.contains(t) { ordered.append(t) }
        call.talkers = ordered
    }

    static func advance(_ call: inout Call, to state: CallState) {
        if state.rank > call.state.rank { call.state = state }
    }

    static func upsertLeg(_ call: inout Call, id: String, event: CallEvent, _ change: (inout Leg) -> Void) {
        if let i = call.legs.firstIndex(where: { $0.id == id }) {
            if call.legs[i].extension_ == nil { call.legs[i].extension_ = event.extension_ }
            if call.legs[i].group == nil { call.legs[i].group = event.group }
            change(&call.legs[i])
        } else {
            var leg = Leg(id: id, employeeLogin: event.employeeLogin, extension_: event.extension_, group: event.group,
                          state: .ringing, startedAt: event.occurredAt)
            leg.segment = event.externalCallId
            change(&leg)
            call.legs.append(leg)
        }
    }
}
