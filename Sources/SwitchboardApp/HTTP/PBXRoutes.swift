import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SwitchboardCore
import SwitchboardPBX
import SwitchboardStorage

/// The endpoints PBXs call: those of every adapter the PBX registry lists, under `/pbx/`.
struct PBXRoutes {
    let sb: Switchboard

    func register(on router: Router<AppRequestContext>) {
        for adapter in sb.pbxAdapters.all {
            for endpoint in adapter.endpoints {
                router.post(RouterPath("pbx/" + endpoint.path)) { req, ctx in try await handle(req, ctx, adapter, endpoint) }
            }
        }
    }

    /// Refusals logged per sender: a few a minute, then a count of those left out.
    let refusals = LogThrottle()

    /// Refuses a request with a reason, and logs it: a PBX integrator sees the reason, an operator the log line.
    /// The line carries the sender's own text (its connection id, its fields), escaped and cut short; it is limited
    /// per client address and connection, and per address alone for unknown connections (whose ids are made up).
    func refuse(_ refusal: PBXRefusal, _ ctx: AppRequestContext, connection: String, _ endpoint: PBXEndpoint) -> Response {
        let remote = ctx.remoteAddress?.ipAddress ?? "in-process"
        let shownConnection = UntrustedText.loggable(connection, limit: 64)
        if case .log(let suppressed) = refusals.admit(refusal.status == 404 ? remote : remote + " " + shownConnection) {
            var metadata: Logger.Metadata = ["connection": "\(shownConnection)", "status": "\(refusal.status)",
                                             "reason": "\(UntrustedText.loggable(refusal.message))", "remote": "\(remote)"]
            if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
            ctx.logger.warning("PBX request refused", metadata: metadata)
        }
        return response(endpoint.encode(.refused(refusal)))
    }

    /// The generic part of every endpoint: the connection (of the adapter's protocol) and its secret, the adapter's
    /// reading of the request, events stored durably before the answer, routing within the budget, the adapter's answer.
    func handle(_ req: Request, _ ctx: AppRequestContext, _ adapter: PBXAdapter, _ endpoint: PBXEndpoint) async throws -> Response {
        let arrived = ContinuousClock.now
        let id = try ctx.param("id")
        let bytes = try await req.bodyBytes(limit: endpoint.bodyLimit)
        guard let (connection, secret) = try await sb.connections.get(id), connection.protocol == adapter.id else {
            return refuse(adapter.unknownConnection, ctx, connection: id, endpoint)
        }
        let headers = req.headers
        let request = InboundRequest(body: bytes, header: { name in HTTPField.Name(name).flatMap { headers[$0] } })
        let inbound: PBXInbound
        do throws(PBXRefusal) {
            inbound = try endpoint.decode(request, secret)
        } catch {
            return refuse(error, ctx, connection: id, endpoint)
        }
        switch inbound {
        case .events(let events, let raw):
            switch await ingestOrRefuse(events, raw: raw, connection: connection, ctx, endpoint) {
            case .success(let outcomes): return response(endpoint.encode(.stored(outcomes)))
            case .failure(let refused): return refused
            }
        case .eventsAndRouting(let events, let raw, let question):
            switch await ingestOrRefuse(events, raw: raw, connection: connection, ctx, endpoint) {
            case .success(let outcomes):
                // Answered now; the call is routed afterwards by the connection's command, within its budget.
                let logger = ctx.logger
                Task { await sb.routeByCommand(question, connection: connection, style: adapter.routing, since: arrived, logger: logger) }
                return response(endpoint.encode(.stored(outcomes)))
            case .failure(let refused): return refused
            }
        case .routing(let client, let askedMs):
            let decision = await sb.route(client, connection: connection, askedMs: askedMs, since: arrived)
            ctx.logger.debug("routing answered", metadata: ["reason": "\(decision.reason)"])
            return response(endpoint.encode(.routed(decision)))
        }
    }

    /// An adapter's answer as a response: its status and JSON, as every JSON answer is sent.
    func response(_ answer: InboundResponse) -> Response {
        Response(status: .init(code: answer.status), headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: answer.json)))
    }
}
