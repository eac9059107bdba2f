import SwitchboardCRM

/// The amoCRM connector as the host's amoCRM routes and pages reach it (the registry's entry holds it).
extension Switchboard {
    public var amo: AmoConnector {
        guard let amo = connectors[.amocrm]?.context as? AmoConnector else {
            preconditionFailure("the connector registry has no amoCRM entry")
        }
        return amo
    }

    var amoOAuth: AmoOAuthApp? { AmoCRM.oauth(connectorEnvironment) }

    func amoWebhookKey(_ integrationId: String) -> String { AmoCRM.webhookKey(integrationId, connectorEnvironment) }

    func amoWebhookURL(_ integrationId: String) -> String { AmoCRM.webhookURL(integrationId, connectorEnvironment) }
}
