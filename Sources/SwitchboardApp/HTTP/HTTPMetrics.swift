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
            descriptor: Self.durationSeries,
            buckets: [.microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50),
                      .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5)])
    }

    func count(route: String, method: String, status: Int) {
        registry.makeCounter(descriptor: Self.requestsSeries,
                             labels: [("route", route), ("method", method), ("status", String(status))]).increment()
    }

    /// Outbound CRM and PBX calls by target and status.
    public func countOutbound(target: String, status: String) {
        registry.makeCounter(descriptor: Self.outboundSeries,
                             labels: [("target", target), ("status", status)]).increment()
    }

    // One descriptor per series: every registration of a name must carry the same help text.
    static var durationSeries: MetricNameDescriptor {
        MetricNameDescriptor(namespace: "switchboard", metricName: "http_request_duration", unitName: "seconds",
                             helpText: "HTTP request durations")
    }
    static var requestsSeries: MetricNameDescriptor {
        MetricNameDescriptor(namespace: "switchboard", metricName: "http_requests", unitName: "total",
                             helpText: "HTTP requests by route, method and status")
    }
    static var outboundSeries: MetricNameDescriptor {
        MetricNameDescriptor(namespace: "switchboard", metricName: "outbound_requests", unitName: "total",
                             helpText: "Outbound CRM and PBX requests by target and status")
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
