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
        c.madeKinds = madeKinds
        c.adopt(texts: MegaplanTexts.spec(mp), env: env, afterWrite: mp.afterWrite)
        c.importDeals(mp.dealSpec, env: env)
        c.phrases = phrases
        return c
    }

    /// What the Megaplan call jobs keep per call, as the call journal names it.
    static let madeKinds = [
        MadeKind("client", en: "client", ru: "клиент"), MadeKind("fields", en: "extra fields updated", ru: "доп. поля обновлены"),
        MadeKind("communication", en: "communication", ru: "коммуникация"), MadeKind("todo", en: "todo", ru: "дело"),
        MadeKind("process", en: "process", ru: "процесс"), MadeKind("bound", en: "client bound to the call", ru: "клиент привязан к звонку"),
        MadeKind("history", en: "call logged", ru: "звонок записан"), MadeKind("callInfo.", en: "card shown", ru: "карточка показана"),
        MadeKind("finish.", en: "card finished", ru: "карточка завершена"),
        MadeKind("note", en: "request written on the client", ru: "заявка записана в клиента"),
        MadeKind("transcript", en: "chat transcript on the client", ru: "переписка записана в клиента"),
        MadeKind("transcript.process", en: "chat transcript on the process", ru: "переписка записана в процесс"),
    ]
}
