import Foundation
import SwitchboardCore
import SwitchboardPBX
import SwitchboardStorage

/// Calls placed, ended and do-not-disturb set at a tenant's PBX, for the management API and for the CRMs' own commands
/// through `HostServices` alike (issue 10's application layer): the employee and their connection found, the client's
/// number read in the connection's region, the caller ID the integration's click-to-call settings choose, the command
/// sent through `ConnectionService.command`.
struct ClickToCallService: Sendable {
    let pbx: PBXStore
    let integrations: IntegrationStore
    let calls: CallStore
    let connections: ConnectionService

    init(sb: Switchboard) {
        pbx = sb.pbx
        integrations = sb.integrations
        calls = sb.calls
        connections = ConnectionService(sb: sb)
    }

    /// Why a call was not placed; each caller says it in its own words (the API with the field, a CRM as a refusal).
    enum Refusal: Error, Equatable {
        case switchedOff
        case noEmployee
        case noIntegration
        case notAPhone(String)
        case noCall
    }

    /// What the PBX was asked to do.
    struct Placed: Sendable, Equatable {
        var pbxCallId: String?
        var callerId: String?
    }

    /// Click-to-call: the PBX rings the employee first, then the client; the caller ID comes from the integration's
    /// click-to-call settings when one is named.
    func originate(tenantId: String, employeeId: String, phone: String, integrationId: String? = nil) async throws -> Placed {
        let employee = try await employee(tenantId: tenantId, id: employeeId)
        var settings = ClickToCallSettings()
        if let integrationId {
            guard let integration = try await integrations.get(tenantId: tenantId, id: integrationId) else { throw Refusal.noIntegration }
            settings = integration.clickToCall
        }
        return try await originate(employee, phone: phone, settings: settings)
    }

    /// Click-to-call a CRM asked for, by the employee mapped to its user: only while the integration is on.
    func originate(for integration: Integration, employeeId: String, phone: String) async throws -> String? {
        guard integration.active else { throw Refusal.switchedOff }
        let employee = try await employee(tenantId: integration.tenantId, id: employeeId)
        return try await originate(employee, phone: phone, settings: integration.clickToCall).pbxCallId
    }

    /// Do-not-disturb for an employee (of `connectionId` when given, else of whichever connection they are on).
    func setDND(tenantId: String, employeeId: String, on: Bool, connectionId: String? = nil) async throws {
        let connection: PBXConnection
        let employee: Employee
        if let connectionId {
            guard let c = try await pbx.get(tenantId: tenantId, id: connectionId) else { throw ServiceError.notFound("PBX connection not found") }
            guard let e = try await pbx.employees(tenantId: tenantId, connectionId: c.id).first(where: { $0.id == employeeId }) else {
                throw Refusal.noEmployee
            }
            (connection, employee) = (c, e)
        } else {
            employee = try await self.employee(tenantId: tenantId, id: employeeId)
            connection = try await self.connection(of: employee)
        }
        try await connections.command(connection) { try await $0.setDND(employeeLogin: employee.login, on: on) }
    }

    /// Ends a call (Switchboard's call id) at the PBX, which knows it by its own id (the first it gave).
    func hangUp(tenantId: String, callId: String) async throws {
        guard let call = try await calls.get(tenantId: tenantId, id: callId),
              let connection = try await pbx.get(tenantId: tenantId, id: call.pbxConnectionId) else { throw Refusal.noCall }
        try await connections.command(connection) { try await $0.hangup(callId: call.externalIds.first ?? call.id) }
    }

    // MARK: parts

    func employee(tenantId: String, id: String) async throws -> Employee {
        guard let e = try await pbx.employees(tenantId: tenantId).first(where: { $0.id == id }) else { throw Refusal.noEmployee }
        return e
    }

    func connection(of employee: Employee) async throws -> PBXConnection {
        guard let c = try await pbx.get(tenantId: employee.tenantId, id: employee.pbxConnectionId) else {
            throw ServiceError.notFound("PBX connection not found")
        }
        return c
    }

    func originate(_ employee: Employee, phone: String, settings: ClickToCallSettings) async throws -> Placed {
        let connection = try await connection(of: employee)
        let client = PhoneNumber.parse(phone, region: connection.region)
        guard client.e164 != nil else { throw Refusal.notAPhone(phone) }
        let callerId = settings.callerId(for: employee)
        let id = try await connections.command(connection) {
            try await $0.originate(employeeLogin: employee.login, clientNumber: client, callerId: callerId)
        }
        return Placed(pbxCallId: id, callerId: callerId)
    }
}
