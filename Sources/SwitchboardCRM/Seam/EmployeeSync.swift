import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardStorage

/// CORE-14: the CRM users a tenant selected become employees of the integration's PBX connection, matched by e-mail,
/// and are mapped to their CRM user; every two hours and on "sync now". Written once for every connector that can list
/// its users (`CRMConnector.users`).
///
/// Settings, in the integration's settings under `employeeSync`: `{"enabled": true, "userIds": ["12", "15"]}`.
public enum EmployeeSync {
    public static let jobKind = "employees.sync"
    /// How often a switched-on sync runs by itself.
    public static let interval: TimeInterval = 2 * 3600

    public struct Settings: Codable, Sendable, Equatable {
        public var enabled: Bool
        public var userIds: [String]

        public init(enabled: Bool = false, userIds: [String] = []) {
            self.enabled = enabled
            self.userIds = userIds
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? false
            userIds = try c.decodeIfPresent([String].self, forKey: .userIds) ?? []
        }

        public static func of(_ integration: Integration) -> Settings {
            guard let json = integration.settings["employeeSync"] else { return Settings() }
            return (try? JSON.decode(Settings.self, from: JSON.string(json))) ?? Settings()
        }
    }

    /// What one sync did, by employee name.
    public struct Report: Codable, Sendable, Equatable {
        public var created: [String] = []
        public var updated: [String] = []
        public var mapped: [String] = []
        public var unchanged: Int = 0
        /// Selected users the CRM no longer lists, or lists as dismissed, or who have no e-mail to match by.
        public var skipped: [String] = []

        public init() {}

        public var summary: String {
            "created \(created.count), updated \(updated.count), newly mapped \(mapped.count), unchanged \(unchanged)"
                + (skipped.isEmpty ? "" : ", skipped \(skipped.count): \(skipped.joined(separator: ", "))")
        }
    }

    public enum Failure: Error, CustomStringConvertible, PhraseCatalog {
        case unsupported(String)
        case noConnection
        case noCredentials

        public var description: String { phrase.en }

        public var phrase: Phrase {
            switch self {
            case .unsupported(let crm):
                Phrase(code: "sync.unsupported", en: "\(crm) cannot list its users, so its employees cannot be synchronised",
                       ru: "\(crm) не отдаёт список пользователей, поэтому сотрудников не синхронизировать")
            case .noConnection:
                Phrase(code: "sync.noConnection", en: "the integration has no PBX connection to add employees to",
                       ru: "у интеграции нет подключения к АТС, куда добавлять сотрудников")
            case .noCredentials:
                Phrase(code: "sync.noCredentials", en: "the integration has no CRM credentials", ru: "у интеграции не выбраны учётные данные CRM")
            }
        }

        public static var samples: [Failure] { [.unsupported("CRM"), .noConnection, .noCredentials] }
    }

    /// What the employee-sync job says in the journal.
    public enum Note: PhraseCatalog, Equatable {
        case switchedOff
        case done(Report)

        public var phrase: Phrase {
            switch self {
            case .switchedOff: Phrase(code: "sync.off", en: "employee sync is switched off", ru: "синхронизация сотрудников выключена")
            case .done(let r):
                Phrase(code: "sync.done", en: "employee sync: \(r.summary)",
                       ru: "синхронизация сотрудников: создано \(r.created.count), обновлено \(r.updated.count), "
                           + "сопоставлено \(r.mapped.count), без изменений \(r.unchanged)"
                           + (r.skipped.isEmpty ? "" : ", пропущено \(r.skipped.count): \(r.skipped.joined(separator: ", "))"))
            }
        }

        public static var samples: [Note] { [.switchedOff, .done(Report())] }
    }

    /// Brings the integration's PBX employees and mapping in line with the selected CRM users.
    public static func run(_ integration: Integration, registry: ConnectorRegistry, db: any Database,
                           vault: CredentialVault) async throws -> Report {
        guard let connector = registry[integration.crm], let listUsers = connector.users else {
            throw Failure.unsupported(integration.crm.rawValue)
        }
        guard let connectionId = integration.pbxConnectionId else { throw Failure.noConnection }
        guard let credentialId = integration.credentialId,
              let credential = try await CredentialStore(db: db, vault: vault).get(tenantId: integration.tenantId, id: credentialId) else {
            throw Failure.noCredentials
        }
        let settings = Settings.of(integration)
        let users = try await listUsers(credential)
        let pbx = PBXStore(db: db, vault: vault), integrations = IntegrationStore(db: db)
        var employees = try await pbx.employees(tenantId: integration.tenantId, connectionId: connectionId)
        var mappings = try await integrations.mappings(tenantId: integration.tenantId, integrationId: integration.id)
        var report = Report()
        for id in settings.userIds {
            guard let user = users.first(where: { $0.id == id }), user.active else {
                report.skipped.append(users.first { $0.id == id }?.name ?? "user \(id)")
                continue
            }
            guard let email = user.email?.trimmingCharacters(in: .whitespaces).lowercased(), !email.isEmpty else {
                report.skipped.append(user.name)
                continue
            }
            let employee: Employee
            // The employee already mapped to this user is theirs; otherwise the one with their e-mail; otherwise one with
            // their inner number (the same phone), so no second employee appears for it.
            let mapped = mappings.first { $0.crmUserId == user.id }.flatMap { m in employees.first { $0.id == m.employeeId } }
            let sameLine = user.extension_.flatMap { ext in employees.first { $0.extension_ == ext && $0.email == nil } }
            if let existing = mapped ?? employees.first(where: { $0.email?.lowercased() == email }) ?? sameLine {
                let ext = user.extension_ ?? existing.extension_
                if existing.name != user.name || existing.extension_ != ext || existing.email == nil {
                    employee = try await pbx.upsertEmployee(tenantId: integration.tenantId, connectionId: connectionId,
                                                            login: existing.login, extension_: ext, name: user.name, email: existing.email ?? email,
                                                            directNumber: existing.directNumber, hasSIP: existing.hasSIP)
                    report.updated.append(user.name)
                } else {
                    employee = existing
                    report.unchanged += 1
                }
            } else {
                // A new employee is known to the PBX by the CRM user's inner number when there is one, else by e-mail.
                employee = try await pbx.upsertEmployee(tenantId: integration.tenantId, connectionId: connectionId,
                                                        login: user.extension_ ?? email, extension_: user.extension_, name: user.name,
                                                        email: email, directNumber: nil)
                report.created.append(user.name)
            }
            employees.removeAll { $0.id == employee.id }
            employees.append(employee)
            if !mappings.contains(where: { $0.crmUserId == user.id || $0.employeeId == employee.id }) {
                mappings.append(EmployeeMapping(crmUserId: user.id, crmUserName: user.name, employeeId: employee.id))
                report.mapped.append(user.name)
            }
        }
        if !report.mapped.isEmpty {
            try await integrations.replaceMappings(tenantId: integration.tenantId, integrationId: integration.id, mappings)
        }
        return report
    }

    /// A sync of an integration at `date`: scheduled ones are one per two-hour slot (two chains meeting in a slot become
    /// one); `cause` makes one of its own (a save that switched the sync on).
    public static func job(_ integration: Integration, at date: Date = Date(), cause: String? = nil) -> JobSpec {
        let slot = Int(date.timeIntervalSince1970 / interval)
        return JobSpec(tenantId: integration.tenantId, partitionKey: "sync:\(integration.id)", kind: jobKind,
                       payload: JSON.string(["integrationId": integration.id]),
                       dedupeKey: "\(integration.id):\(jobKind):" + (cause ?? String(slot)), maxAttempts: 5, runAt: date)
    }
}

/// The scheduled sync: runs while the integration is on and its sync is switched on, then schedules the next one.
public struct EmployeeSyncHandler: JobHandler {
    let registry: ConnectorRegistry
    let db: any Database
    let vault: CredentialVault
    let queue: JobQueue

    public init(registry: ConnectorRegistry, db: any Database, vault: CredentialVault, queue: JobQueue) {
        self.registry = registry
        self.db = db
        self.vault = vault
        self.queue = queue
    }

    public func run(_ job: Job, log: AttemptLog) async throws {
        let payload = try JSON.decode([String: String].self, from: job.payload)
        guard let integration = try await IntegrationStore(db: db).get(tenantId: job.tenantId, id: payload["integrationId"] ?? "") else {
            log.note(CallSkip.integrationDeleted)
            return
        }
        guard integration.active, EmployeeSync.Settings.of(integration).enabled else {
            log.note(EmployeeSync.Note.switchedOff)
            return
        }
        do {
            let report = try await EmployeeSync.run(integration, registry: registry, db: db, vault: vault)
            log.note(EmployeeSync.Note.done(report))
        } catch let failure as EmployeeSync.Failure {
            throw DeliveryError.permanent(failure.phrase)
        }
        try await queue.enqueue(EmployeeSync.job(integration, at: Date().addingTimeInterval(EmployeeSync.interval)))
    }
}
