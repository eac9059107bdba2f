import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardPBX
import SwitchboardStorage

/// The call journal and the commands a tenant sends to its PBX.
extension ManagementAPI {
    struct CallDetail: Encodable {
        struct StoredEvent: Encodable {
            var event: CallEvent
            var raw: String
            var receivedAt: Date
        }
        struct JobDetail: Encodable {
            var job: Job
            var attempts: [JobAttempt]
        }
        var call: Call
        var result: CallResult
        var talkSec: Int?
        var waitSec: Int?
        var events: [StoredEvent]
        var jobs: [JobDetail]
    }

    struct CallSummary: Encodable {
        var call: Call
        var result: CallResult
        var talkSec: Int?
        var waitSec: Int?
    }

    func registerCalls(_ api: RouterGroup<AppRequestContext>) {
        api.get("calls") { req, _ in
            let t = try await tenantId(req)
            var filter = CallStore.Filter()
            let iso = ISO8601DateFormatter()
            if let v = try req.query("from") {
                guard let d = iso.date(from: v) else { throw APIError(.badRequest, "from is an ISO 8601 time", field: "from") }
                filter.from = d
            }
            if let v = try req.query("to") {
                guard let d = iso.date(from: v) else { throw APIError(.badRequest, "to is an ISO 8601 time", field: "to") }
                filter.to = d
            }
            if let v = try req.query("result") {
                guard let r = CallResult(rawValue: v) else { throw APIError(.badRequest, "unknown result", field: "result") }
                filter.result = r
            }
            filter.number = try req.query("number")
            filter.employee = try req.query("employee")
            filter.connectionId = try req.query("pbxConnectionId")
            filter.limit = try req.limit()
            let calls = try await sb.calls.list(tenantId: t, filter: filter)
            return jsonResponse(calls.map { CallSummary(call: $0, result: $0.result, talkSec: $0.talkSec, waitSec: $0.waitSec) })
        }
        api.get("calls/:id") { req, ctx in
            let t = try await tenantId(req)
            guard let call = try await sb.calls.get(tenantId: t, id: try ctx.param("id")) else {
                throw APIError(.notFound, "call not found")
            }
            let events = try await sb.calls.events(tenantId: t, callId: call.id).map {
                CallDetail.StoredEvent(event: $0.event, raw: $0.raw, receivedAt: $0.receivedAt)
            }
            var jobs: [CallDetail.JobDetail] = []
            for job in try await sb.queue.list(tenantId: t, callId: call.id) {
                jobs.append(.init(job: job, attempts: try await sb.queue.attempts(tenantId: t, jobId: job.id)))
            }
            return jsonResponse(CallDetail(call: call, result: call.result, talkSec: call.talkSec, waitSec: call.waitSec,
                                           events: events, jobs: jobs))
        }

        struct Originate: Decodable {
            var employeeId: String
            var phone: String
            var integrationId: String?
        }
        api.post("calls/originate") { req, _ in
            let t = try await tenantId(req)
            let body = try await req.decodeJSON(Originate.self)
            guard let employee = try await sb.pbx.employees(tenantId: t).first(where: { $0.id == body.employeeId }) else {
                throw APIError(.unprocessableContent, "employee not found", field: "employeeId")
            }
            var settings = ClickToCallSettings()
            if let id = body.integrationId {
                guard let integration = try await sb.integrations.get(tenantId: t, id: id) else {
                    throw APIError(.unprocessableContent, "integration not found", field: "integrationId")
                }
                settings = integration.clickToCall
            }
            let connection = try await connectionOf(employee)
            let client = PhoneNumber.parse(body.phone, region: connection.region)
            guard client.e164 != nil else { throw APIError(.unprocessableContent, "not a phone number", field: "phone") }
            let callId = try await runCommand(connection) {
                try await $0.originate(employeeLogin: employee.login, clientNumber: client, callerId: settings.callerId(for: employee))
            }
            return jsonResponse(["pbxCallId": callId ?? "", "callerId": settings.callerId(for: employee) ?? ""], status: .accepted)
        }

        struct DND: Decodable { var employeeId: String; var on: Bool }
        api.post("pbx-connections/:id/dnd") { req, ctx in
            let t = try await tenantId(req)
            let body = try await req.decodeJSON(DND.self)
            guard let connection = try await sb.pbx.get(tenantId: t, id: try ctx.param("id")) else {
                throw APIError(.notFound, "PBX connection not found")
            }
            guard let employee = try await sb.pbx.employees(tenantId: t, connectionId: connection.id)
                .first(where: { $0.id == body.employeeId }) else {
                throw APIError(.unprocessableContent, "employee not found", field: "employeeId")
            }
            try await runCommand(connection) { try await $0.setDND(employeeLogin: employee.login, on: body.on) }
            return jsonResponse(["employeeId": employee.id, "dnd": body.on ? "on" : "off"])
        }
        api.get("pbx-connections/:id/accounts") { req, ctx in
            let t = try await tenantId(req)
            guard let connection = try await sb.pbx.get(tenantId: t, id: try ctx.param("id")) else {
                throw APIError(.notFound, "PBX connection not found")
            }
            return jsonResponse(try await runCommand(connection) { try await $0.accounts() })
        }
        api.get("pbx-connections/:id/events") { req, ctx in
            let t = try await tenantId(req)
            guard let connection = try await sb.pbx.get(tenantId: t, id: try ctx.param("id")) else {
                throw APIError(.notFound, "PBX connection not found")
            }
            struct Recent: Encodable {
                var event: CallEvent
                var receivedAt: Date
            }
            return jsonResponse(try await sb.calls.recentEvents(tenantId: t, connectionId: connection.id).map {
                Recent(event: $0.event, receivedAt: $0.receivedAt)
            })
        }
        api.get("pbx-connections/:id/lines") { req, ctx in
            let t = try await tenantId(req)
            guard let connection = try await sb.pbx.get(tenantId: t, id: try ctx.param("id")) else {
                throw APIError(.notFound, "PBX connection not found")
            }
            return jsonResponse(try await sb.calls.lineNumbers(tenantId: t, connectionId: connection.id))
        }
    }

    func connectionOf(_ employee: Employee) async throws -> PBXConnection {
        guard let c = try await sb.pbx.get(tenantId: employee.tenantId, id: employee.pbxConnectionId) else {
            throw APIError(.notFound, "PBX connection not found")
        }
        return c
    }

    /// Runs a PBX command, mapping the PBX's refusals to answers the tenant can act on.
    @discardableResult
    func runCommand<T: Sendable>(_ connection: PBXConnection, _ body: (any PBXCommands) async throws -> T) async throws -> T {
        guard let commands = try await sb.commands(for: connection) else {
            throw APIError(.conflict, "the PBX connection has no API address and key for commands")
        }
        do {
            let value = try await body(commands)
            sb.httpMetrics.countOutbound(target: "pbx", status: "ok")
            return value
        } catch let error as PBXCommandError {
            sb.httpMetrics.countOutbound(target: "pbx", status: error.status.map(String.init) ?? "error")
            throw APIError(error.retryable ? .badGateway : .unprocessableContent, error.message)
        }
    }
}
