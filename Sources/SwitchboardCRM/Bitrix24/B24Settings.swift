import Foundation
import SwitchboardCore

extension CRMKind {
    /// Bitrix24 (its job kinds, paths and partitions derive from this name).
    public static let bitrix24 = CRMKind("bitrix24")
}

/// A Bitrix24 integration's settings, in the blocks of the tenant's guide (B24-2…B24-6). Stored as JSON; every field
/// has a default so a new integration starts from a valid document except for the required responsibles.
public struct B24Settings: Codable, Sendable, Equatable {
    /// B24-2: how employees take calls. `ip`: on the employee's SIP phone, so Bitrix24 shows the caller's card while it
    /// rings and hides it when the call moves on; `webrtc`: in the PBX's widget inside Bitrix24, which shows the call
    /// itself, so the call is registered without a card of its own.
    public enum TelephonyMode: String, Codable, Sendable, CaseIterable { case ip, webrtc }
    /// B24-3: who becomes responsible for a new lead of an answered call that was transferred.
    public enum Talker: String, Codable, Sendable, CaseIterable { case first, last }

    public struct Incoming: Codable, Sendable, Equatable {
        /// CORE-6: forward the caller to the responsible user of their Bitrix24 record.
        public var personalManager: Bool = false
        /// Create a lead (classic CRM) or a contact and a deal (simple CRM) for an unknown caller.
        public var createEntity: Bool = true
        /// Bitrix24 user responsible for a missed incoming call and what it created (required).
        public var defaultResponsible: Int?
        /// First or last talker after a transfer (required).
        public var responsibleTalker: Talker?

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            personalManager = try c.decodeIfPresent(Bool.self, forKey: .personalManager) ?? false
            createEntity = try c.decodeIfPresent(Bool.self, forKey: .createEntity) ?? true
            defaultResponsible = try c.decodeIfPresent(Int.self, forKey: .defaultResponsible)
            responsibleTalker = try c.decodeIfPresent(Talker.self, forKey: .responsibleTalker)
        }
    }

    public struct Outgoing: Codable, Sendable, Equatable {
        public var createEntity: Bool = true
        /// Bitrix24 user responsible when the dialling employee is not mapped (required).
        public var defaultResponsible: Int?

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            createEntity = try c.decodeIfPresent(Bool.self, forKey: .createEntity) ?? true
            defaultResponsible = try c.decodeIfPresent(Int.self, forKey: .defaultResponsible)
        }
    }

    /// B24-5: CallTracking. The UTM tags of each virtual number (the number shown in an ad campaign) and which of them
    /// go to the leads and deals its calls create.
    public struct CallTracking: Codable, Sendable, Equatable {
        public var enabled: Bool = false
        public var tags: [String] = []
        /// Virtual number (digits) → tag → value.
        public var byLine: [String: [String: String]] = [:]

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? false
            tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
            byLine = try c.decodeIfPresent([String: [String: String]].self, forKey: .byLine) ?? [:]
        }
        public static let knownTags = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"]
    }

    public var telephonyMode: TelephonyMode = .ip
    public var incoming = Incoming()
    public var outgoing = Outgoing()
    public var callTracking = CallTracking()
    /// B24-5: a message about the call in the employee's Bitrix24 chat.
    public var chatMessage: Bool = false
    /// CORE-12: the caller ID on click-to-call.
    public var clickToCall = ClickToCallSettings()

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = B24Settings()
        telephonyMode = try c.decodeIfPresent(TelephonyMode.self, forKey: .telephonyMode) ?? d.telephonyMode
        incoming = try c.decodeIfPresent(Incoming.self, forKey: .incoming) ?? d.incoming
        outgoing = try c.decodeIfPresent(Outgoing.self, forKey: .outgoing) ?? d.outgoing
        callTracking = try c.decodeIfPresent(CallTracking.self, forKey: .callTracking) ?? d.callTracking
        chatMessage = try c.decodeIfPresent(Bool.self, forKey: .chatMessage) ?? d.chatMessage
        clickToCall = try c.decodeIfPresent(ClickToCallSettings.self, forKey: .clickToCall) ?? d.clickToCall
    }

    /// What a tenant must fix before calls can reach Bitrix24, by field.
    public func validate() -> [SettingsProblem] {
        var out: [SettingsProblem] = []
        if incoming.defaultResponsible == nil {
            out.append(SettingsProblem(field: "incoming.defaultResponsible", B24Says.chooseMissedResponsible))
        }
        if incoming.responsibleTalker == nil {
            out.append(SettingsProblem(field: "incoming.responsibleTalker", B24Says.chooseTransferResponsible))
        }
        if outgoing.defaultResponsible == nil {
            out.append(SettingsProblem(field: "outgoing.defaultResponsible", B24Says.chooseOutgoingResponsible))
        }
        for tag in callTracking.tags where !CallTracking.knownTags.contains(tag) {
            out.append(SettingsProblem(field: "callTracking.tags", InputProblem.notOneOf(tag, CallTracking.knownTags)))
        }
        for (line, tags) in callTracking.byLine {
            if line.filter(\.isNumber).count < 5 {
                out.append(SettingsProblem(field: "callTracking.byLine", InputProblem.notAPhoneNumber(line)))
            }
            for tag in tags.keys where !CallTracking.knownTags.contains(tag) {
                out.append(SettingsProblem(field: "callTracking.byLine", InputProblem.notOneOf(tag, CallTracking.knownTags)))
            }
        }
        return out
    }

    /// The UTM fields for a call on `line`, as Bitrix24 names them (`UTM_SOURCE`, …), limited to the chosen tags.
    public func utmFields(line: String?) -> [String: String] {
        guard callTracking.enabled, let line else { return [:] }
        let digits = line.filter(\.isNumber)
        guard let tags = callTracking.byLine.first(where: { $0.key.filter(\.isNumber).suffix(10) == digits.suffix(10) })?.value else {
            return [:]
        }
        var out: [String: String] = [:]
        for tag in callTracking.tags { if let v = tags[tag], !v.isEmpty { out[tag.uppercased()] = v } }
        return out
    }
}

extension B24Settings: CRMSettings {
    /// Bitrix24 keeps the personal-manager switch among the incoming calls' settings.
    public var common: CommonSettings { CommonSettings(personalManager: incoming.personalManager, clickToCall: clickToCall) }
}
