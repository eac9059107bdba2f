import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

/// A CRM's pages in the cabinet, declared in the CRM's folder: its credential form and its integration settings page
/// (drawn and saved).
struct CRMPages: Sendable {
    typealias Page = @Sendable (Cabinet, Request, AppRequestContext, SessionStore.Session) async throws -> Response

    var credentials: CredentialForm
    var settings: Page
    var save: Page
    /// The CRM's own web routes beyond the connector's inbound endpoints (OAuth callback, widget), if any.
    var routes: (@Sendable (Switchboard, Router<AppRequestContext>) -> Void)? = nil
}

extension Cabinet {
    static var crmPages: [CRMKind: CRMPages] { AppConnectors.pages }

    /// An integration's settings page (or its Save), by the integration's CRM.
    func integrationPage(_ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session, saving: Bool) async throws -> Response {
        guard let integration = try await sb.integrations.get(tenantId: s.tenantId, id: try ctx.param("id")),
              sb.connectors[integration.crm] != nil, let pages = Self.crmPages[integration.crm] else {
            if saving, try await checkedForm(req, s) == nil { return forbidden(req) }
            return page(lang(req, s), title: "404", body: "<h1>404</h1>", status: .notFound, csrf: s.csrf, email: s.email)
        }
        return try await (saving ? pages.save : pages.settings)(self, req, ctx, s)
    }

    /// A field's hint from a CRM's table: shown under it and on hover over the "?".
    func hint(_ l: Lang, _ key: String, from table: [String: (ru: String, en: String)]) -> String {
        guard let h = table[key] else { return "" }
        let text = l == .ru ? h.ru : h.en
        return "<small id=\"hint-\(key)\"><span class=\"hint\" title=\"\(esc(text))\" aria-hidden=\"true\">?</span> \(esc(text))</small>"
    }

    /// The settings problems of `field` and of the fields under it, each beside the field.
    static func problems(_ problems: [SettingsProblem], _ field: String, _ l: Lang) -> String {
        problems.filter { $0.field == field || $0.field.hasPrefix(field + ".") }
            .map { "<span class=\"error\" role=\"alert\">\(esc(l.say($0.phrase)))</span>" }.joined()
    }

    /// Stores what every CRM's settings form carries once its settings passed the connector's check: the settings
    /// document, "Integration active", the credentials, the employee mapping (when the form had one); then the CRM's
    /// save hook (CORE-2, CORE-3).
    func storeIntegration(_ integration: Integration, settings: JSONValue, form f: [String: String], tenantId: String,
                          mappings: [EmployeeMapping]?) async throws {
        guard integration.tenantId == tenantId else { return }
        _ = try await integrationService.saveForm(integration, settings: settings, active: f["active"] == "1",
                                                  credentialId: f["credentialId"], mappings: mappings)
    }

    var integrationService: IntegrationService { IntegrationService(sb: sb) }
}
