import Foundation

/// The settings every CRM integration has, whatever its CRM (decision 0006 §2), read by generic code (routing,
/// click-to-call, the call jobs' guards) from the integration's settings JSON instead of untyped reads.
///
/// The canonical keys are top-level: `personalManager`, `clickToCall`, `virtualNumbers`, `internalCalls`. Settings
/// stored before this type existed name some of them otherwise, and are read as they are:
/// `incoming.personalManager`; `lineFilter {enabled, numbers}` or `lines` for the virtual numbers; `showInternalCalls`.
public struct CommonSettings: Codable, Sendable, Equatable {
    /// CORE-6: the integration answers "who is this caller's manager?" for routing.
    public var personalManager: Bool
    /// CORE-12: the caller ID on click-to-call.
    public var clickToCall: ClickToCallSettings
    /// CORE-11: only calls on these virtual numbers reach the CRM; nil: every line of the PBX connection.
    public var virtualNumbers: [String]?
    /// Calls between employees go to the CRM too.
    public var internalCalls: Bool

    public init(personalManager: Bool = false, clickToCall: ClickToCallSettings = .init(), virtualNumbers: [String]? = nil,
                internalCalls: Bool = false) {
        self.personalManager = personalManager
        self.clickToCall = clickToCall
        self.virtualNumbers = virtualNumbers
        self.internalCalls = internalCalls
    }

    private struct LineFilter: Decodable {
        var enabled: Bool?
        var numbers: [String]?
    }

    private struct Nested: Decodable {
        var personalManager: Bool?
    }

    private enum Keys: String, CodingKey {
        case personalManager, clickToCall, virtualNumbers, internalCalls, incoming, lineFilter, lines, showInternalCalls
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        func optional<T: Decodable>(_ type: T.Type, _ key: Keys) -> T? { (try? c.decodeIfPresent(type, forKey: key)) ?? nil }
        personalManager = optional(Bool.self, .personalManager) ?? optional(Nested.self, .incoming)?.personalManager ?? false
        clickToCall = optional(ClickToCallSettings.self, .clickToCall) ?? .init()
        if let numbers = optional([String].self, .virtualNumbers) {
            virtualNumbers = numbers
        } else if let filter = optional(LineFilter.self, .lineFilter), filter.enabled == true {
            virtualNumbers = filter.numbers ?? []
        } else if let lines = optional([String].self, .lines), !lines.isEmpty {
            virtualNumbers = lines
        } else {
            virtualNumbers = nil
        }
        internalCalls = optional(Bool.self, .internalCalls) ?? optional(Bool.self, .showInternalCalls) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(personalManager, forKey: .personalManager)
        try c.encode(clickToCall, forKey: .clickToCall)
        try c.encodeIfPresent(virtualNumbers, forKey: .virtualNumbers)
        try c.encode(internalCalls, forKey: .internalCalls)
    }

    /// The common part of an integration's settings document; a document that is not an object reads as the defaults.
    public init(json: JSONValue) {
        self = (try? JSON.decode(CommonSettings.self, from: JSON.string(json))) ?? CommonSettings()
    }
}

/// A CRM's typed settings: decoded from the integration's JSON, checked field by field, with the common part.
public protocol CRMSettings: Codable, Sendable, Equatable {
    var common: CommonSettings { get }
    func validate() -> [SettingsProblem]
}
