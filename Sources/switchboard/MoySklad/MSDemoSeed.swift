import Foundation
import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardSandbox
import SwitchboardStorage

extension DemoCRM {
    /// MoySklad in the demo: the sandbox account (Phone API access key, JSON API login), counterparties for new callers
    /// with tasks for missed calls; Анна, Борис and Вера are its first three employees (extensions 101–103).
    static let moySklad = DemoCRM(title: "MoySklad", portOffset: 4, seed: { d in
        let sandbox = MoySkladSandbox()
        let seed = MoySkladSandboxSeed.demo
        let credential = try await d.sb.credentials.create(tenantId: d.tenant.id, crm: .moysklad, name: "Песочница МойСклад",
                                                           baseURL: d.url, authKind: .token,
                                                           secret: CRMSecret(login: "admin@demo", password: "demo-password",
                                                                             token: seed.phoneAccessKey))
        var settings = MSSettings()
        settings.defaultResponsible = seed.employees[2].id
        settings.personalManager = true
        // MS-1: the deals import with its own login; saving the integration in the cabinet makes the order webhooks.
        let deals = try await d.sb.credentials.create(tenantId: d.tenant.id, crm: .moysklad, name: "МойСклад - передача сделок",
                                                      baseURL: d.url, authKind: .password,
                                                      secret: CRMSecret(login: "admin@demo", password: "demo-password"))
        settings.dealsImport = MSSettings.DealsImport(enabled: true, credentialId: deals.id)
        let integration = try await d.sb.integrations.create(
            tenantId: d.tenant.id, crm: .moysklad, name: "МойСклад", credentialId: credential.id, pbxConnectionId: d.connection.id,
            active: true, settings: try JSON.decode(JSONValue.self, from: JSON.string(settings)))
        let users = zip(["anna", "boris", "vera"], seed.employees.prefix(3).map(\.id))
        try await d.sb.integrations.replaceMappings(tenantId: d.tenant.id, integrationId: integration.id, users.compactMap { login, user in
            d.employees[login].map { EmployeeMapping(crmUserId: user, crmUserName: $0.name, employeeId: $0.id) }
        })
        return DemoSeeded(service: sandbox.application(port: d.port, logger: d.logger), integrationId: integration.id,
                          stateURL: d.url + "/sandbox/state")
    })
}
