import Foundation
import SwitchboardCore

/// MoySklad's entry in the connector registry.
public enum MoySklad {
    public static func connector(_ env: ConnectorEnvironment) -> CRMConnector {
        connector(MSConnector(env: env), env)
    }

    public static func connector(_ ms: MSConnector, _ env: ConnectorEnvironment) -> CRMConnector {
        var c = CRMConnector(
            kind: .moysklad, title: "MoySklad", titleRU: "МойСклад", handlers: ms.handlers,
            managerLookup: MSManagerLookup(connector: ms),
            settingsProblems: CRMConnector.problems(MSSettings.self) { $0.validate() + $0.dealsProblems() },
            onSave: { integration in
                // Both subscriptions are tried; the first refusal is reported.
                var refusal: (any Error)?
                do { try await ms.subscribe(integration) } catch { refusal = error }
                try await ms.subscribeDeals(integration)
                if let refusal { throw refusal }
            },
            context: ms)
        c.inbound = ms.inbound
        c.check = { await ms.check($0) }
        c.adopt(texts: MSTexts.spec(ms), env: env, afterWrite: ms.afterWrite)
        c.importDeals(ms.dealSpec, env: env)
        // The deals import's own login (authKind password) is no telephony application: it has no address to paste.
        c.credentialLinks = { $0.authKind == .password ? [:] : ["webhookURL": ms.providerURL($0)] }
        c.users = { try await ms.users($0) }
        c.madeKinds = madeKinds
        c.phrases = phrases
        c.recordURL = recordURL
        return c
    }
}
