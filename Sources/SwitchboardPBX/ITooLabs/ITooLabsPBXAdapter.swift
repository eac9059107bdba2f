import Foundation
import SwitchboardCore
import SwitchboardStorage

extension PBXProtocol {
    /// ITooLabs "REST API ВАТС (CRM)": MegaFon, Gravitel, Dom.ru, Kcell, Moldcell, …
    public static let itoolabs = PBXProtocol("itoolabs")
}

extension ITooLabsAdapter {
    /// ITooLabs as a PBX adapter: one endpoint for `cmd=event|history|contact|rating`, answers `{}` or
    /// `{"responsible": …}`, errors as `{"error": "…"}`.
    public static let adapter = PBXAdapter(
        id: .itoolabs, title: "CRM API (ITooLabs: MegaFon, Gravitel, Dom.ru, …)",
        titleRU: "API для CRM (ITooLabs: МегаФон, Гравител, Дом.ру и др.)",
        endpoints: [PBXEndpoint(path: "itoolabs/:id", bodyLimit: 1 << 20,
                                decode: { request, secret throws(PBXRefusal) in try decode(request, secret: secret) },
                                encode: { encode($0) })],
        // `history` follows COMPLETED and carries the recording link.
        finalGrace: 90,
        unknownConnection: PBXRefusal(404, "Unknown connection"),
        commands: { connection, url, key, http in
            ITooLabsCommands(baseURL: url, key: key, flavor: .init(rawValue: connection.apiFlavor) ?? .legacy, http: http)
        })

    static func decode(_ request: InboundRequest, secret: String) throws(PBXRefusal) -> PBXInbound {
        let fields: [String: String]
        let message: ITooLabsMessage
        do throws(ITooLabsError) {
            fields = try Self.fields(body: request.body, contentType: request.header("Content-Type"))
            guard let token = fields["crm_token"], Hashing.constantTimeEquals(token, secret) else {
                throw ITooLabsError.invalidToken
            }
            message = try Self.message(fields, receivedAt: request.receivedAt)
        } catch {
            throw PBXRefusal(error.status, error.message)
        }
        if NULText.inFields(fields) { throw PBXRefusal(400, "Invalid parameters: \(NULText.message)") }
        switch message {
        case .event(let event):
            var logged = fields
            logged["crm_token"] = nil
            return .events([event], raw: JSON.object(logged))
        case .contact(let phone, _, _):
            return .routing(client: phone, askedMs: nil)
        }
    }

    static func encode(_ answer: PBXAnswer) -> InboundResponse {
        switch answer {
        case .stored:
            return InboundResponse(status: 200, json: Array("{}".utf8))
        case .routed(let decision):
            // `{}` means "not found"; MikoPBX answers an object, never `[]`, because PBXs may misread an array.
            guard let employee = decision.employee else { return .json([String: String]()) }
            var answer = ["responsible": employee.login]
            if let name = decision.contactName { answer["contact_name"] = name }
            return .json(answer)
        case .refused(let refusal):
            return .json(["error": refusal.message], status: refusal.status)
        case .busy(let message):
            return .json(["error": message], status: 503)
        }
    }
}
