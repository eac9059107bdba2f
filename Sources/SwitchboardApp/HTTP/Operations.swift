import Foundation
import Hummingbird
import Prometheus
import SwitchboardStorage

/// Liveness, readiness and Prometheus metrics.
struct Operations {
    let sb: Switchboard

    func register(on router: Router<AppRequestContext>) {
        router.get("healthz") { _, _ in jsonResponse(["status": "ok"]) }
        router.get("readyz") { _, _ in
            if await sb.db.ping() { return jsonResponse(["status": "ready", "storage": sb.db.dialect.rawValue]) }
            return jsonResponse(["status": "storage unreachable", "storage": sb.db.dialect.rawValue],
                                status: .serviceUnavailable)
        }
        router.get("metrics") { req, _ in
            // With `metricsToken` set, a scraper sends it as a bearer token (Prometheus: `authorization` in the job).
            if let token = sb.config.metricsToken, !Hashing.constantTimeEquals(req.bearerToken ?? "", token) {
                return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"metrics\""])
            }
            await refreshQueueGauges()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(bytes: sb.registry.emitToBuffer())))
        }
    }

    /// Queue depth per state, read at scrape time.
    func refreshQueueGauges() async {
        guard let counts = try? await sb.queue.counts() else { return }
        for state in JobState.allCases {
            sb.registry.makeGauge(descriptor: Self.jobsSeries, labels: [("state", state.rawValue)])
                .set(Double(counts[state] ?? 0))
        }
    }

    static var jobsSeries: MetricNameDescriptor {
        MetricNameDescriptor(namespace: "switchboard", metricName: "jobs", unitName: "", helpText: "Queued jobs by state")
    }
}

enum OpenAPIDocument {
    static let bytes: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json", subdirectory: "Resources"),
              let data = try? Data(contentsOf: url) else { return Array("{}".utf8) }
        return Array(data)
    }()
}
