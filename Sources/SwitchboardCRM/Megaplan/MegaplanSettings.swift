import Foundation
import SwitchboardCore

extension CRMKind {
    /// Megaplan (its job kinds, paths and partitions derive from this name).
    public static let megaplan = CRMKind("megaplan")
}

/// A Megaplan integration's settings, in the blocks of the tenant's guides (seeds 000 and 001, telephony part:
/// MP-2, MP-4…MP-9). Stored as JSON; every field has a default, so a new integration starts from a valid document.
public struct MegaplanSettings: Codable, Sendable, Equatable {
    /// Who becomes responsible for a new client of an answered call that was transferred (CORE-8).
    public enum Talker: String, Codable, Sendable, CaseIterable { case first, last }

    /// One kind of call a rule applies to: direction × result, as the guides' "направления и статусы звонков" (the
    /// selector every CRM's rules share).
    public typealias CallKind = DirectionOutcome

    /// Who is responsible for a todo or a process a call creates: the employee of the call (the talker, or the dialler;
    /// the default responsible when nobody talked), the client's responsible, or one Megaplan employee by id.
    public struct Responsible: Codable, Sendable, Equatable {
        public static let talker = Responsible(rawValue: "talker")
        public static let client = Responsible(rawValue: "client")
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static func employee(_ id: String) -> Responsible { Responsible(rawValue: id) }

        public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(rawValue)
        }
        /// The employee id when a fixed employee is chosen.
        public var employeeId: String? { self == .talker || self == .client ? nil : rawValue }
    }

    /// 2.1–2.2 "Фильтровать по виртуальным номерам": only calls on these virtual numbers reach Megaplan.
    public struct LineFilter: Codable, Sendable, Equatable {
        public var enabled: Bool = false
        public var numbers: [String] = []
        public init() {}
    }

    /// 4.1 "Создавать контакт при звонке" and its "Назначать ответственного на".
    public struct ClientCreation: Codable, Sendable, Equatable {
        public var enabled: Bool = true
        public var responsibleTalker: Talker = .first
        public init() {}
    }

    /// 4.2 "Передавать дополнительные поля в клиента": a call attribute → a client field of Megaplan
    /// (`Category…CustomField…`); "Обновлять всегда" writes them on repeat calls too.
    public struct ExtraFields: Codable, Sendable, Equatable {
        /// The call attributes Switchboard knows: the virtual number, and per virtual number the campaign's UTM tags,
        /// site and campaign (set in `byLine`).
        public static let sources = ["virtualNumber", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "site",
                                     "campaign"]
        public var enabled: Bool = false
        public var updateAlways: Bool = false
        /// Source attribute → Megaplan field name.
        public var fields: [String: String] = [:]
        /// Virtual number → attribute → value (the ad campaign behind the number).
        public var byLine: [String: [String: String]] = [:]
        public init() {}
    }

    /// 4.3 "Создавать коммуникацию по звонку": a todo whose category is of type "call", end = start + `minutes`.
    public struct Communication: Codable, Sendable, Equatable {
        public var enabled: Bool = false
        public var kinds: [CallKind] = CallKind.all
        /// "Длительность коммуникации", minutes added to the start.
        public var minutes: Int = 120
        public init() {}
    }

    /// 4.4 "Создавать дело по звонку".
    public struct Todo: Codable, Sendable, Equatable {
        public var enabled: Bool = false
        public var kinds: [CallKind] = [CallKind(.incoming, .missed), CallKind(.outgoing, .missed)]
        public var responsible: Responsible = .talker
        public init() {}
    }

    /// 4.5 "Создавать процесс по звонку": a deal in a scheme (program).
    public struct Process: Codable, Sendable, Equatable {
        public var enabled: Bool = false
        public var kinds: [CallKind] = [CallKind(.incoming, .answered), CallKind(.incoming, .missed)]
        public var responsible: Responsible = .talker
        /// The scheme (program) id; required when enabled.
        public var programId: String?
        public init() {}
    }

    public var lineFilter = LineFilter()
    /// 3 "Ответственный по умолчанию": the Megaplan employee id for entities of calls nobody (mapped) talked on.
    public var defaultResponsible: String?
    public var createClient = ClientCreation()
    public var extraFields = ExtraFields()
    public var communication = Communication()
    public var todo = Todo()
    public var process = Process()
    /// 4.6 "Включить переадресацию на персонального менеджера" (CORE-6; the routing layer reads this key).
    public var personalManager: Bool = false
    /// CORE-11: client numbers for which no entities are created (incoming and outgoing); the call card still shows.
    public var numberFilter: [String] = []
    /// 5 "Звонки по клику из CRM" (the click-to-call layer reads this key).
    public var clickToCall = ClickToCallSettings()
    /// CORE-15/MP-10: the text rules (`TextRules` and `MegaplanTextOptions` in one block), carried whole so the settings
    /// page can edit them with the rest; nil keeps the stored block.
    public var texts: JSONValue?

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = MegaplanSettings()
        lineFilter = try c.decodeIfPresent(LineFilter.self, forKey: .lineFilter) ?? d.lineFilter
        defaultResponsible = try c.decodeIfPresent(String.self, forKey: .defaultResponsible)
        createClient = try c.decodeIfPresent(ClientCreation.self, forKey: .createClient) ?? d.createClient
        extraFields = try c.decodeIfPresent(ExtraFields.self, forKey: .extraFields) ?? d.extraFields
        communication = try c.decodeIfPresent(Communication.self, forKey: .communication) ?? d.communication
        todo = try c.decodeIfPresent(Todo.self, forKey: .todo) ?? d.todo
        process = try c.decodeIfPresent(Process.self, forKey: .process) ?? d.process
        personalManager = try c.decodeIfPresent(Bool.self, forKey: .personalManager) ?? d.personalManager
        numberFilter = try c.decodeIfPresent([String].self, forKey: .numberFilter) ?? d.numberFilter
        clickToCall = try c.decodeIfPresent(ClickToCallSettings.self, forKey: .clickToCall) ?? d.clickToCall
        texts = try c.decodeIfPresent(JSONValue.self, forKey: .texts)
    }

    /// What a tenant must fix before calls can reach Megaplan, by field.
    public func validate() -> [SettingsProblem] {
        var out: [SettingsProblem] = []
        func phone(_ s: String) -> Bool { s.filter(\.isNumber).count >= 5 }
        if lineFilter.enabled && lineFilter.numbers.isEmpty {
            out.append(SettingsProblem(field: "lineFilter.numbers", MPSays.addLines))
        }
        for n in lineFilter.numbers where !phone(n) {
            out.append(SettingsProblem(field: "lineFilter.numbers", InputProblem.notAPhoneNumber(n)))
        }
        for n in numberFilter where !phone(n) {
            out.append(SettingsProblem(field: "numberFilter", InputProblem.notAPhoneNumber(n)))
        }
        if let d = defaultResponsible, d.isEmpty {
            out.append(SettingsProblem(field: "defaultResponsible", MPSays.chooseEmployee))
        }
        if extraFields.enabled {
            for (source, field) in extraFields.fields {
                if !ExtraFields.sources.contains(source) {
                    out.append(SettingsProblem(field: "extraFields.fields",
                                               InputProblem.notOneOf(source, ExtraFields.sources)))
                }
                if field.trimmingCharacters(in: .whitespaces).isEmpty {
                    out.append(SettingsProblem(field: "extraFields.fields", MPSays.chooseField(source)))
                }
            }
            for line in extraFields.byLine.keys where !phone(line) {
                out.append(SettingsProblem(field: "extraFields.byLine", InputProblem.notAPhoneNumber(line)))
            }
        }
        if communication.enabled {
            if communication.kinds.isEmpty {
                out.append(SettingsProblem(field: "communication.kinds", MPSays.chooseCommunicationCalls))
            }
            if !(1...10_080).contains(communication.minutes) {
                out.append(SettingsProblem(field: "communication.minutes", MPSays.duration))
            }
        }
        if todo.enabled && todo.kinds.isEmpty {
            out.append(SettingsProblem(field: "todo.kinds", MPSays.chooseTodoCalls))
        }
        if process.enabled {
            if process.kinds.isEmpty {
                out.append(SettingsProblem(field: "process.kinds", MPSays.chooseProcessCalls))
            }
            if (process.programId ?? "").isEmpty {
                out.append(SettingsProblem(field: "process.programId", MPSays.chooseScheme))
            }
        }
        return out
    }

    /// The attributes of a call on `line` for the client's extra fields: Megaplan field → value.
    public func extraFieldValues(line: String?) -> [String: String] {
        guard extraFields.enabled, let line, !line.isEmpty else { return [:] }
        let digits = line.filter(\.isNumber)
        var attributes = extraFields.byLine.first { $0.key.filter(\.isNumber).suffix(10) == digits.suffix(10) }?.value ?? [:]
        attributes["virtualNumber"] = attributes["virtualNumber"] ?? line
        var out: [String: String] = [:]
        for (source, field) in extraFields.fields {
            if let v = attributes[source], !v.isEmpty { out[field] = v }
        }
        return out
    }
}

extension MegaplanSettings: CRMSettings {
    /// The virtual numbers are those of the switched-on line filter (MP-4).
    public var common: CommonSettings {
        CommonSettings(personalManager: personalManager, clickToCall: clickToCall,
                       virtualNumbers: lineFilter.enabled ? lineFilter.numbers : nil)
    }
}
