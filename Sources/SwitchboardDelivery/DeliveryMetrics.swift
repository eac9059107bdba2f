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
        startLatency = registry.makeDurationHistogram(descriptor: Self.startLatencySeries, buckets: buckets)
        runDuration = registry.makeDurationHistogram(descriptor: Self.runSeries, buckets: buckets)
        done = registry.makeCounter(descriptor: Self.finishedSeries, labels: [("outcome", "done")])
        retried = registry.makeCounter(descriptor: Self.finishedSeries, labels: [("outcome", "retry")])
        dead = registry.makeCounter(descriptor: Self.finishedSeries, labels: [("outcome", "dead")])
    }

    static var startLatencySeries: MetricNameDescriptor {
        MetricNameDescriptor(namespace: "switchboard", metricName: "job_start_latency", unitName: "seconds",
                             helpText: "Time from enqueue to the first attempt's start")
    }
    static var runSeries: MetricNameDescriptor {
        MetricNameDescriptor(namespace: "switchboard", metricName: "job_run", unitName: "seconds",
                             helpText: "Duration of one job attempt")
    }
    static var finishedSeries: MetricNameDescriptor {
        MetricNameDescriptor(namespace: "switchboard", metricName: "jobs_finished", unitName: "total",
                             helpText: "Job attempts finished, by outcome")
    }
}
