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
                                                    subcommands: [AmoSandboxCommand.self, Bitrix24SandboxCommand.self, MoySkladSandboxCommand.self,
                                                                  MegaplanSandboxCommand.self])

    struct AmoSandboxCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "amocrm",
            abstract: "An amoCRM account with API v4's paths, errors, rate limit and tokens; /sandbox/state shows its data.")
        @Option(help: "Address to listen on.") var host = "127.0.0.1"
        @Option(help: "Port to listen on.") var port = 8081
        @Option(help: "Seed file (JSON: users, pipelines, contacts, tokens); the demo account when omitted.") var seed: String?
        @Option(help: "Access-token lifetime in seconds.") var tokenLifetime = 86_400

        func run() async throws {
            var options = AmoSandbox.Options()
            options.accessTokenLifetime = TimeInterval(tokenLifetime)
            let sandbox = try seed.map { try AmoSandbox(seedFile: $0, options: options) } ?? AmoSandbox(options: options)
            var logger = Logger(label: "amocrm-sandbox")
            logger.logLevel = .warning
            let app = sandbox.application(host: host, port: port, logger: logger) { port in
                say("amoCRM sandbox on http://\(host):\(port); state at /sandbox/state")
                print("long-lived token: \(sandbox.seed.long_lived_tokens.first ?? "-"), OAuth client \(sandbox.seed.client_id)")
            }
            try await app.runService()
        }
    }
}

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Switchboard with a demo tenant, the amoCRM and Bitrix24 sandboxes and a simulated PBX placing a call every few seconds.")

    @Option(help: "Switchboard's port; the amoCRM sandbox, the simulated PBX and the Bitrix24 sandbox take the next three.") var port = 8080
    @Option(help: "Seconds between simulated calls.") var every = 5.0
    @Option(help: "Data directory for the demo (wiped on start).") var dataDir = "./switchboard-demo-data"

    func run() async throws {
        try? FileManager.default.removeItem(atPath: dataDir)
        var config = AppConfig()
        config.port = port
        config.dataDir = dataDir
        config.retryBaseMs = 500
        config.logLevel = "warning"
        // The demo's amoCRM sandbox and PBX API listen on this machine, over http.
        config.devMode = true
        let b24URL = "http://127.0.0.1:\(port + 3)"
        // The Bitrix24 sandbox is its own OAuth server.
        config.connectorSettings[B24OAuthServer.settingName] = b24URL
        var logger = Logger(label: "switchboard")
        logger.logLevel = .warning
        let sb = try await Switchboard.open(config: config, logger: logger)
        let sandbox = AmoSandbox()
        let sandboxURL = "http://127.0.0.1:\(port + 1)"
        let pbxURL = "http://127.0.0.1:\(port + 2)"

        let tenant = try await sb.tenants.create(name: "Демо: ООО «Ромашка»")
        let password = "demo-" + String(UUID().uuidString.prefix(8)).lowercased()
        _ = try await sb.tenants.addUser(tenantId: tenant.id, email: "demo@switchboard.local", passwordHash: Passwords.hash(password))
        let (_, token) = try await sb.tenants.createToken(tenantId: tenant.id, name: "demo")
        let (connection, secret) = try await sb.pbx.create(tenantId: tenant.id, name: "Демо-АТС (ITooLabs)", protocol: .itoolabs,
                                                           apiURL: pbxURL, apiKey: "simulator-key")
        let credential = try await sb.credentials.create(tenantId: tenant.id, crm: .amocrm, name: "Песочница amoCRM",
                                                         baseURL: sandboxURL, authKind: .token,
                                                         secret: CRMSecret(token: sandbox.seed.long_lived_tokens[0]))
        var settings = AmoSettings(defaultResponsibleUserId: 8_003)
        settings.incoming.answeredUnknown = AmoRule(enabled: true, action: .contactAndDeal, pipelineId: 7_001, statusId: 70_011)
        settings.incoming.missedUnknown = AmoRule(enabled: true, action: .unsorted, pipelineId: 7_001)
        settings.incoming.answeredKnown = AmoRule(enabled: true, action: .deal, pipelineId: 7_001, statusId: 70_011)
        settings.incoming.missedKnown = AmoRule(enabled: true, action: .deal, pipelineId: 7_001, statusId: 70_011)
        settings.incoming.tags = true
        settings.incoming.taskForAnswerer = true
        settings.outgoing.answeredUnknown = AmoRule(enabled: true, action: .contactAndDeal, pipelineId: 7_001, statusId: 70_011)
        settings.personalManager = true
        settings.clickToCall = ClickToCallSettings(callerId: "+74950000000", overrideCallerId: false)
        let integration = try await sb.integrations.create(
            tenantId: tenant.id, crm: .amocrm, name: "amoCRM", credentialId: credential.id, pbxConnectionId: connection.id,
            active: true, settings: try JSON.decode(JSONValue.self, from: JSON.string(settings)))
        var mappings: [EmployeeMapping] = []
        for (login, name, user) in [("anna", "Анна Смирнова", 8_001), ("boris", "Борис Иванов", 8_002), ("vera", "Вера Петрова", 8_003)] {
            let e = try await sb.pbx.upsertEmployee(tenantId: tenant.id, connectionId: connection.id, login: login,
                                                    extension_: String(100 + user % 10), name: name, email: nil, directNumber: nil)
            mappings.append(EmployeeMapping(crmUserId: String(user), crmUserName: name, employeeId: e.id))
        }
        try await sb.integrations.replaceMappings(tenantId: tenant.id, integrationId: integration.id, mappings)

        // Bitrix24 beside amoCRM: the same employees, Анна, Борис and Вера being users 1–3 of the portal.
        let b24 = B24Sandbox()
        let b24Credential = try await sb.credentials.create(tenantId: tenant.id, crm: .bitrix24, name: "Песочница Bitrix24",
                                                            baseURL: b24URL, authKind: .oauth,
                                                            secret: CRMSecret(login: b24.seed.client_id, password: b24.seed.client_secret))
        var b24Settings = B24Settings()
        b24Settings.incoming.defaultResponsible = 3
        b24Settings.incoming.responsibleTalker = .first
        b24Settings.outgoing.defaultResponsible = 3
        b24Settings.chatMessage = true
        b24Settings.callTracking.enabled = true
        b24Settings.callTracking.tags = ["utm_source", "utm_medium", "utm_campaign"]
        b24Settings.callTracking.byLine = ["74951234567": ["utm_source": "yandex", "utm_medium": "cpc", "utm_campaign": "demo"]]
        let b24Integration = try await sb.integrations.create(
            tenantId: tenant.id, crm: .bitrix24, name: "Bitrix24", credentialId: b24Credential.id, pbxConnectionId: connection.id,
            active: true, settings: try JSON.decode(JSONValue.self, from: JSON.string(b24Settings)))
        try await sb.integrations.replaceMappings(tenantId: tenant.id, integrationId: b24Integration.id, zip(mappings, [1, 2, 3]).map { m, user in
            EmployeeMapping(crmUserId: String(user), crmUserName: m.crmUserName, employeeId: m.employeeId)
        })
        let b24Handler = sb.connectors[.bitrix24]?.credentialLinks(b24Credential)["applicationHandlerURL"] ?? ""

        let firstEmployee = mappings[0].employeeId
        let player = ScenarioPlayer(baseURL: "http://127.0.0.1:\(port)", connectionId: connection.id, secret: secret)
        let pbx = SimulatedPBXServer(key: "simulator-key", accounts: ["anna", "boris", "vera"].map { PBXAccount(login: $0) })
        pbx.player = player
        let caller = DemoCaller(player: player, every: every)
        let services: [any Service] = [
            sb.buildApplication(workers: true) { port in
                say("""

                Switchboard demo is running on http://127.0.0.1:\(port)
                  tenant:        \(tenant.name)
                  cabinet:       http://127.0.0.1:\(port)/cabinet  (demo@switchboard.local / \(password))
                  API token:     \(token)
                  calls:         curl -H 'Authorization: Bearer \(token)' http://127.0.0.1:\(port)/api/v1/calls
                  one call:      curl -H 'Authorization: Bearer \(token)' http://127.0.0.1:\(port)/api/v1/calls/<id>
                  amoCRM data:   curl \(sandboxURL)/sandbox/state
                  Bitrix24 data: curl \(b24URL)/sandbox/state
                  click-to-call: curl -X POST -H 'Authorization: Bearer \(token)' -H 'Content-Type: application/json' \\
                                   -d '{"employeeId":"\(firstEmployee)","phone":"+79161234567","integrationId":"\(integration.id)"}' \\
                                   http://127.0.0.1:\(port)/api/v1/calls/originate
                A simulated PBX places a call every \(Int(every)) s. Ctrl-C stops everything.

                """)
            },
            sandbox.application(port: port + 1, logger: logger),
            pbx.application(port: port + 2, logger: logger),
            b24.application(port: port + 3, logger: logger, onRunning: { _ in
                // The portal installs the Switchboard application once both listen (ONAPPINSTALL to its handler).
                Task {
                    try? await Task.sleep(for: .milliseconds(500))
                    let installed = await b24.installApplication(handler: b24Handler)
                    say(installed ? "Bitrix24 sandbox: the Switchboard application is installed" : "Bitrix24 sandbox: installation failed")
                }
            }),
            caller,
        ]
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
        await sb.shutdown()
    }
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
            case 1: scenario = ITooLabsScenarios.answered(client: client, employee: ["anna", "boris", "vera"].randomElement()!)
            case 2: scenario = ITooLabsScenarios.missed(client: client, employee: "boris")
            case 3: scenario = ITooLabsScenarios.queue(client: client, employees: ["anna", "boris", "vera"])
            case 4: scenario = ITooLabsScenarios.blindTransfer(client: client, from: "anna", to: "vera")
            case 5: scenario = ITooLabsScenarios.outgoing(client: client, employee: "vera")
            default: scenario = ITooLabsScenarios.answered(client: client, employee: "anna")
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
