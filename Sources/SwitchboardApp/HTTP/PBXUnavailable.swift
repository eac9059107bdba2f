import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SwitchboardCore
import SwitchboardPBX
import SwitchboardStorage

/// Events stored, or the answer that refuses them.
enum IngestAnswer {
    case success([IngestOutcome])
    case failure(Response)
}

extension PBXRoutes {
    /// Seconds a PBX is asked to wait before sending refused events again.
    static let retryAfterSeconds = 1

    /// Ingests a request's events, or answers 503 with Retry-After when they could not be stored now: refused for
    /// overload before anything ran, or the storage failed and the transaction was rolled back. Either way nothing of
    /// the request was written, so sending it again is safe (events are idempotent by their keys). The reason is
    /// logged (a few lines a minute per sender); the PBX sees only that it should try again.
    func ingestOrRefuse(_ events: [CallEvent], raw: String, connection: PBXConnection, _ ctx: AppRequestContext,
                        _ endpoint: PBXEndpoint) async -> IngestAnswer {
        do {
            return .success(try await sb.ingestor.ingest(events, raw: raw, connection: connection, region: connection.region))
        } catch {
            let remote = ctx.remoteAddress?.ipAddress ?? "in-process"
            let overloaded = error is StorageBusy
            if case .log(let suppressed) = refusals.admit("503 " + remote + " " + connection.id) {
                var metadata: Logger.Metadata = ["connection": "\(connection.id)", "status": "503", "remote": "\(remote)",
                                                 "events": "\(events.count)", "reason": "\(error)"]
                if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
                if overloaded {
                    ctx.logger.warning("PBX events refused: overloaded", metadata: metadata)
                } else {
                    ctx.logger.error("PBX events refused: storage failed", metadata: metadata)
                }
            }
            let message = overloaded ? "Switchboard is overloaded; nothing was stored, send the events again later"
                : "Switchboard could not store the events; nothing was stored, send them again later"
            var busy = response(endpoint.encode(.busy(message: message)))
            busy.headers[.retryAfter] = "\(Self.retryAfterSeconds)"
            return .failure(busy)
        }
    }
}
