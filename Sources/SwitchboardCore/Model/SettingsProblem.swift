/// A problem with an integration's settings that a tenant can fix, next to the field it concerns (a dotted path in
/// the settings JSON, e.g. `incoming.answeredUnknown.pipelineId`). Every CRM's settings validate into these.
public struct SettingsProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public var field: String
    public var phrase: Phrase

    public init(field: String, _ problem: some TenantReadable) {
        self.field = field
        self.phrase = problem.phrase
    }

    /// The problem in English, as the API answers it.
    public var message: String { phrase.en }

    public var description: String { "\(field): \(message)" }
}
