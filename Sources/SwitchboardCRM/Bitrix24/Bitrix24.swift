import Foundation
import SwitchboardCore

/// Bitrix24's entry in the connector registry.
public enum Bitrix24 {
    public static func connector(_ env: ConnectorEnvironment) -> CRMConnector {
        connector(B24Connector(env: env), env)
    }

    public static func connector(_ b24: B24Connector, _ env: ConnectorEnvironment) -> CRMConnector {
        var c = CRMConnector(
            kind: .bitrix24, title: "Bitrix24", titleRU: "Bitrix24", handlers: b24.handlers,
            managerLookup: B24ManagerLookup(connector: b24),
            settingsProblems: CRMConnector.problems(B24Settings.self) { $0.validate() },
            onSave: { integration in
                // Events are bound at installation; saving binds again in case the portal lost them.
                guard integration.active, let id = integration.credentialId,
                      let credential = try await b24.credentials.get(tenantId: integration.tenantId, id: id),
                      try await b24.credentials.secret(tenantId: integration.tenantId, id: id)?.refreshToken != nil else { return }
                try await b24.bindEvents(credential)
            },
            context: b24)
        c.inbound = [b24.inbound]
        c.check = { await b24.check($0) }
        c.adopt(texts: B24Texts.spec(b24), env: env)
        c.credentialLinks = { ["applicationHandlerURL": b24.handlerURL($0)] }
        c.users = { try await b24.users($0) }
        c.importDeals(b24.dealSpec, env: env)
        // CORE-17: B24-5's UTM tags per virtual number name the campaign (utm_campaign, else utm_source).
        c.lineCampaigns = { json in
            guard let settings = try? JSON.decode(B24Settings.self, from: JSON.string(json)) else { return [:] }
            return settings.callTracking.byLine.compactMapValues { tags in
                [tags["utm_campaign"], tags["utm_source"]].compactMap { $0 }.first { !$0.isEmpty }
            }
        }
        c.madeKinds = madeKinds
        c.recordURL = recordURL
        c.phrases = phrases
        return c
    }

    /// What the Bitrix24 call jobs keep per call, as the call journal names it: what registration created in the
    /// CRM, the finished call, its recording, the cards shown.
    static let madeKinds = [
        MadeKind("created.CONTACT", en: "contact", ru: "контакт"), MadeKind("created.COMPANY", en: "company", ru: "компания"),
        MadeKind("created.LEAD", en: "lead", ru: "лид"), MadeKind("created.DEAL", en: "deal", ru: "сделка"),
        MadeKind("finish", en: "call logged", ru: "звонок записан"), MadeKind("record", en: "recording attached", ru: "запись прикреплена"),
        MadeKind("shown.", en: "card shown", ru: "карточка показана"),
    ]

    /// A CRM record's page on the portal.
    @Sendable static func recordURL(_ kind: String, _ id: String, _ credential: CRMCredential) -> String? {
        let types = ["created.CONTACT": "contact", "created.COMPANY": "company", "created.LEAD": "lead", "created.DEAL": "deal"]
        guard let type = types[kind], Int(id) != nil else { return nil }
        let base = credential.baseURL.hasSuffix("/") ? String(credential.baseURL.dropLast()) : credential.baseURL
        return "\(base)/crm/\(type)/details/\(id)/"
    }
}
