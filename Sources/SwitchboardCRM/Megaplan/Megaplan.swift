import Foundation
import SwitchboardCore

/// Megaplan's entry in the connector registry.
public enum Megaplan {
    public static func connector(_ env: ConnectorEnvironment) -> CRMConnector {
        connector(MegaplanConnector(env: env), env)
    }

    /// The registry entry around an existing connector (tests swap parts of it).
    public static func connector(_ mp: MegaplanConnector, _ env: ConnectorEnvironment) -> CRMConnector {
        var c = CRMConnector(
            kind: .megaplan, title: "Megaplan", titleRU: "Мегаплан", handlers: mp.handlers,
            managerLookup: MegaplanManagerLookup(connector: mp),
            settingsProblems: CRMConnector.problems(MegaplanSettings.self) { $0.validate() },
            context: mp)
        c.inbound = mp.inbound
        c.check = { await mp.check($0) }
        c.users = { try await mp.users($0) }
        c.credentialLinks = { mp.commandURLs($0) }
        return c
    }
}
