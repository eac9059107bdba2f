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

    /// For CRMs that answer only gzip (MoySklad): a client that decompresses answers and, like the outbound one, never
    /// follows a redirect; the URL still passes the outbound policy first.
    public static let decompressing: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .enabled(limit: .ratio(200))
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// `record: false` leaves the journal to the caller (an answer that carries tokens); `gzip` reads compressed answers;
    /// `what` (what the request was for) goes into the error when no answer comes.
    public static func exchange(_ request: HTTPClientRequest, line: String, crm title: String, http: OutboundHTTP,
                                observe: @Sendable (String) -> Void, log: AttemptLog?, record: Bool = true,
                                timeout: TimeAmount = .seconds(30), gzip: Bool = false, what: String? = nil) async throws -> Reply {
        let response: HTTPClientResponse
        do {
            if gzip {
                try await http.admit(request.url)
                response = try await decompressing.execute(request, timeout: timeout)
            } else {
                response = try await http.execute(request, timeout: timeout)
            }
        } catch let refused as OutboundPolicy.Problem {
            observe("refused")
            log?.record(Exchange(request: line, note: "not sent: \(refused)"))
            throw DeliveryError.permanent("the \(title) account's address is refused: \(refused)")
        } catch {
            observe("error")
            log?.record(Exchange(request: line, note: "no answer: \(error)"))
            throw DeliveryError.retryable("\(title) unreachable" + (what.map { " while trying to \($0)" } ?? "") + ": \(error)")
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
