import Foundation

/// First or last talker of a transferred call (CORE-8).
public enum TalkerChoice: String, Codable, Sendable, CaseIterable { case first, last }

/// One kind of call a rule applies to: direction × result, the guides' "направления и статусы звонков".
/// Stored as `{"direction": "incoming", "status": "answered"}`.
public struct DirectionOutcome: Codable, Sendable, Equatable, Hashable {
    public enum Direction: String, Codable, Sendable, CaseIterable { case incoming, outgoing }
    public enum Status: String, Codable, Sendable, CaseIterable { case answered, missed }
    public var direction: Direction
    public var status: Status

    public init(_ direction: Direction, _ status: Status) {
        self.direction = direction
        self.status = status
    }

    public static let all: [DirectionOutcome] = Direction.allCases.flatMap { d in Status.allCases.map { DirectionOutcome(d, $0) } }

    /// The kind of a call; nil for internal calls and calls of unknown direction.
    public static func of(direction: CallDirection, answered: Bool) -> DirectionOutcome? {
        let status: Status = answered ? .answered : .missed
        switch direction {
        case .inbound: return DirectionOutcome(.incoming, status)
        case .outbound: return DirectionOutcome(.outgoing, status)
        case .internal, .unknown: return nil
        }
    }

    public static func of(_ facts: CallFacts) -> DirectionOutcome? { of(direction: facts.direction, answered: facts.answered) }
}

/// The pure helpers every CRM's call rules share (decision 0006 §2), table-tested once.
public enum CallRuleKit {
    /// The first or the last mapped talker.
    public static func talker(_ facts: CallFacts, _ choice: TalkerChoice) -> String? {
        choice == .first ? facts.talkerUsers.first : facts.talkerUsers.last
    }

    /// The dialler's CRM user on an outgoing call.
    public static func dialler(_ facts: CallFacts) -> String? {
        facts.direction == .outbound ? facts.dialler?.crmUser : nil
    }

    /// Responsible for what a call creates when the client may have a manager of their own (CORE-7, CORE-8): answered →
    /// the chosen talker; otherwise (or nobody mapped talked) the client's own manager, else the dialler of an outgoing
    /// call, else `fallback`.
    public static func responsible(_ facts: CallFacts, owner: String?, choice: TalkerChoice, fallback: String?) -> String? {
        (facts.answered ? talker(facts, choice) : nil) ?? owner ?? dialler(facts) ?? fallback
    }

    /// The employee whose call it is: outgoing → the dialler, else the first mapped talker; incoming answered → the
    /// chosen talker; incoming missed → nobody. Rules that need someone fall back to their default responsible.
    public static func employeeOfCall(_ facts: CallFacts, choice: TalkerChoice) -> String? {
        if facts.direction == .outbound { return dialler(facts) ?? facts.talkerUsers.first }
        guard facts.answered else { return nil }
        return talker(facts, choice)
    }

    /// Whether two numbers are the same phone: the last ten digits decide (both must have digits).
    public static func sameNumber(_ a: String, _ b: String) -> Bool {
        let x = PhoneNumber.parse(a).last10 ?? String(a.filter(\.isNumber).suffix(10))
        let y = PhoneNumber.parse(b).last10 ?? String(b.filter(\.isNumber).suffix(10))
        return !x.isEmpty && x == y
    }

    /// CORE-11: whether the client's number is among `numbers` (a number filter).
    public static func isFiltered(_ client: PhoneNumber?, _ numbers: [String]) -> Bool {
        guard let client else { return false }
        return numbers.contains { sameNumber($0, client.display) }
    }

    /// CORE-11: whether a call on `line` passes a virtual-number filter. An empty filter passes everything; a call
    /// that names no line passes only when `lineless` says so (an outgoing call has no line to filter by).
    public static func onLines(_ line: String?, _ numbers: [String], lineless: Bool) -> Bool {
        guard !numbers.isEmpty else { return true }
        guard let line, !line.filter(\.isNumber).isEmpty else { return lineless }
        return numbers.contains { sameNumber($0, line) }
    }

    /// The entry of a per-virtual-number table (campaign tags by line) for a call on `line`.
    public static func lineEntry<V>(_ line: String?, in table: [String: V]) -> V? {
        guard let line, !line.filter(\.isNumber).isEmpty else { return nil }
        return table.first { sameNumber($0.key, line) }?.value
    }

    /// The call's attributes with the campaign of its virtual number (`byLine`) added: what extra fields draw from.
    public static func attributes(_ facts: CallFacts, byLine: [String: [String: String]]) -> [String: String] {
        var out = lineEntry(facts.virtualNumber, in: byLine) ?? [:]
        out.merge(facts.attributes) { fromLine, _ in fromLine }
        if let line = facts.virtualNumber, !line.isEmpty { out["virtualNumber"] = out["virtualNumber"] ?? line }
        return out
    }

    /// CORE-13: extra fields of a contact, target field → value, from `(source attribute, target field)` pairs; empty
    /// values are left out.
    public static func extraFields(_ attributes: [String: String], _ pairs: [(source: String, target: String)]) -> [String: String] {
        var out: [String: String] = [:]
        for (source, target) in pairs {
            if let v = attributes[source], !v.isEmpty { out[target] = v }
        }
        return out
    }

    /// CORE-13: whether extra fields go to the contact at all: always on a new contact, on a known one only with
    /// "update always".
    public static func writesFields(contactIsNew: Bool, updateAlways: Bool) -> Bool { contactIsNew || updateAlways }

    /// The "direction × outcome" selector of a rule (MP-6/7/8, MS-3).
    public static func matches(_ facts: CallFacts, _ kinds: [DirectionOutcome]) -> Bool {
        DirectionOutcome.of(facts).map(kinds.contains) ?? false
    }

    /// The entity name the CRMs give what a call makes: "Входящий звонок +7…" / "Исходящий звонок +7…".
    public static func callName(_ facts: CallFacts) -> String {
        "\(facts.direction == .outbound ? "Исходящий" : "Входящий") звонок \(facts.client?.display ?? "")"
    }
}
