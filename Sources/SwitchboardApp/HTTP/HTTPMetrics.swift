import Foundation
import Hummingbird
import Prometheus
import SwitchboardStorage

/// Counts requests by route and status, and their durations.
public struct HTTPMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let duration: DurationHistogram

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        duration = registry.makeDurationHistogram(
            name: "switchboard_http_request_duration_seconds",
            buckets: [.microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50),
                      .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5)],
            help: "HTTP request durations")
    }

    func count(route: String, method: String, status: Int) {
        registry.makeCounter(name: "switchboard_http_requests_total",
                             labels: [("route", route), ("method", method), ("status", String(status))]).increment()
    }

    /// Outbound CRM and PBX calls by target and status.
    public func countOutbound(target: String, status: String) {
        registry.makeCounter(name: "switchboard_outbound_requests_total",
                             labels: [("target", target), ("status", status)]).increment()
    }
}

struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: HTTPMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context, status: response.status.code, start: start)
            return response
        } catch let error as any HTTPResponseError {
            record(request, context, status: error.status.code, start: start)
            throw error
        } catch {
            record(request, context, status: 500, start: start)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: Int, start: ContinuousClock.Instant) {
        let route = context.endpointPath ?? "unmatched"
        metrics.count(route: route, method: request.method.rawValue, status: status)
        metrics.duration.record(ContinuousClock.now - start)
    }
}
