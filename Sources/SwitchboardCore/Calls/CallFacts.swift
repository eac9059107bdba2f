import Foundation

/// The moments a CRM hears of a call (decision 0006 §2). Job kinds keep their names: `<crm>.call.<rawValue>`.
public enum CallMoment: String, Codable, Sendable, CaseIterable {
    case ringing, answered, ended = "finished", recorded
}

/// An employee in a call, with their CRM user through the integration's employee mapping (nil: not mapped).
public struct CallPerson: Codable, Sendable, Equatable {
    /// The PBX login (or the leg's id when the PBX named no login).
    public var login: String
    public var extension_: String?
    public var crmUser: String?

    public init(login: String, extension_: String? = nil, crmUser: String? = nil) {
        self.login = login
        self.extension_ = extension_
        self.crmUser = crmUser
    }
}

/// One employee's part in the call, as the rules see it.
public struct LegFacts: Codable, Sendable, Equatable {
    public var person: CallPerson
    public var startedAt: Date
    public var answeredAt: Date?
    public var endedAt: Date?
    public var endReason: String?

    public init(person: CallPerson, startedAt: Date, answeredAt: Date? = nil, endedAt: Date? = nil, endReason: String? = nil) {
        self.person = person
        self.startedAt = startedAt
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.endReason = endReason
    }
}

/// The neutral input of every CRM's call rules: made once from a stored call and the employee mapping, the same for
/// every CRM (decision 0006 §2). The rules read nothing else of the call.
public struct CallFacts: Codable, Sendable, Equatable {
    public var callId: String
    public var moment: CallMoment
    public var direction: CallDirection
    public var result: CallResult
    public var answered: Bool
    /// The other party's number; nil when the PBX hid it.
    public var client: PhoneNumber?
    /// The tenant's virtual number the call came through (`Call.lineNumber`).
    public var virtualNumber: String?
    public var legs: [LegFacts]
    /// The employees who talked, in the order they answered (CORE-8).
    public var talkers: [CallPerson]
    /// The employee who dialled an outgoing call (its first leg); nil for other calls.
    public var dialler: CallPerson?
    /// The employee a ringing or answered moment is about (the job's employee); nil at the end.
    public var employee: CallPerson?
    public var startedAt: Date
    public var answeredAt: Date?
    public var endedAt: Date?
    public var talkSec: Int
    public var waitSec: Int
    public var recordingURL: String?
    /// The PBX's own final status as it came (`Success`, `Busy`, …), when it gave one.
    public var endStatus: String?
    /// What the call itself carries besides the numbers (campaign attributes); the virtual number is always among them
    /// as `virtualNumber`, the client's number as `client`.
    public var attributes: [String: String]
    /// `pbx`, or `switchboard` for a call Switchboard originated (click-to-call).
    public var origin: String

    public init(callId: String, moment: CallMoment = .ended, direction: CallDirection, result: CallResult, client: PhoneNumber?,
                virtualNumber: String? = nil, legs: [LegFacts] = [], talkers: [CallPerson] = [], dialler: CallPerson? = nil,
                employee: CallPerson? = nil, startedAt: Date, answeredAt: Date? = nil, endedAt: Date? = nil, talkSec: Int = 0,
                waitSec: Int = 0, recordingURL: String? = nil, endStatus: String? = nil, attributes: [String: String] = [:],
                origin: String = "pbx") {
        self.callId = callId
        self.moment = moment
        self.direction = direction
        self.result = result
        self.answered = result == .answered
        self.client = client
        self.virtualNumber = virtualNumber
        self.legs = legs
        self.talkers = talkers
        self.dialler = dialler
        self.employee = employee
        self.startedAt = startedAt
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.talkSec = talkSec
        self.waitSec = waitSec
        self.recordingURL = recordingURL
        self.endStatus = endStatus
        var attributes = attributes
        if let virtualNumber, !virtualNumber.isEmpty { attributes["virtualNumber"] = attributes["virtualNumber"] ?? virtualNumber }
        if let client { attributes["client"] = attributes["client"] ?? client.display }
        self.attributes = attributes
        self.origin = origin
    }

    /// The facts of a stored call; `userByLogin` is the employee mapping (PBX login and extension → CRM user).
    public static func make(_ call: Call, moment: CallMoment = .ended, employeeLogin: String? = nil,
                            userByLogin: [String: String]) -> CallFacts {
        func person(login: String, ext: String?) -> CallPerson {
            CallPerson(login: login, extension_: ext, crmUser: userByLogin[login] ?? ext.flatMap { userByLogin[$0] })
        }
        let legs = call.legs.map { leg in
            LegFacts(person: person(login: leg.employeeLogin ?? leg.id, ext: leg.extension_), startedAt: leg.startedAt,
                     answeredAt: leg.answeredAt, endedAt: leg.endedAt, endReason: leg.endReason)
        }
        let talkers = call.talkers.map { login in
            let leg = call.legs.first { $0.id == login || $0.employeeLogin == login }
            return CallPerson(login: login, extension_: leg?.extension_, crmUser: userByLogin[login])
        }
        return CallFacts(callId: call.id, moment: moment, direction: call.direction, result: call.result, client: call.client,
                         virtualNumber: call.lineNumber, legs: legs, talkers: talkers, dialler: dialler(of: call, userByLogin),
                         employee: employeeLogin.map { login in
                             let leg = call.legs.first { $0.id == login || $0.employeeLogin == login }
                             return person(login: login, ext: leg?.extension_)
                         },
                         startedAt: call.createdAt, answeredAt: call.answeredAt, endedAt: call.endedAt, talkSec: call.talkSec ?? 0,
                         waitSec: call.waitSec ?? 0, recordingURL: call.recordingURL, endStatus: call.final?.status,
                         origin: call.origin)
    }

    /// The employee who dialled an outgoing call: its first leg, mapped by login, extension, leg id or the PBX's final
    /// record (in that order; the first that is mapped wins, else the first that is named).
    static func dialler(of call: Call, _ userByLogin: [String: String]) -> CallPerson? {
        guard call.direction == .outbound, let leg = call.legs.min(by: { $0.startedAt < $1.startedAt }) else { return nil }
        let names = [leg.employeeLogin, leg.extension_, leg.id, call.final?.employeeLogin].compactMap { $0 }
        let mapped = names.first { userByLogin[$0] != nil }
        return CallPerson(login: leg.employeeLogin ?? leg.id, extension_: leg.extension_, crmUser: mapped.flatMap { userByLogin[$0] })
    }

    /// The CRM users of the employees who talked, in order, the unmapped left out.
    public var talkerUsers: [String] { talkers.compactMap(\.crmUser) }
}
