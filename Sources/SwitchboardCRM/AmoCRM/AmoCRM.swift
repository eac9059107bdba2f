import Foundation
import SwitchboardCore

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
        CRMConnector(
            kind: .amocrm, title: "amoCRM", titleRU: "amoCRM", handlers: amo.handlers, managerLookup: amo.managerLookup(),
            settingsProblems: CRMConnector.problems(AmoSettings.self) { $0.validate() },
            onSave: { integration in
                // AMO-5: amoCRM reports contact changes, so a changed responsible user reaches routing at once.
                guard integration.active, integration.personalManagerRouting else { return }
                try await amo.subscribeWebhook(integration: integration, destination: webhookURL(integration.id, env))
            },
            context: amo)
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
