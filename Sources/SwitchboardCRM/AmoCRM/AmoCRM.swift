import Foundation
import SwitchboardCore
import SwitchboardDelivery

/// amoCRM's entry in the connector registry.
public enum AmoCRM {
    public static func connector(_ env: ConnectorEnvironment) -> CRMConnector {
        let amo = AmoConnector(db: env.db, vault: env.vault, http: env.outbound, observe: { env.observe(.amocrm, $0) }) {
            oauth(env)
        }
        return connector(amo, env)
    }

    /// The registry entry around an existing connector (tests swap parts of it).
    public static func connector(_ amo: AmoConnector, _ env: ConnectorEnvironment) -> CRMConnector {
        var c = CRMConnector(
            kind: .amocrm, title: "amoCRM", titleRU: "amoCRM", handlers: amo.handlers, managerLookup: amo.managerLookup(),
            settingsProblems: CRMConnector.problems(AmoSettings.self) { $0.validate() },
            onSave: { integration in
                // AMO-5: amoCRM reports contact changes, so a changed responsible user reaches routing at once;
                // CORE-16: and lead changes, so deals reach Raw data.
                guard integration.active else { return }
                try await amo.subscribeWebhook(integration: integration, destination: webhookURL(integration.id, env),
                                               contacts: integration.personalManagerRouting, deals: true)
            },
            context: amo)
        c.importDeals(amo.dealSpec, env: env)
        c.check = { await check(amo, $0) }
        c.oauth = OAuthSpec(
            configured: { oauth(env) != nil },
            refusal: { AmoOAuthApp.refusal(accountURL: $0, policy: env.outbound.policy) },
            authorizeURL: { account, state in oauth(env)?.authorizeURL(accountURL: account, state: state) },
            exchange: { code, account in
                guard let app = oauth(env) else { throw DeliveryError.permanent(AmoSays.noOAuthApp.phrase) }
                return try await AmoClient.exchangeCode(code, accountURL: account, oauth: app, http: env.outbound)
            },
            connected: AmoSays.connected.phrase)
        c.adopt(texts: AmoTexts.spec(amo), env: env, afterWrite: amo.afterWrite)
        c.users = { credential in
            try await AmoAPI(client: amo.client(tenantId: credential.tenantId, credential: credential, log: nil)).users()
                .map { CRMUserSummary(id: String($0.id), name: $0.name, email: $0.email) }
        }
        c.madeKinds = madeKinds
        c.recordURL = recordURL
        c.phrases = phrases
        return c
    }

    /// What the amoCRM call jobs keep per call, as the call journal names it (an amoCRM lead is a deal to its users).
    static let madeKinds = [
        MadeKind("contact", en: "contact", ru: "контакт"), MadeKind("unsorted.contact", en: "contact", ru: "контакт"),
        MadeKind("lead", en: "deal", ru: "сделка"), MadeKind("unsorted", en: "Unsorted entry", ru: "неразобранное"),
        MadeKind("call", en: "call logged", ru: "звонок записан"), MadeKind("task", en: "task", ru: "задача"),
        MadeKind("shown.", en: "card shown", ru: "карточка показана"),
    ]

    /// A contact's or a deal's page in the account (an Unsorted entry is a deal until it is sorted).
    @Sendable static func recordURL(_ kind: String, _ id: String, _ credential: CRMCredential) -> String? {
        guard Int(id) != nil else { return nil }
        let base = credential.baseURL.hasSuffix("/") ? String(credential.baseURL.dropLast()) : credential.baseURL
        switch kind {
        case "contact", "unsorted.contact": return "\(base)/contacts/detail/\(id)"
        case "lead", "unsorted": return "\(base)/leads/detail/\(id)"
        default: return nil
        }
    }

    /// CORE-1 "test": "connection works, account X, N users", or why not; the credentials' status follows.
    static func check(_ amo: AmoConnector, _ c: CRMCredential) async -> (ok: Bool, message: Phrase) {
        let api = AmoAPI(client: amo.client(tenantId: c.tenantId, credential: c, log: nil))
        do {
            let account = try await api.account()
            let users = try await api.users()
            try await amo.credentials.setStatus(tenantId: c.tenantId, id: c.id, status: .ok, detail: nil)
            return (true, AmoSays.works(account: account.name, users: users.count).phrase)
        } catch {
            let message = CRMFailure.phrase(of: error)
            try? await amo.credentials.setStatus(tenantId: c.tenantId, id: c.id, status: .failed, detail: message)
            return (false, message)
        }
    }

    /// The installation's amoCRM OAuth application, when configured.
    public static func oauth(_ env: ConnectorEnvironment) -> AmoOAuthApp? {
        guard let app = env.oauthApp(.amocrm) else { return nil }
        return AmoOAuthApp(clientId: app.clientId, clientSecret: app.clientSecret,
                           redirectURI: env.baseURL() + "/oauth/amocrm/callback")
    }

    /// The key in an amoCRM webhook URL: amoCRM does not sign its webhooks, so the address itself is the secret.
    public static func webhookKey(_ integrationId: String, _ env: ConnectorEnvironment) -> String {
        env.key(integrationId, purpose: "amocrm-webhook")
    }

    /// Where amoCRM sends an integration's contact changes.
    public static func webhookURL(_ integrationId: String, _ env: ConnectorEnvironment) -> String {
        "\(env.baseURL())/webhooks/amocrm/\(integrationId)/\(webhookKey(integrationId, env))"
    }
}
