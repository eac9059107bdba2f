import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
@testable import SwitchboardCRM
import SwitchboardSimulator
import SwitchboardStorage

/// CORE-14 through a real CRM sandbox (Bitrix24's users carry e-mails and inner numbers): written once in the seam,
/// so any connector with `users` gets it.
@Suite("Employee sync: selected CRM users become mapped PBX employees, by mapping or e-mail")
struct EmployeeSyncTests {
    static func withSync(_ integration: Integration, _ sync: EmployeeSync.Settings) throws -> Integration {
        var i = integration
        guard case .object(var o) = i.settings else { return i }
        o["employeeSync"] = try JSON.decode(JSONValue.self, from: JSON.string(sync))
        i.settings = .object(o)
        return i
    }

    @Test("sync now: a mapped user's employee is completed, a new one created and mapped, a dismissed or unknown one skipped; a second run changes nothing",
          arguments: Backend.available)
    func syncNow(_ backend: Backend) async throws {
        try await B24World.with(backend) { w in
            let settings = EmployeeSync.Settings(enabled: false, userIds: ["2", "4", "5", "999"])
            _ = try await w.sb.integrations.update(try Self.withSync(w.integration, settings))
            let api = ScenarioPlayer(baseURL: w.base, connectionId: "", secret: "")
            let auth = ["Authorization": "Bearer \(w.fx.tenant.token)"]
            var r = try await api.post("/api/v1/integrations/\(w.integration.id)/employee-sync", body: [], headers: auth)
            #expect(r.status == 200)
            let report = try JSON.decode(EmployeeSync.Report.self, from: r.body)
            #expect(report.updated == ["Борис Иванов"] && report.created == ["Сотрудник №5"] && report.mapped == ["Сотрудник №5"])
            #expect(report.skipped == ["Глеб Уволенный", "user 999"] && report.unchanged == 0)

            let employees = try await w.sb.pbx.employees(tenantId: w.fx.tenant.id, connectionId: w.fx.connection.id)
            let boris = try #require(employees.first { $0.login == "boris" })
            #expect(boris.name == "Борис Иванов" && boris.email == "boris@demo.example" && boris.extension_ == "102")
            let staff = try #require(employees.first { $0.email == "staff5@demo.example" })
            #expect(staff.login == "105" && staff.extension_ == "105")
            #expect(!employees.contains { $0.email == "gleb@demo.example" })
            let mappings = try await w.sb.integrations.mappings(tenantId: w.fx.tenant.id, integrationId: w.integration.id)
            #expect(mappings.first { $0.crmUserId == "5" }?.employeeId == staff.id)
            #expect(mappings.first { $0.crmUserId == "2" }?.employeeId == boris.id)

            r = try await api.post("/api/v1/integrations/\(w.integration.id)/employee-sync", body: [], headers: auth)
            let again = try JSON.decode(EmployeeSync.Report.self, from: r.body)
            #expect(again.created.isEmpty && again.updated.isEmpty && again.mapped.isEmpty && again.unchanged == 2)
            #expect(try await w.sb.pbx.employees(tenantId: w.fx.tenant.id, connectionId: w.fx.connection.id).count == employees.count)

            // The newly mapped employee's calls now reach Bitrix24 as theirs.
            try await w.playRingingFirst(ITooLabsScenarios.answered(client: "79046660011", line: B24World.line, employee: "105", talk: 9))
            #expect(w.calls("79046660011").first?["FINISH"]?["FINISHED_BY"]?.stringValue == "5")
        }
    }

    @Test("switched on: saving runs the sync through the queue, and it schedules itself two hours on", arguments: Backend.available)
    func scheduled(_ backend: Backend) async throws {
        try await B24World.with(backend) { w in
            let saved = try #require(try await w.sb.integrations.update(
                try Self.withSync(w.integration, EmployeeSync.Settings(enabled: true, userIds: ["6"]))))
            await w.sb.integrationSaved(saved)
            try await eventually("the sync to create the employee") {
                try await w.sb.pbx.employees(tenantId: w.fx.tenant.id, connectionId: w.fx.connection.id)
                    .contains { $0.email == "staff6@demo.example" }
            }
            try await eventually("the next sync to be scheduled") {
                try await w.sb.queue.list(tenantId: w.fx.tenant.id, limit: 1000).contains {
                    $0.kind == EmployeeSync.jobKind && $0.state == .queued && $0.runAt.timeIntervalSinceNow > 3600
                }
            }
            // The run that scheduled it is done (it schedules the next just before it finishes).
            try await eventually("the first sync to be done") {
                try await w.sb.queue.list(tenantId: w.fx.tenant.id, limit: 1000)
                    .filter { $0.kind == EmployeeSync.jobKind && $0.state == .done }.count == 1
            }
            let syncs = try await w.sb.queue.list(tenantId: w.fx.tenant.id, limit: 1000).filter { $0.kind == EmployeeSync.jobKind }
            #expect(syncs.count == 2)
        }
    }

    @Test("a CRM without a user list, or an integration without a PBX connection, is refused with the reason",
          arguments: Backend.available)
    func refusals(_ backend: Backend) async throws {
        try await B24World.with(backend) { w in
            var detached = w.integration
            detached.pbxConnectionId = nil
            do {
                _ = try await EmployeeSync.run(detached, registry: w.sb.connectors, db: w.sb.db, vault: w.sb.vault)
                Issue.record("a sync without a PBX connection ran")
            } catch let f as EmployeeSync.Failure {
                #expect(f.description.contains("no PBX connection"))
            }
            var other = w.integration
            other.crm = CRMKind("not-served")
            do {
                _ = try await EmployeeSync.run(other, registry: w.sb.connectors, db: w.sb.db, vault: w.sb.vault)
                Issue.record("a sync for an unserved CRM ran")
            } catch let f as EmployeeSync.Failure {
                #expect(f.description.contains("cannot list its users"))
            }
        }
    }
}
