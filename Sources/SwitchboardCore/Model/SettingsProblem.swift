/// A problem with an integration's settings that a tenant can fix, next to the field it concerns (a dotted path in
/// the settings JSON, e.g. `incoming.answeredUnknown.pipelineId`). Every CRM's settings validate into these.
public struct SettingsProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}
