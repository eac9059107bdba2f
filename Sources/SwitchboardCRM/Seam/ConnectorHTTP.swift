import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardOutbound
import SwitchboardStorage

/// One HTTP exchange with a CRM as every connector makes it: through the installation's outbound policy (a refused
/// address is permanent, no answer is retryable), the answer's status counted for the metrics, and the exchange written
/// to the job's journal under the line the caller built (which never carries a secret).
public enum ConnectorHTTP {
    public struct Reply: Sendable {
        public var status: Int
        public var body: [UInt8]
        public var headers: HTTPHeaders
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// `record: false` leaves the journal to the caller (an answer that carries tokens); `gzip` reads compressed answers;
    /// `what` (what the request was for) goes into the error when no answer comes.
    public static func exchange(_ request: HTTPClientRequest, line: String, crm title: Phrase, http: OutboundHTTP,
                                observe: @Sendable (String) -> Void, log: AttemptLog?, record: Bool = true,
                                timeout: TimeAmount = .seconds(30), gzip: Bool = false, what: Phrase? = nil) async throws -> Reply {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: timeout, gzip: gzip)
        } catch let refused as OutboundPolicy.Problem {
            observe("refused")
            log?.record(Exchange(request: line, note: "not sent: \(refused)"))
            throw DeliveryError.permanent(CRMFailure.addressRefused(crm: title, reason: refused).phrase)
        } catch {
            observe("error")
            log?.record(Exchange(request: line, note: "no answer: \(error)"))
            throw DeliveryError.retryable(CRMFailure.unreachable(crm: title, what: what, error: "\(error)").phrase)
        }
        var buffer = try await response.body.collect(upTo: 8 << 20)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        let status = Int(response.status.code)
        observe(String(status))
        let reply = Reply(status: status, body: bytes, headers: response.headers)
        if record { log?.record(Exchange(request: line, status: status, response: String(reply.text.prefix(2000)))) }
        return reply
    }
}
