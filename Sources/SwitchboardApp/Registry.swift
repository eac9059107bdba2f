import SwitchboardCore
import SwitchboardCRM

/// The web side of each CRM (its cabinet pages and own routes, in the CRM's folder under SwitchboardApp): the server's
/// one list of them. Which CRMs are served is the connector registry's say; this only finds a served CRM's pages.
enum AppConnectors {
    static let pages: [CRMKind: CRMPages] = [.amocrm: .amoCRM, .bitrix24: .bitrix24, .megaplan: .megaplan, .moysklad: .moysklad]
}
