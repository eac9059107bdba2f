import Foundation
import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardSandbox
import SwitchboardStorage

extension DemoCRM {
    /// Megaplan in the demo: the sandbox account by login and password, the call cards and a client for every new
    /// caller; Анна, Борис and Вера are its employees 1000001–1000003 (extensions 101–103 in its telephony settings).
    static let megaplan = DemoCRM(title: "Megaplan", portOffset: 5, seed: { d in
        let sandbox = MegaplanSandbox()
        let credential = try await d.sb.credentials.create(tenantId: d.tenant.id, crm: .megaplan, name: "Песочница Мегаплан",
                                                           baseURL: d.url, authKind: .password,
                                                           secret: CRMSecret(login: "admin@demo.example", password: "demo-password"))
        var settings = MegaplanSettings()
        settings.defaultResponsible = "1000003"
        settings.personalManager = true
        // The sample site's requests and chats (MP-10): a client with the site and UTM source in its extra fields, a todo,
        // and for requests a process in «Продажи»; a finished chat's transcript on the client.
        settings.texts = try JSON.decode(JSONValue.self, from: """
            {"requests": {"enabled": true, "defaultResponsible": "1000001", "createTask": true, "createDeal": true,
                          "extraFields": {"site": "Category1000047CustomFieldSait", "utm_source": "Category1000047CustomFieldUtmMetka"},
                          "process": {"programId": "8"}},
             "chats": {"enabled": true, "defaultResponsible": "1000001", "trigger": "finished", "createContact": true,
                       "extraFields": {"site": "Category1000047CustomFieldSait"}}}
            """)
        let integration = try await d.sb.integrations.create(
            tenantId: d.tenant.id, crm: .megaplan, name: "Мегаплан", credentialId: credential.id, pbxConnectionId: d.connection.id,
            active: true, settings: try JSON.decode(JSONValue.self, from: JSON.string(settings)))
        let users = [("anna", "1000001"), ("boris", "1000002"), ("vera", "1000003")]
        try await d.sb.integrations.replaceMappings(tenantId: d.tenant.id, integrationId: integration.id, users.compactMap { login, user in
            d.employees[login].map { EmployeeMapping(crmUserId: user, crmUserName: $0.name, employeeId: $0.id) }
        })
        return DemoSeeded(service: sandbox.application(port: d.port, logger: d.logger), integrationId: integration.id,
                          stateURL: d.url + "/sandbox/state")
    })
}
