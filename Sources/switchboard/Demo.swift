import AsyncHTTPClient
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardPBX
import SwitchboardSandbox
import SwitchboardSimulator
import SwitchboardStorage

struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sandbox", abstract: "Run a CRM sandbox.",
                                                    subcommands: DemoCRMs.sandboxCommands)
}

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Switchboard with a demo tenant, every demo CRM's sandbox and a simulated PBX placing a call every few seconds.")

    @Option(help: "Switchboard's port; the simulated PBX takes port + 2 and each CRM sandbox the port its demo entry names (+1, +3, …).")
    var port = 8080
    @Option(help: "Seconds between simulated calls.") var every = 5.0
    @Option(help: "Data directory for the demo (wiped on start).") var dataDir = "./switchboard-demo-data"

    func run() async throws {
        try? FileManager.default.removeItem(atPath: dataDir)
        var config = AppConfig()
        config.port = port
        config.dataDir = dataDir
        config.retryBaseMs = 500
        config.logLevel = "warning"
        // The demo's CRM sandboxes and PBX API listen on this machine, over http.
        config.devMode = true
        let crms = DemoCRMs.all
        for crm in crms { crm.configure(&config, "http://127.0.0.1:\(port + crm.portOffset)") }
        var logger = Logger(label: "switchboard")
        logger.logLevel = .warning
        let sb = try await Switchboard.open(config: config, logger: logger)
        let pbxURL = "http://127.0.0.1:\(port + 2)"

        let tenant = try await sb.tenants.create(name: "Демо: ООО «Ромашка»")
        let password = "demo-" + String(UUID().uuidString.prefix(8)).lowercased()
        _ = try await sb.tenants.addUser(tenantId: tenant.id, email: "demo@switchboard.local", passwordHash: Passwords.hash(password))
        let (_, token) = try await sb.tenants.createToken(tenantId: tenant.id, name: "demo")
        let (connection, secret) = try await sb.pbx.create(tenantId: tenant.id, name: "Демо-АТС (\(DemoPBX.title))", protocol: DemoPBX.id,
                                                           apiURL: pbxURL, apiKey: "simulator-key")
        var employees: [String: Employee] = [:]
        for (n, (login, name)) in [("anna", "Анна Смирнова"), ("boris", "Борис Иванов"), ("vera", "Вера Петрова")].enumerated() {
            employees[login] = try await sb.pbx.upsertEmployee(tenantId: tenant.id, connectionId: connection.id, login: login,
                                                               extension_: String(101 + n), name: name, email: nil, directNumber: nil)
        }
        var seeded: [DemoSeeded] = []
        for crm in crms {
            let context = DemoContext(sb: sb, tenant: tenant, connection: connection, employees: employees,
                                      url: "http://127.0.0.1:\(port + crm.portOffset)", port: port + crm.portOffset, logger: logger)
            seeded.append(try await crm.seed(context))
        }
        let site = try await DemoSite.seed(sb, tenant: tenant, integrations: seeded.map(\.integrationId))

        let firstEmployee = employees["anna"]?.id ?? ""
        let firstIntegration = seeded.first?.integrationId ?? ""
        let player = ScenarioPlayer(baseURL: "http://127.0.0.1:\(port)", connectionId: connection.id, secret: secret)
        let pbx = SimulatedPBXServer(key: "simulator-key", accounts: ["anna", "boris", "vera"].map { PBXAccount(login: $0) })
        pbx.player = player
        let caller = DemoCaller(player: player, every: every)
        let crmLines = zip(crms, seeded).map { crm, s in
            "  \((crm.title + " data:").padding(toLength: 15, withPad: " ", startingAt: 0))curl \(s.stateURL)"
        }.joined(separator: "\n")
        var services: [any Service] = [
            sb.buildApplication(workers: true) { port in
                say("""

                Switchboard demo is running on http://127.0.0.1:\(port)
                  tenant:        \(tenant.name)
                  cabinet:       http://127.0.0.1:\(port)/cabinet  (demo@switchboard.local / \(password))
                  API token:     \(token)
                  sample site:   http://127.0.0.1:\(port)/public/v1/sites/\(site.key)/preview  (a request from its form reaches every CRM;
                                 the cabinet's «Сайты» shows its code, each integration's «Заявки и чаты» its rules)
                  workspace:     http://127.0.0.1:\(port)/cabinet/workspace  (the cabinet's «Чаты»: answer the sample site's chats)
                  calls:         curl -H 'Authorization: Bearer \(token)' http://127.0.0.1:\(port)/api/v1/calls
                  one call:      curl -H 'Authorization: Bearer \(token)' http://127.0.0.1:\(port)/api/v1/calls/<id>
                \(crmLines)
                  click-to-call: curl -X POST -H 'Authorization: Bearer \(token)' -H 'Content-Type: application/json' \\
                                   -d '{"employeeId":"\(firstEmployee)","phone":"+79161234567","integrationId":"\(firstIntegration)"}' \\
                                   http://127.0.0.1:\(port)/api/v1/calls/originate
                A simulated PBX places a call every \(Int(every)) s; each call goes to every CRM. Ctrl-C stops everything.

                """)
            },
            pbx.application(port: port + 2, logger: logger),
            caller,
        ]
        services += seeded.map(\.service)
        services.append(DemoSaver(sb: sb, tenantId: tenant.id, integrationIds: seeded.map(\.integrationId),
                                  urls: ["http://127.0.0.1:\(port)/healthz"] + seeded.map(\.stateURL)))
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
        await sb.shutdown()
    }
}

/// Once every server of the demo answers, saves each seeded integration as the cabinet's «Сохранить» does, so what
/// saving asks of its CRM (webhooks for deals and contacts, the deals backfill) is in place before a newcomer looks.
struct DemoSaver: Service {
    let sb: Switchboard
    let tenantId: String
    let integrationIds: [String]
    let urls: [String]

    func run() async throws {
        for url in urls {
            for _ in 0..<300 {
                if let answer = try? await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(2)),
                   answer.status.code < 500 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        for id in integrationIds {
            guard let integration = try await sb.integrations.get(tenantId: tenantId, id: id) else { continue }
            await sb.integrationSaved(integration)
        }
        // A service that returns ends the demo: stay until it stops.
        try await gracefulShutdown()
    }
}

/// What a demo CRM gets to seed itself: the running instance, the tenant, its PBX and employees (anna, boris, vera with
/// extensions 101–103), and the sandbox's address.
struct DemoContext {
    let sb: Switchboard
    let tenant: Tenant
    let connection: PBXConnection
    let employees: [String: Employee]
    let url: String
    let port: Int
    let logger: Logger
}

/// A demo CRM's sandbox service, its integration, and where to look at the sandbox's data.
struct DemoSeeded {
    let service: any Service
    let integrationId: String
    var stateURL: String
}

/// One CRM in the demo, declared in its folder under Sources/switchboard/ and listed in `DemoCRMs`.
struct DemoCRM: Sendable {
    let title: String
    /// The sandbox's port is Switchboard's plus this.
    let portOffset: Int
    /// Installation settings the CRM needs before Switchboard opens (e.g. its OAuth server is the sandbox).
    var configure: @Sendable (inout AppConfig, _ sandboxURL: String) -> Void = { _, _ in }
    /// Credentials, integration and employee mapping for the demo tenant, and the sandbox to run.
    let seed: @Sendable (DemoContext) async throws -> DemoSeeded
}

/// Places a random call every few seconds: answered, missed, a queue, a transfer, an outgoing call, the known client.
struct DemoCaller: Service {
    let player: ScenarioPlayer
    let every: Double

    func run() async throws {
        try? await Task.sleep(for: .seconds(2))
        var n = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            n += 1
            let client = n % 5 == 0 ? "79165551234" : "7916\(Int.random(in: 1_000_000...9_999_999))"
            let scenario: SimScenario
            switch n % 6 {
            case 1: scenario = DemoPBX.Scenarios.answered(client: client, employee: ["anna", "boris", "vera"].randomElement()!)
            case 2: scenario = DemoPBX.Scenarios.missed(client: client, employee: "boris")
            case 3: scenario = DemoPBX.Scenarios.queue(client: client, employees: ["anna", "boris", "vera"])
            case 4: scenario = DemoPBX.Scenarios.blindTransfer(client: client, from: "anna", to: "vera")
            case 5: scenario = DemoPBX.Scenarios.outgoing(client: client, employee: "vera")
            default: scenario = DemoPBX.Scenarios.answered(client: client, employee: "anna")
            }
            do {
                try await player.play(scenario)
                say("simulated call: \(scenario.name) from +\(client)")
            } catch {
                say("simulated call failed: \(error)")
            }
            try? await Task.sleep(for: .seconds(every))
        }
    }
}
