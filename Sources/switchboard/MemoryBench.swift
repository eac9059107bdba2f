import ArgumentParser
import AsyncHTTPClient
import Foundation
import SwitchboardApp
import SwitchboardCore
import SwitchboardSimulator
import SwitchboardStorage

/// Resident memory of a process from /proc/<pid>/status, in MiB: (VmRSS, VmHWM).
func residentMemory(pid: String = "self") -> (rss: Double, peak: Double) {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (0, 0) }
    func field(_ name: String) -> Double {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
        return Double(line.split(separator: " ").compactMap { Double($0) }.first ?? 0) / 1024
    }
    return (field("VmRSS"), field("VmHWM"))
}

struct MemoryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Seed tenants, connections, integrations and calls through the stores, start `switchboard serve` on them, " +
                  "post one webhook and one routing request per connection and print the server's RSS.")

    @Option(help: "Tenants, each with one PBX connection and one active CRM integration.") var tenants = 1000
    @Option(help: "Stored calls, spread evenly over the tenants.") var calls = 100_000
    @Option(help: "Port for the `serve` process.") var port = 18_190
    @Option(help: "Concurrent webhook senders.") var concurrency = 16
    @OptionGroup var storage: BenchStorage

    func run() async throws {
        let (sb, config, _) = try await storage.open()
        let seedStart = ContinuousClock.now
        var seeds: [(tenant: String, connection: String, secret: String)] = []
        let perTenant = max(1, calls / max(1, tenants))
        for t in 0..<tenants {
            let tenant = try await sb.tenants.create(name: "Memory bench \(t)")
            let (connection, secret) = try await sb.pbx.create(tenantId: tenant.id, name: "pbx", protocol: DemoPBX.id,
                                                               apiURL: nil, apiKey: nil)
            _ = try await sb.integrations.create(tenantId: tenant.id, crm: DemoCRMs.benchCRM, name: "crm", credentialId: nil,
                                                 pbxConnectionId: connection.id, active: true)
            seeds.append((tenant.id, connection.id, secret))
        }
        // Each tenant's calls in one transaction, eight tenants at a time.
        let store = sb.calls
        let db = sb.db
        let now = Date()
        let work = seeds
        let nextTenant = Counter()
        try await withThrowingTaskGroup(of: Void.self) { g in
            for _ in 0..<8 {
                g.addTask {
                    while true {
                        let t = nextTenant.next()
                        if t >= work.count { return }
                        let seed = work[t]
                        _ = try await db.transaction { tx in
                            for c in 0..<perTenant {
                                let external = "seed-\(t)-\(c)"
                                let event = CallEvent(key: external + "-end", kind: .callEnded, providerType: DemoPBX.id.rawValue,
                                                      externalCallId: external, occurredAt: now.addingTimeInterval(Double(-c * 60)),
                                                      direction: .inbound, clientNumberRaw: String(79_000_000_000 + c),
                                                      lineNumber: "74951234567", employeeLogin: "ivan")
                                _ = try await store.ingest(event, raw: "{}", tenantId: seed.tenant, connectionId: seed.connection,
                                                           region: "RU", in: tx)
                            }
                        }
                    }
                }
            }
            try await g.waitForAll()
        }
        let connections = seeds.map { (id: $0.connection, secret: $0.secret) }
        let seeded = ContinuousClock.now - seedStart
        let storedCalls = try await sb.db.read { try await $0.one("SELECT COUNT(*) AS n FROM calls", []) }?.int("n") ?? 0
        print(storage.describe(sb))
        print(String(format: "seeded %d tenants (one PBX connection and one active CRM integration each) and %d calls in %.1f s",
                     tenants, storedCalls, seeded.seconds))
        await sb.shutdown()

        // A separate `switchboard serve` on the same storage, so the seeding above does not count.
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        serve.arguments = ["serve"]
        var env = ProcessInfo.processInfo.environment
        env["SWITCHBOARD_DATA_DIR"] = config.dataDir
        env["SWITCHBOARD_PORT"] = String(port)
        env["SWITCHBOARD_HOST"] = "127.0.0.1"
        env["SWITCHBOARD_LOG_LEVEL"] = "error"
        env["SWITCHBOARD_SQLITE_SYNCHRONOUS"] = config.sqliteSynchronous
        if let url = config.databaseURL { env["SWITCHBOARD_DATABASE_URL"] = url } else { env["SWITCHBOARD_DATABASE_URL"] = nil }
        serve.environment = env
        serve.standardOutput = FileHandle.nullDevice
        serve.standardError = FileHandle.nullDevice  // one dead-letter line per webhook: the integrations have no credentials
        try serve.run()
        let pid = String(serve.processIdentifier)
        defer { if serve.isRunning { serve.terminate() } }

        let base = "http://127.0.0.1:\(port)"
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let probe = ScenarioPlayer(baseURL: base, connectionId: "", secret: "", http: http)
        var up = false
        for _ in 0..<600 where !up {
            if let reply = try? await probe.get("/healthz"), reply.status == 200 { up = true } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        guard up, serve.isRunning else { throw ValidationError("`switchboard serve` did not come up on \(base)") }
        let idle = residentMemory(pid: pid)

        let targets = connections
        let next = Counter()
        let failures = Counter()
        let touchStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { g in
            for _ in 0..<concurrency {
                g.addTask {
                    while true {
                        let n = next.next()
                        if n >= targets.count { return }
                        let player = ScenarioPlayer(baseURL: base, connectionId: targets[n].id, secret: targets[n].secret, http: http)
                        let step = DemoPBX.Scenarios.answered(client: String(79_100_000_000 + n), employee: "ivan").steps[0]
                        let reply = try await player.send(step)
                        if reply.status != 200 { _ = failures.next() }
                        let contact = try await player.askContact(phone: String(79_100_000_000 + n))
                        if contact.status != 200 { _ = failures.next() }
                    }
                }
            }
            try await g.waitForAll()
        }
        let touched = ContinuousClock.now - touchStart
        try await Task.sleep(for: .seconds(3))  // let the workers take the jobs the webhooks enqueued
        let after = residentMemory(pid: pid)
        try await http.shutdown()
        serve.terminate()
        serve.waitUntilExit()

        print(String(format: "serve RSS: %.1f MiB after start, %.1f MiB after one webhook and one cmd=contact per connection (%d connections in %.1f s, %d non-200), peak %.1f MiB",
                     idle.rss, after.rss, connections.count, touched.seconds, failures.next(), after.peak))
        print(String(format: "goal < 150 MB: %@", after.rss * 1.048576 < 150 ? "met" : "missed"))
        if config.databaseURL == nil { try? FileManager.default.removeItem(atPath: config.dataDir) }
    }
}
