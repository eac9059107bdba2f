import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardPBX
import SwitchboardStorage

/// `/api/v1/calls` and the PBX commands a tenant sends: the call journal, click-to-call, DND, the PBX's accounts, the
/// events and lines a connection has sent.
struct CallsController {
    let calls: CallStore
    let queue: JobQueue
    let pbx: PBXStore
    let clickToCall: ClickToCallService

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

    func register(_ api: RouterGroup<AppRequestContext>) {
        api.get("calls") { req, ctx in
            let t = try ctx.tenant()
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
            let calls = try await calls.list(tenantId: t, filter: filter)
            return jsonResponse(calls.map { CallSummary(call: $0, result: $0.result, talkSec: $0.talkSec, waitSec: $0.waitSec) })
        }
        api.get("calls/:id") { req, ctx in
            let t = try ctx.tenant()
            guard let call = try await calls.get(tenantId: t, id: try ctx.param("id")) else {
                throw APIError(.notFound, "call not found")
            }
            let events = try await calls.events(tenantId: t, callId: call.id).map {
                CallDetail.StoredEvent(event: $0.event, raw: $0.raw, receivedAt: $0.receivedAt)
            }
            var jobs: [CallDetail.JobDetail] = []
            for job in try await queue.list(tenantId: t, callId: call.id) {
                jobs.append(.init(job: job, attempts: try await queue.attempts(tenantId: t, jobId: job.id)))
            }
            return jsonResponse(CallDetail(call: call, result: call.result, talkSec: call.talkSec, waitSec: call.waitSec,
                                           events: events, jobs: jobs))
        }

        struct Originate: Decodable {
            var employeeId: String
            var phone: String
            var integrationId: String?
        }
        let connections = clickToCall.connections
        api.post("calls/originate") { req, ctx in
            let t = try ctx.tenant()
            let body = try await req.decodeJSON(Originate.self)
            let placed = try await Self.answering {
                try await clickToCall.originate(tenantId: t, employeeId: body.employeeId, phone: body.phone, integrationId: body.integrationId)
            }
            return jsonResponse(["pbxCallId": placed.pbxCallId ?? "", "callerId": placed.callerId ?? ""], status: .accepted)
        }

        struct DND: Decodable { var employeeId: String; var on: Bool }
        api.post("pbx-connections/:id/dnd") { req, ctx in
            let t = try ctx.tenant()
            let body = try await req.decodeJSON(DND.self)
            let connectionId = try ctx.param("id")
            try await Self.answering {
                try await clickToCall.setDND(tenantId: t, employeeId: body.employeeId, on: body.on, connectionId: connectionId)
            }
            return jsonResponse(["employeeId": body.employeeId, "dnd": body.on ? "on" : "off"])
        }
        api.get("pbx-connections/:id/accounts") { req, ctx in
            let t = try ctx.tenant()
            guard let connection = try await pbx.get(tenantId: t, id: try ctx.param("id")) else {
                throw APIError(.notFound, "PBX connection not found")
            }
            return jsonResponse(try await connections.command(connection) { try await $0.accounts() })
        }
        api.get("pbx-connections/:id/events") { req, ctx in
            let t = try ctx.tenant()
            guard let connection = try await pbx.get(tenantId: t, id: try ctx.param("id")) else {
                throw APIError(.notFound, "PBX connection not found")
            }
            struct Recent: Encodable {
                var event: CallEvent
                var receivedAt: Date
            }
            return jsonResponse(try await calls.recentEvents(tenantId: t, connectionId: connection.id).map {
                Recent(event: $0.event, receivedAt: $0.receivedAt)
            })
        }
        api.get("pbx-connections/:id/lines") { req, ctx in
            let t = try ctx.tenant()
            guard let connection = try await pbx.get(tenantId: t, id: try ctx.param("id")) else {
                throw APIError(.notFound, "PBX connection not found")
            }
            return jsonResponse(try await calls.lineNumbers(tenantId: t, connectionId: connection.id))
        }
    }

    /// The service's answer; a call it would not place as the API's 422 with the field.
    @discardableResult
    static func answering<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let refusal as ClickToCallService.Refusal {
            switch refusal {
            case .noEmployee: throw APIError(.unprocessableContent, "employee not found", field: "employeeId")
            case .noIntegration: throw APIError(.unprocessableContent, "integration not found", field: "integrationId")
            case .notAPhone: throw APIError(.unprocessableContent, "not a phone number", field: "phone")
            case .switchedOff: throw APIError(.conflict, "the integration is switched off")
            case .noCall: throw APIError(.notFound, "call not found")
            }
        }
    }
}
