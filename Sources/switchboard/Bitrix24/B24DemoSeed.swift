import Foundation
import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardSandbox
import SwitchboardStorage

extension DemoCRM {
    /// Bitrix24 in the demo: the sandbox portal is also its OAuth server; the portal installs the Switchboard application
    /// once both listen, as a real portal does; Анна, Борис and Вера are users 1–3; CallTracking and chat messages on.
    static let bitrix24 = DemoCRM(title: "Bitrix24", portOffset: 3, configure: { config, url in
        config.connectorSettings[B24OAuthServer.settingName] = url
    }, seed: { d in
        let sandbox = B24Sandbox()
        let credential = try await d.sb.credentials.create(tenantId: d.tenant.id, crm: .bitrix24, name: "Песочница Bitrix24",
                                                           baseURL: d.url, authKind: .oauth,
                                                           secret: CRMSecret(login: sandbox.seed.client_id, password: sandbox.seed.client_secret))
        var settings = B24Settings()
        settings.incoming.defaultResponsible = 3
        settings.incoming.responsibleTalker = .first
        settings.outgoing.defaultResponsible = 3
        settings.chatMessage = true
        settings.callTracking.enabled = true
        settings.callTracking.tags = ["utm_source", "utm_medium", "utm_campaign"]
        settings.callTracking.byLine = ["74951234567": ["utm_source": "yandex", "utm_medium": "cpc", "utm_campaign": "demo"]]
        let integration = try await d.sb.integrations.create(
            tenantId: d.tenant.id, crm: .bitrix24, name: "Bitrix24", credentialId: credential.id, pbxConnectionId: d.connection.id,
            active: true, settings: try JSON.decode(JSONValue.self, from: JSON.string(settings)))
        let users = [("anna", 1), ("boris", 2), ("vera", 3)]
        try await d.sb.integrations.replaceMappings(tenantId: d.tenant.id, integrationId: integration.id, users.compactMap { login, user in
            d.employees[login].map { EmployeeMapping(crmUserId: String(user), crmUserName: $0.name, employeeId: $0.id) }
        })
        let handler = d.sb.connectors[.bitrix24]?.credentialLinks(credential)["applicationHandlerURL"] ?? ""
        let service = sandbox.application(port: d.port, logger: d.logger, onRunning: { _ in
            Task {
                try? await Task.sleep(for: .milliseconds(500))
                let installed = await sandbox.installApplication(handler: handler)
                say(installed ? "Bitrix24 sandbox: the Switchboard application is installed" : "Bitrix24 sandbox: installation failed")
            }
        })
        return DemoSeeded(service: service, integrationId: integration.id, stateURL: d.url + "/sandbox/state")
    })
}
