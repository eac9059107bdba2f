import Foundation
import SwitchboardCore
import SwitchboardCRM

extension HostServices {
    /// What a connector's endpoints may ask of this installation, done by the application's services: the same
    /// click-to-call, do-not-disturb and hang-up the management API sends, the routing cache and saving's side effects.
    static func live(_ sb: Switchboard) -> HostServices {
        let calls = ClickToCallService(sb: sb)
        var services = HostServices(
            clickToCall: { integration, employeeId, phone in
                try await ClickToCallService.Refusal.toCRM {
                    try await calls.originate(for: integration, employeeId: employeeId, phone: phone)
                }
            },
            forgetRouting: { await sb.forgetRouting(integrationId: $0) },
            integrationSaved: { await sb.integrationSaved($0) })
        services.setDND = { integration, employeeId, on in
            try await ClickToCallService.Refusal.toCRM {
                try await calls.setDND(tenantId: integration.tenantId, employeeId: employeeId, on: on)
            }
        }
        services.hangUp = { integration, callId in
            try await ClickToCallService.Refusal.toCRM { try await calls.hangUp(tenantId: integration.tenantId, callId: callId) }
        }
        services.dealsChanged = { try await sb.dealsChanged($0, dealIds: $1) }
        return services
    }
}

extension ClickToCallService.Refusal {
    /// The refusal as a CRM's command is answered.
    var forCRM: ClickToCallRefusal {
        switch self {
        case .switchedOff: ClickToCallRefusal("the integration is switched off")
        case .noEmployee: ClickToCallRefusal("the employee is not found")
        case .noIntegration: ClickToCallRefusal("the integration is not found")
        case .notAPhone(let phone): ClickToCallRefusal("\(phone) is not a phone number")
        case .noCall: ClickToCallRefusal("the call is not found")
        }
    }

    static func toCRM<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let refusal as ClickToCallService.Refusal { throw refusal.forCRM }
    }
}
