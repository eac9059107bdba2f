import Foundation
import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardSandbox
import SwitchboardStorage

extension DemoCRM {
    /// amoCRM in the demo: the sandbox account with a long-lived token, rules for every call, Анна, Борис and Вера
    /// being users 8001–8003.
    static let amoCRM = DemoCRM(title: "amoCRM", portOffset: 1, seed: { d in
        let sandbox = AmoSandbox()
        let credential = try await d.sb.credentials.create(tenantId: d.tenant.id, crm: .amocrm, name: "Песочница amoCRM",
                                                           baseURL: d.url, authKind: .token,
                                                           secret: CRMSecret(token: sandbox.seed.long_lived_tokens[0]))
        var settings = AmoSettings(defaultResponsibleUserId: 8_003)
        settings.incoming.answeredUnknown = AmoRule(enabled: true, action: .contactAndDeal, pipelineId: 7_001, statusId: 70_011)
        settings.incoming.missedUnknown = AmoRule(enabled: true, action: .unsorted, pipelineId: 7_001)
        settings.incoming.answeredKnown = AmoRule(enabled: true, action: .deal, pipelineId: 7_001, statusId: 70_011)
        settings.incoming.missedKnown = AmoRule(enabled: true, action: .deal, pipelineId: 7_001, statusId: 70_011)
        settings.incoming.tags = true
        settings.incoming.taskForAnswerer = true
        settings.outgoing.answeredUnknown = AmoRule(enabled: true, action: .contactAndDeal, pipelineId: 7_001, statusId: 70_011)
        settings.personalManager = true
        settings.clickToCall = ClickToCallSettings(callerId: "+74950000000", overrideCallerId: false)
        let integration = try await d.sb.integrations.create(
            tenantId: d.tenant.id, crm: .amocrm, name: "amoCRM", credentialId: credential.id, pbxConnectionId: d.connection.id,
            active: true, settings: try JSON.decode(JSONValue.self, from: JSON.string(settings)))
        let users = [("anna", 8_001), ("boris", 8_002), ("vera", 8_003)]
        try await d.sb.integrations.replaceMappings(tenantId: d.tenant.id, integrationId: integration.id, users.compactMap { login, user in
            d.employees[login].map { EmployeeMapping(crmUserId: String(user), crmUserName: $0.name, employeeId: $0.id) }
        })
        return DemoSeeded(service: sandbox.application(port: d.port, logger: d.logger), integrationId: integration.id,
                          stateURL: d.url + "/sandbox/state")
    })
}
