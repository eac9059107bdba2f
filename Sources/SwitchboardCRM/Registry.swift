import SwitchboardCore

/// The one list of CRMs: generic code iterates it and never names a CRM.
public enum Connectors {
    public static func live(_ env: ConnectorEnvironment) -> ConnectorRegistry {
        ConnectorRegistry(
            all: [AmoCRM.connector(env), Bitrix24.connector(env), MoySklad.connector(env), Megaplan.connector(env)],
            planned: [])
    }
}
