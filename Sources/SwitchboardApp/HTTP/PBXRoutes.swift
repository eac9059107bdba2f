import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SwitchboardCore
import SwitchboardPBX
import SwitchboardStorage

/// The endpoints PBXs call: ITooLabs' CRM API and Switchboard's own signed JSON protocol.
struct PBXRoutes {
    let sb: Switchboard

    func register(on router: Router<AppRequestContext>) {
        router.post("pbx/itoolabs/:id") { req, ctx in try await itoolabs(req, ctx) }
        router.post("pbx/events/:id") { req, ctx in try await nativeEvents(req, ctx) }
        router.post("pbx/route/:id") { req, ctx in try await nativeRoute(req, ctx) }
    }

    /// Refusals logged per sender: a few a minute, then a count of those left out.
    let refusals = LogThrottle()

    /// Refuses a request with a reason, and logs it: a PBX integrator sees the reason, an operator the log line.
    /// The line carries the sender's own text (its connection id, its fields), escaped and cut short; it is limited
    /// per client address and connection, and per address alone for unknown connections (whose ids are made up).
    func refuse(_ status: HTTPResponse.Status, _ message: String, _ ctx: AppRequestContext, connection: String,
                itoolabsShape: Bool) -> Response {
        let remote = ctx.remoteAddress?.ipAddress ?? "in-process"
        let shownConnection = UntrustedText.loggable(connection, limit: 64)
        if case .log(let suppressed) = refusals.admit(status == .notFound ? remote : remote + " " + shownConnection) {
            var metadata: Logger.Metadata = ["connection": "\(shownConnection)", "status": "\(status.code)",
                                             "reason": "\(UntrustedText.loggable(message))", "remote": "\(remote)"]
            if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
            ctx.logger.warning("PBX request refused", metadata: metadata)
        }
        if itoolabsShape { return jsonResponse(["error": message], status: status) }
        return jsonResponse(["error": ["message": message]], status: status)
    }

    // MARK: ITooLabs

    func itoolabs(_ req: Request, _ ctx: AppRequestContext) async throws -> Response {
        let arrived = ContinuousClock.now
        let id = try ctx.param("id")
        let bytes = try await req.bodyBytes()
        guard let (connection, secret) = try await sb.connections.get(id), connection.protocol == .itoolabs else {
            return refuse(.notFound, "Unknown connection", ctx, connection: id, itoolabsShape: true)
        }
        let fields: [String: String]
        let message: ITooLabsMessage
        do throws(ITooLabsError) {
            fields = try ITooLabsAdapter.fields(body: bytes, contentType: req.headers[.contentType])
            guard let token = fields["crm_token"], Hashing.constantTimeEquals(token, secret) else {
                throw ITooLabsError.invalidToken
            }
            message = try ITooLabsAdapter.message(fields, receivedAt: Date())
        } catch {
            return refuse(.init(code: error.status), error.message, ctx, connection: id, itoolabsShape: true)
        }
        if NULText.inFields(fields) {
            return refuse(.badRequest, "Invalid parameters: \(NULText.message)", ctx, connection: id, itoolabsShape: true)
        }
        switch message {
        case .event(let event):
            var logged = fields
            logged["crm_token"] = nil
            let raw = JSON.string(logged)
            if case .failure(let refused) = await ingestOrRefuse([event], raw: raw, connection: connection, ctx, itoolabsShape: true) {
                return refused
            }
            return jsonResponse([String: String]())
        case .contact(let phone, _, _):
            let decision = await sb.routing.route(connection: connection, client: PhoneNumber.parse(phone, region: connection.region),
                                                  deadline: RoutingBudget.answerWithin(connectionDeadlineMs: connection.routingDeadlineMs),
                                                  since: arrived)
            ctx.logger.debug("routing answered", metadata: ["reason": "\(decision.reason)"])
            // `{}` means "not found"; MikoPBX answers an object, never `[]`, because PBXs may misread an array.
            guard let employee = decision.employee else { return jsonResponse([String: String]()) }
            var answer = ["responsible": employee.login]
            if let name = decision.contactName { answer["contact_name"] = name }
            return jsonResponse(answer)
        }
    }

    // MARK: Switchboard's own protocol

    func verified(_ req: Request, _ ctx: AppRequestContext) async throws -> Result<(PBXConnection, [UInt8]), NativeProtocol.Problem> {
        let id = try ctx.param("id")
        let bytes = try await req.bodyBytes(limit: 4 << 20)
        guard let (connection, secret) = try await sb.connections.get(id), connection.protocol == .switchboard else {
            return .failure(.init(404, "unknown connection"))
        }
        do {
            try NativeProtocol.verify(body: bytes, secret: secret,
                                      timestamp: req.headers[HTTPField.Name(NativeProtocol.timestampHeader)!],
                                      signature: req.headers[HTTPField.Name(NativeProtocol.signatureHeader)!])
        } catch {
            return .failure(error)
        }
        if let problem = NULText.problem(json: bytes) { return .failure(.init(400, problem)) }
        return .success((connection, bytes))
    }

    func nativeEvents(_ req: Request, _ ctx: AppRequestContext) async throws -> Response {
        let id = try ctx.param("id")
        switch try await verified(req, ctx) {
        case .failure(let p):
            return refuse(.init(code: p.status), p.message, ctx, connection: id, itoolabsShape: false)
        case .success(let (connection, bytes)):
            let events: [NativeProtocol.Event]
            do {
                events = try NativeProtocol.events(body: bytes)
            } catch {
                return refuse(.init(code: error.status), error.message, ctx, connection: id, itoolabsShape: false)
            }
            let raw = String(decoding: bytes, as: UTF8.self)
            let outcomes: [IngestOutcome]
            switch await ingestOrRefuse(events.map(\.callEvent), raw: raw, connection: connection, ctx, itoolabsShape: false) {
            case .success(let stored): outcomes = stored
            case .failure(let refused): return refused
            }
            struct Ack: Encodable {
                var accepted: Int
                var duplicates: Int
                var calls: [String]
            }
            return jsonResponse(Ack(accepted: outcomes.filter { !$0.duplicate }.count,
                                    duplicates: outcomes.filter(\.duplicate).count,
                                    calls: outcomes.map(\.call.id)))
        }
    }

    func nativeRoute(_ req: Request, _ ctx: AppRequestContext) async throws -> Response {
        let arrived = ContinuousClock.now
        let id = try ctx.param("id")
        switch try await verified(req, ctx) {
        case .failure(let p):
            return refuse(.init(code: p.status), p.message, ctx, connection: id, itoolabsShape: false)
        case .success(let (connection, bytes)):
            guard let request = try? JSON.decoder.decode(NativeProtocol.RoutingRequest.self, from: Data(bytes)) else {
                return refuse(.badRequest, "the body is not a routing request (client_number is required)", ctx,
                              connection: id, itoolabsShape: false)
            }
            let decision = await sb.routing.route(connection: connection,
                                                  client: PhoneNumber.parse(request.client_number, region: connection.region),
                                                  deadline: RoutingBudget.answerWithin(connectionDeadlineMs: connection.routingDeadlineMs,
                                                                                       askedMs: request.deadline_ms),
                                                  since: arrived)
            return jsonResponse(NativeProtocol.RoutingAnswer(
                decision: decision.employee == nil ? "no_preference" : "employee",
                employee: decision.employee.map { NativeProtocol.Employee(login: $0.login, extension: $0.extension_) },
                crm_user_id: decision.crmUserId, contact_name: decision.contactName, reason: decision.reason))
        }
    }
}
