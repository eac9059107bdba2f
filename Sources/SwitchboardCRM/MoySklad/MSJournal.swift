import Foundation
import SwitchboardCore

extension MoySklad {
    /// What the MoySklad call jobs keep per call, as the call journal names it.
    static let madeKinds = [
        MadeKind("counterparty", en: "counterparty", ru: "контрагент"), MadeKind("order", en: "customer order", ru: "заказ покупателя"),
        MadeKind("task", en: "task", ru: "задача"), MadeKind("extra", en: "extra fields updated", ru: "доп. поля обновлены"),
        MadeKind("call", en: "call logged", ru: "звонок записан"), MadeKind("end", en: "call closed", ru: "звонок завершён"),
        MadeKind("show.", en: "card shown", ru: "карточка показана"), MadeKind("start.", en: "timer started", ru: "таймер запущен"),
        MadeKind("hide.", en: "card hidden", ru: "карточка скрыта"),
        MadeKind("transcript", en: "chat transcript on the counterparty", ru: "переписка записана в контрагента"),
    ]

    /// A record's page in MoySklad's web interface (online.moysklad.ru, for accounts on api.moysklad.ru; the page
    /// addresses are UNCONFIRMED beyond their common use).
    @Sendable static func recordURL(_ kind: String, _ id: String, _ credential: CRMCredential) -> String? {
        guard URLComponents(string: credential.baseURL)?.host == "api.moysklad.ru", UUID(uuidString: id) != nil else { return nil }
        switch kind {
        case "counterparty": return "https://online.moysklad.ru/app/#company/edit?id=\(id)"
        case "order": return "https://online.moysklad.ru/app/#customerorder/edit?id=\(id)"
        default: return nil
        }
    }
}
