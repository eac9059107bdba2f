import Foundation
import SwitchboardCore

extension CRMKind {
    /// MoySklad (its job kinds, paths and partitions derive from this name).
    public static let moysklad = CRMKind("moysklad")
}

/// A MoySklad telephony integration's settings, in the blocks of the tenant's guide (seed 003: "Подключение телефонии"
/// and "Какие данные передаются" по звонкам; MS-3…MS-5 and the CORE items they use). Stored as JSON; every field has a
/// default, so a new integration starts from a valid document except for the required default responsible.
public struct MSSettings: Codable, Sendable, Equatable {
    /// CORE-8: who becomes the owner of a counterparty (and the assignee of what a call creates) after a transfer.
    public enum Talker: String, Codable, Sendable, CaseIterable { case first, last }

    /// MS-3: what one kind of call makes in MoySklad ("гибкая настройка создания контрагентов и заказов по звонкам").
    public struct Rule: Codable, Sendable, Equatable {
        /// A counterparty for a caller MoySklad does not know yet.
        public var createCounterparty: Bool
        /// A customer order for the counterparty.
        public var createOrder: Bool
        /// A task (MS-3 "задачи по пропущенным звонкам"; CORE-10).
        public var createTask: Bool

        public init(createCounterparty: Bool, createOrder: Bool = false, createTask: Bool = false) {
            self.createCounterparty = createCounterparty
            self.createOrder = createOrder
            self.createTask = createTask
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            createCounterparty = try c.decodeIfPresent(Bool.self, forKey: .createCounterparty) ?? false
            createOrder = try c.decodeIfPresent(Bool.self, forKey: .createOrder) ?? false
            createTask = try c.decodeIfPresent(Bool.self, forKey: .createTask) ?? false
        }
    }

    /// The order a call creates: its status by name (as MoySklad shows it, e.g. "Новый") and the legal entity.
    public struct Order: Codable, Sendable, Equatable {
        /// nil: the order gets no status.
        public var state: String?
        /// MoySklad organization id; nil: the account's first organization.
        public var organizationId: String?

        public init(state: String? = nil, organizationId: String? = nil) {
            self.state = state
            self.organizationId = organizationId
        }
    }

    /// CORE-13: call attributes written into the counterparty's additional fields.
    public struct ExtraField: Codable, Sendable, Equatable {
        /// The counterparty's additional field (MoySklad attribute id).
        public var attribute: String
        /// `line` (the virtual number), `client` (the caller's number) or a UTM tag of the line (`utm_source`, …).
        public var source: String

        public init(attribute: String, source: String) {
            self.attribute = attribute
            self.source = source
        }

        public static let sources = ["line", "client", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"]
    }

    /// MS-1 «МойСклад - передача сделок»: customer orders reach Raw data → Deals, read with MoySklad's own login and
    /// password. Those are a credential set of their own (`authKind` password), sealed in the vault like every secret;
    /// the settings keep only its id.
    public struct DealsImport: Codable, Sendable, Equatable {
        public var enabled: Bool = false
        /// The credential set with the login and password the orders are read with.
        public var credentialId: String?

        public init(enabled: Bool = false, credentialId: String? = nil) {
            self.enabled = enabled
            self.credentialId = credentialId
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? false
            credentialId = try c.decodeIfPresent(String.self, forKey: .credentialId).flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    /// CORE-6: forward the caller to the owner of their counterparty.
    public var personalManager: Bool = false
    /// MS-5 "Показывать внутренние звонки": calls between employees are logged in MoySklad too.
    public var showInternalCalls: Bool = false
    /// CORE-7: the MoySklad employee (id) responsible when no talker is known (missed calls) or mapped (required).
    public var defaultResponsible: String?
    /// CORE-8: first or last talker after a transfer.
    public var responsibleTalker: Talker = .first
    public var incomingAnswered = Rule(createCounterparty: true)
    public var incomingMissed = Rule(createCounterparty: true, createTask: true)
    public var outgoingAnswered = Rule(createCounterparty: true)
    public var outgoingMissed = Rule(createCounterparty: false)
    public var order = Order()
    /// When a task is due, in minutes after the call.
    public var taskDueMinutes: Int = 60
    /// CORE-11: only calls on these virtual numbers (empty: every line of the PBX connection).
    public var lines: [String] = []
    /// CORE-11: client numbers for which nothing is created (the call itself is still logged).
    public var ignoredNumbers: [String] = []
    public var extraFields: [ExtraField] = []
    /// CORE-13 "обновлять всегда": write the extra fields on repeat calls too, not only when the counterparty is created.
    public var extraFieldsUpdateAlways: Bool = false
    /// Virtual number → UTM tag → value, for extra fields taken from the line's campaign.
    public var utmByLine: [String: [String: String]] = [:]
    /// CORE-12: the caller ID on click-to-call.
    public var clickToCall = ClickToCallSettings()
    /// MS-1: the deals-import switch and its credentials.
    public var dealsImport = DealsImport()

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = MSSettings()
        personalManager = try c.decodeIfPresent(Bool.self, forKey: .personalManager) ?? d.personalManager
        showInternalCalls = try c.decodeIfPresent(Bool.self, forKey: .showInternalCalls) ?? d.showInternalCalls
        defaultResponsible = try c.decodeIfPresent(String.self, forKey: .defaultResponsible)
        responsibleTalker = try c.decodeIfPresent(Talker.self, forKey: .responsibleTalker) ?? d.responsibleTalker
        incomingAnswered = try c.decodeIfPresent(Rule.self, forKey: .incomingAnswered) ?? d.incomingAnswered
        incomingMissed = try c.decodeIfPresent(Rule.self, forKey: .incomingMissed) ?? d.incomingMissed
        outgoingAnswered = try c.decodeIfPresent(Rule.self, forKey: .outgoingAnswered) ?? d.outgoingAnswered
        outgoingMissed = try c.decodeIfPresent(Rule.self, forKey: .outgoingMissed) ?? d.outgoingMissed
        order = try c.decodeIfPresent(Order.self, forKey: .order) ?? d.order
        taskDueMinutes = try c.decodeIfPresent(Int.self, forKey: .taskDueMinutes) ?? d.taskDueMinutes
        lines = try c.decodeIfPresent([String].self, forKey: .lines) ?? d.lines
        ignoredNumbers = try c.decodeIfPresent([String].self, forKey: .ignoredNumbers) ?? d.ignoredNumbers
        extraFields = try c.decodeIfPresent([ExtraField].self, forKey: .extraFields) ?? d.extraFields
        extraFieldsUpdateAlways = try c.decodeIfPresent(Bool.self, forKey: .extraFieldsUpdateAlways) ?? d.extraFieldsUpdateAlways
        utmByLine = try c.decodeIfPresent([String: [String: String]].self, forKey: .utmByLine) ?? d.utmByLine
        clickToCall = try c.decodeIfPresent(ClickToCallSettings.self, forKey: .clickToCall) ?? d.clickToCall
        dealsImport = try c.decodeIfPresent(DealsImport.self, forKey: .dealsImport) ?? d.dealsImport
    }

    /// What a tenant must fix before calls can reach MoySklad, by field.
    public func validate() -> [SettingsProblem] {
        var out: [SettingsProblem] = []
        if (defaultResponsible ?? "").isEmpty {
            out.append(SettingsProblem(field: "defaultResponsible",
                                       MSSays.chooseResponsible))
        }
        if !(1...43_200).contains(taskDueMinutes) {
            out.append(SettingsProblem(field: "taskDueMinutes", MSSays.taskDue))
        }
        for line in lines where line.filter(\.isNumber).count < 5 {
            out.append(SettingsProblem(field: "lines", InputProblem.notAPhoneNumber(line)))
        }
        for number in ignoredNumbers where number.filter(\.isNumber).count < 5 {
            out.append(SettingsProblem(field: "ignoredNumbers", InputProblem.notAPhoneNumber(number)))
        }
        for f in extraFields {
            if f.attribute.isEmpty {
                out.append(SettingsProblem(field: "extraFields", MSSays.chooseField(f.source)))
            }
            if !ExtraField.sources.contains(f.source) {
                out.append(SettingsProblem(field: "extraFields", InputProblem.notOneOf(f.source, ExtraField.sources)))
            }
        }
        for line in utmByLine.keys where line.filter(\.isNumber).count < 5 {
            out.append(SettingsProblem(field: "utmByLine", InputProblem.notAPhoneNumber(line)))
        }
        return out
    }

    /// What a tenant must fix before orders can be imported (kept apart from `validate`, which calls depend on).
    public func dealsProblems() -> [SettingsProblem] {
        dealsImport.enabled && dealsImport.credentialId == nil
            ? [SettingsProblem(field: "dealsImport.credentialId", MSSays.addDealsLogin)] : []
    }

    /// The rule for a call of this direction and result.
    public func rule(direction: CallDirection, answered: Bool) -> Rule {
        switch (direction == .outbound, answered) {
        case (false, true): return incomingAnswered
        case (false, false): return incomingMissed
        case (true, true): return outgoingAnswered
        case (true, false): return outgoingMissed
        }
    }

    /// CORE-11: whether a call on `line` belongs to this integration (an outgoing call has no line: it does).
    public func takes(line: String?) -> Bool { CallRuleKit.onLines(line, lines, lineless: true) }

    /// CORE-11: whether entities may be made for this client number.
    public func ignores(client: PhoneNumber) -> Bool { CallRuleKit.isFiltered(client, ignoredNumbers) }

    /// The extra fields' values for a call (attribute id → value), empty values left out.
    public func extraValues(line: String?, client: PhoneNumber) -> [String: String] {
        var out: [String: String] = [:]
        let utm = CallRuleKit.lineEntry(line, in: utmByLine) ?? [:]
        for f in extraFields {
            let value: String?
            switch f.source {
            case "line": value = line.flatMap { $0.isEmpty ? nil : PhoneNumber.parse($0).display }
            case "client": value = client.display
            default: value = utm[f.source]
            }
            if let value, !value.isEmpty { out[f.attribute] = value }
        }
        return out
    }
}

extension MSSettings: CRMSettings {
    /// The lines of the integration (CORE-11, empty: all) and "Показывать внутренние звонки" (MS-5).
    public var common: CommonSettings {
        CommonSettings(personalManager: personalManager, clickToCall: clickToCall, virtualNumbers: lines.isEmpty ? nil : lines,
                       internalCalls: showInternalCalls)
    }
}
