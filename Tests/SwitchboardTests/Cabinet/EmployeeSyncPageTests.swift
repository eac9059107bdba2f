import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
@testable import SwitchboardCRM
import SwitchboardStorage

/// CORE-14, MP-3 in the cabinet (guide 001, "Синхронизация сотрудников"): the CRM's users to choose, the sync switch,
/// and "Синхронизировать" with what it did; here against the Megaplan sandbox, whose employees carry e-mails.
@Suite("Cabinet: employee sync page")
struct EmployeeSyncPageTests {
    @Test("choose users, save the switch, synchronise now: employees created or completed and mapped, the report shown",
          arguments: Backend.available)
    func syncPage(_ backend: Backend) async throws {
        try await withMegaplanSandbox { _, sandboxURL in
            try await withSwitchboard(backend) { sb in
                try await withCabinetTenant(sb, employees: [("anna", "101", "Анна С.")]) { tenantId, employees, cab in
                    let c = try await sb.credentials.create(tenantId: tenantId, crm: .megaplan, name: "Мегаплан", baseURL: sandboxURL,
                                                            authKind: .password, secret: CRMSecret(login: "admin@demo.example", password: "demo-password"))
                    let (_, integration) = try await cab.connect(sb, tenantId: tenantId, .megaplan)
                    #expect(integration.credentialId == c.id)
                    try await cab.get("/cabinet") { res in
                        #expect(res.body.text.contains("/cabinet/integrations/\(integration.id)/employees"))
                    }
                    let path = "/cabinet/integrations/\(integration.id)/employees"
                    try await cab.get(path) { res in
                        #expect(res.status == .ok)
                        let html = res.body.text
                        #expect(html.contains("Синхронизация сотрудников") && html.contains("каждые 2 часа"))
                        #expect(html.contains("Борис Иванов") && html.contains("boris@demo.example") && html.contains("id=\"user.1000002\""))
                    }
                    // Save the choice with the sync switched on (the integration is off, so nothing runs by itself).
                    try await cab.post(path, ["enabled": "1", "user.1000001": "1", "user.1000002": "1", "action": "save"]) { res in
                        #expect(res.status == .ok && res.body.text.contains("Сохранено"))
                        #expect(res.body.text.contains("name=\"user.1000002\" value=\"1\" checked"))
                    }
                    let saved = try #require(try await sb.integrations.get(tenantId: tenantId, id: integration.id))
                    #expect(EmployeeSync.Settings.of(saved) == EmployeeSync.Settings(enabled: true, userIds: ["1000001", "1000002"]))
                    // "Синхронизировать": Анна is the PBX's anna by her inner number 101 (completed with her name and
                    // e-mail), Борис is created by his; both mapped.
                    try await cab.post(path, ["enabled": "1", "user.1000001": "1", "user.1000002": "1", "action": "sync"]) { res in
                        #expect(res.status == .ok)
                        #expect(res.body.text.contains("Синхронизировано: создано 1, обновлено 1, сопоставлено 2"))
                    }
                    let staff = try await sb.pbx.employees(tenantId: tenantId)
                    #expect(staff.contains { $0.email == "boris@demo.example" && $0.login == "102" && $0.name == "Борис Иванов" })
                    let mappings = try await sb.integrations.mappings(tenantId: tenantId, integrationId: integration.id)
                    #expect(Set(mappings.map(\.crmUserId)) == ["1000001", "1000002"])
                    let anna = try #require(staff.first { $0.id == employees["anna"]?.id })
                    #expect(anna.name == "Анна Смирнова" && anna.email == "anna@demo.example" && staff.filter { $0.extension_ == "101" }.count == 1)
                    #expect(mappings.first { $0.crmUserId == "1000001" }?.employeeId == anna.id)
                }
            }
        }
    }
}
