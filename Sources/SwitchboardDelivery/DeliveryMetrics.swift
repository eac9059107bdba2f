import Prometheus

/// The queue's Prometheus series.
public struct DeliveryMetrics: Sendable {
    let startLatency: DurationHistogram
    let runDuration: DurationHistogram
    let done: Prometheus.Counter
    let retried: Prometheus.Counter
    let dead: Prometheus.Counter

    public init(registry: PrometheusCollectorRegistry) {
        let buckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50),
                                   .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30),
                                   .seconds(120)]
        startLatency = registry.makeDurationHistogram(name: "switchboard_job_start_latency_seconds", buckets: buckets,
                                                      help: "Time from enqueue to the first attempt's start")
        runDuration = registry.makeDurationHistogram(name: "switchboard_job_run_seconds", buckets: buckets,
                                                     help: "Duration of one job attempt")
        done = registry.makeCounter(name: "switchboard_jobs_finished_total", labels: [("outcome", "done")])
        retried = registry.makeCounter(name: "switchboard_jobs_finished_total", labels: [("outcome", "retry")])
        dead = registry.makeCounter(name: "switchboard_jobs_finished_total", labels: [("outcome", "dead")])
    }
}
