import Foundation
import SwitchboardCore
import SwitchboardStorage

extension PBXProtocol {
    /// Switchboard's own signed JSON webhook protocol.
    public static let switchboard = PBXProtocol("switchboard")
}

extension NativeProtocol {
    /// The native protocol as a PBX adapter: signed event batches and a synchronous routing request, errors as
    /// `{"error": {"message": "…"}}`.
    public static let adapter = PBXAdapter(
        id: .switchboard, title: "Switchboard webhooks (any PBX)", titleRU: "Вебхуки Switchboard (любая АТС)",
        endpoints: [
            PBXEndpoint(path: "events/:id", bodyLimit: 4 << 20,
                        decode: { request, secret throws(PBXRefusal) in try decodeEvents(request, secret: secret) },
                        encode: { encode($0) }),
            PBXEndpoint(path: "route/:id", bodyLimit: 4 << 20,
                        decode: { request, secret throws(PBXRefusal) in try decodeRouting(request, secret: secret) },
                        encode: { encode($0) }),
        ],
        finalGrace: 0,
        unknownConnection: PBXRefusal(404, "unknown connection"),
        commands: { _, url, key, http in NativeCommands(baseURL: url, key: key, http: http) })

    /// The signature, then NUL characters: both before the body is read as JSON.
    static func verified(_ request: InboundRequest, secret: String) throws(PBXRefusal) {
        do throws(Problem) {
            try verify(body: request.body, secret: secret, timestamp: request.header(timestampHeader),
                       signature: request.header(signatureHeader))
        } catch {
            throw PBXRefusal(error.status, error.message)
        }
        if let problem = NULText.problem(json: request.body) { throw PBXRefusal(400, problem) }
    }

    static func decodeEvents(_ request: InboundRequest, secret: String) throws(PBXRefusal) -> PBXInbound {
        try verified(request, secret: secret)
        do throws(Problem) {
            let batch = try events(body: request.body)
            return .events(batch.map(\.callEvent), raw: String(decoding: request.body, as: UTF8.self))
        } catch {
            throw PBXRefusal(error.status, error.message)
        }
    }

    static func decodeRouting(_ request: InboundRequest, secret: String) throws(PBXRefusal) -> PBXInbound {
        try verified(request, secret: secret)
        guard let question = try? JSON.decoder.decode(RoutingRequest.self, from: Data(request.body)) else {
            throw PBXRefusal(400, "the body is not a routing request (client_number is required)")
        }
        return .routing(client: question.client_number, askedMs: question.deadline_ms)
    }

    struct Ack: JSONWritable {
        var accepted: Int
        var duplicates: Int
        var calls: [String]

        func write(to json: inout JSONWriter) {
            json.object { j in
                j.key("accepted"); j.int(accepted)
                j.member("calls", strings: calls)
                j.key("duplicates"); j.int(duplicates)
            }
        }
    }

    static func encode(_ answer: PBXAnswer) -> InboundResponse {
        switch answer {
        case .stored(let outcomes):
            return .json(Ack(accepted: outcomes.filter { !$0.duplicate }.count, duplicates: outcomes.filter(\.duplicate).count,
                             calls: outcomes.map(\.call.id)))
        case .routed(let decision):
            return .json(RoutingAnswer(
                decision: decision.employee == nil ? "no_preference" : "employee",
                employee: decision.employee.map { Employee(login: $0.login, extension: $0.extension_) },
                crm_user_id: decision.crmUserId, contact_name: decision.contactName, reason: decision.reason))
        case .refused(let refusal):
            return .json(["error": ["message": refusal.message]], status: refusal.status)
        case .busy(let message):
            return .json(["error": ["message": message]], status: 503)
        }
    }
}
