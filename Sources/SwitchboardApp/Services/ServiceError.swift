import Foundation
import SwitchboardCore

/// Why a service of the application layer refused (issue 10, decision 0006 §4): the management API answers it with its
/// status and the cabinet shows its message beside the form. Messages are English; a refused value carries its phrase, which
/// the cabinet shows in the tenant's language.
enum ServiceError: Error, Equatable, CustomStringConvertible {
    /// The thing asked for is not the tenant's (404).
    case notFound(String)
    /// A value the tenant gave is refused, with the field it came in (422).
    case invalid(field: String?, Phrase)
    /// What is asked cannot be done in the current state (409).
    case conflict(String)
    /// The PBX or the CRM refused or failed: 502 when trying again may help, otherwise 422.
    case upstream(Phrase, retryable: Bool)

    var message: String {
        switch self {
        case .notFound(let m), .conflict(let m): m
        case .invalid(_, let p), .upstream(let p, _): p.en
        }
    }

    /// The refusal in the tenant's languages, when it has them.
    var phrase: Phrase? {
        switch self {
        case .invalid(_, let p), .upstream(let p, _): return p
        default: return nil
        }
    }

    var field: String? {
        if case .invalid(let field, _) = self { return field }
        return nil
    }

    var description: String { message }
}
