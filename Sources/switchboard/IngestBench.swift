import ArgumentParser
import AsyncHTTPClient
import Foundation
import Histogram
import Logging
import NIOCore
import ServiceLifecycle
import SwitchboardApp
import SwitchboardCore
import SwitchboardPBX
import SwitchboardSimulator
import SwitchboardStorage

/// Answers every personal-manager lookup at once, so the benchmark measures Switchboard, not a CRM.
struct InstantLookup: ManagerLookup {
    func responsible(for phone: PhoneNumber, integration: Integration) async throws -> ResponsibleUser? {
        ResponsibleUser(crmUserId: "1", contactName: "Bench client")
    }
}

/// Latencies in microseconds (HdrHistogram), printed as percentiles.
final class LatencyHistogram: @unchecked Sendable {
    private let lock = NSLock()
    private var h = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)

    func record(_ d: Duration) {
        let micros = UInt64(max(0, d.components.seconds * 1_000_000 + d.components.attoseconds / 1_000_000_000_000))
        lock.withLock { _ = h.record(micros) }
    }

    var count: Int { lock.withLock { Int(h.totalCount) } }

    func line() -> String {
        lock.withLock {
            func ms(_ p: Double) -> String { String(format: "%.2f", Double(h.valueAtPercentile(p)) / 1000) }
            return "p50 \(ms(50)) ms, p90 \(ms(90)) ms, p99 \(ms(99)) ms, p99.9 \(ms(99.9)) ms, max \(ms(100)) ms"
        }
    }
}

struct IngestBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Drive PBX events over HTTP; print events/s and ack latency percentiles, then routing latency.")

    @Option(help: "Calls to play; each is 4 events (INCOMING, ACCEPTED, COMPLETED, history).") var calls = 5000
    @Option(help: "Concurrent PBX connections sending.") var concurrency = 64
    @Option(help: "Routing requests (cmd=contact) to time after ingest; answered from the cache.") var routing = 5000
    @OptionGroup var storage: BenchStorage

    func run() async throws {
        let (sb, config, logger) = try await storage.open(lookups: [DemoCRMs.benchCRM: InstantLookup()])
        let tenant = try await sb.tenants.create(name: "Bench \(UUID().uuidString.prefix(6))")
        let (connection, secret) = try await sb.pbx.create(tenantId: tenant.id, name: "bench", protocol: DemoPBX.id,
                                                           apiURL: nil, apiKey: nil)
        let employee = try await sb.pbx.upsertEmployee(tenantId: tenant.id, connectionId: connection.id, login: "ivan",
                                                       extension_: "101", name: "Ivan", email: nil, directNumber: nil)
        let integration = try await sb.integrations.create(tenantId: tenant.id, crm: DemoCRMs.benchCRM, name: "bench", credentialId: nil,
                                                           pbxConnectionId: connection.id, active: true,
                                                           settings: .object(["personalManager": .bool(true)]))
        try await sb.integrations.replaceMappings(tenantId: tenant.id, integrationId: integration.id,
                                                  [EmployeeMapping(crmUserId: "1", crmUserName: "Ivan", employeeId: employee.id)])
        let box = PortBox()
        let app = sb.buildApplication(workers: false) { await box.set($0) }
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: logger)
        let server = box.run { try await group.run() }
        let port = try await box.get()
        let base = "http://127.0.0.1:\(port)"

        var httpConfig = HTTPClient.Configuration()
        httpConfig.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfig)
        let player = ScenarioPlayer(baseURL: base, connectionId: connection.id, secret: secret, http: http)

        let ack = LatencyHistogram()
        let next = Counter()
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { g in
            for _ in 0..<concurrency {
                g.addTask {
                    while true {
                        let n = next.next()
                        if n >= calls { return }
                        let scenario = DemoPBX.Scenarios.answered(client: String(79_000_000_000 + n), employee: "ivan", talk: 30)
                        for step in scenario.steps {
                            let t0 = ContinuousClock.now
                            let reply = try await player.send(step)
                            guard reply.status == 200 else { throw SimulatorError("HTTP \(reply.status): \(reply.body)") }
                            ack.record(ContinuousClock.now - t0)
                        }
                    }
                }
            }
            try await g.waitForAll()
        }
        let elapsed = ContinuousClock.now - start
        let events = calls * 4
        let stored = try await sb.db.read { try await $0.one("SELECT COUNT(*) AS n FROM call_events", []) }?.int("n") ?? 0
        print(storage.describe(sb))
        print("ingest: \(events) events (\(calls) calls) over HTTP, concurrency \(concurrency): " +
              String(format: "%.0f events/s in %.2f s", Double(events) / elapsed.seconds, elapsed.seconds) +
              "; stored \(stored)")
        print("ack latency: \(ack.line())")

        if routing > 0 {
            _ = try await player.askContact(phone: "79000000001")  // warm the cache
            let route = LatencyHistogram()
            let rnext = Counter()
            let rstart = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { g in
                for _ in 0..<concurrency {
                    g.addTask {
                        while rnext.next() < routing {
                            let t0 = ContinuousClock.now
                            let reply = try await player.askContact(phone: "79000000001")
                            guard reply.body.contains("ivan") else { throw SimulatorError("routing answered \(reply.body)") }
                            route.record(ContinuousClock.now - t0)
                        }
                    }
                }
                try await g.waitForAll()
            }
            let relapsed = ContinuousClock.now - rstart
            print("routing (cmd=contact, cached): " + String(format: "%.0f answers/s", Double(routing) / relapsed.seconds) +
                  "; latency \(route.line())")
        }
        try await http.shutdown()
        await group.triggerGracefulShutdown()
        _ = try? await server.value
        await storage.cleanUp(sb, config)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func next() -> Int { lock.withLock { defer { n += 1 }; return n } }
}

