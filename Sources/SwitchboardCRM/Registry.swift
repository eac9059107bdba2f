import SwitchboardCore

/// The one list of CRMs: generic code iterates it and never names a CRM.
public enum Connectors {
    /// Every CRM's phrases, English → Russian, for the cabinet's message catalog.
    public static let messages: [(String, String)] = AmoCRM.messages + Bitrix24.messages + MoySklad.messages + Megaplan.messages

    public static func live(_ env: ConnectorEnvironment) -> ConnectorRegistry {
        ConnectorRegistry(
            all: [AmoCRM.connector(env), Bitrix24.connector(env), MoySklad.connector(env), Megaplan.connector(env)],
            planned: [])
    }
}
