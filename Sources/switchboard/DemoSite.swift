import Foundation
import SwitchboardApp
import SwitchboardCore
import SwitchboardStorage

/// The demo's sample site (issue 14): a site with Switchboard's request form, and the text rules switched on in every
/// demo integration whose CRM takes requests and chats (unless its seed wrote its own), with the CRM user mapped to the
/// first employee responsible.
enum DemoSite {
    static func seed(_ sb: Switchboard, tenant: Tenant, integrations: [String]) async throws -> Site {
        let site = try await TextStore(db: sb.db).createSite(tenantId: tenant.id, name: "Демо-магазин", origins: [],
                                                             requestTypes: ["Обратный звонок", "Заказ", "Вопрос"])
        for id in integrations {
            guard var integration = try await sb.integrations.get(tenantId: tenant.id, id: id),
                  sb.connectors[integration.crm]?.texts != nil, case .object(var settings) = integration.settings,
                  settings["texts"] == nil,  // a CRM's demo seed that wrote its own rules keeps them
                  let responsible = try await sb.integrations.mappings(tenantId: tenant.id, integrationId: id).first?.crmUserId else { continue }
            settings["texts"] = .object([
                "requests": .object(["enabled": .bool(true), "defaultResponsible": .string(responsible), "createTask": .bool(true)]),
                "chats": .object(["enabled": .bool(true), "defaultResponsible": .string(responsible), "trigger": .string("finished")]),
            ])
            integration.settings = .object(settings)
            _ = try await sb.integrations.update(integration)
        }
        return site
    }
}
