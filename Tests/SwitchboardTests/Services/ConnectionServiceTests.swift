import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardSimulator
import SwitchboardStorage

@Suite("ConnectionService: PBX connections and employees, the same through the API and the cabinet")
struct ConnectionServiceTests {
    @Test("an employee removed through the API or the cabinet is out of personal-manager routing at once",
          arguments: Backend.available)
    func employeeRemovalForgetsDirectory(_ backend: Backend) async throws {
        let lookup = FakeManagerLookup(mode: .fast, owners: ["9101112233": "555"])
        let storage = try await TestStorage.make(backend)
        let sb = try await Switchboard.open(config: storage.config, logger: testLogger(), lookups: [.amocrm: lookup])
        let client = PhoneNumber.parse("+79101112233", region: "RU")
        for way in Way.allCases {
            let fx = try await routingFixture(sb, protocol: .switchboard, deadlineMs: 5000)
            // The directory of employees is loaded and kept for a few seconds.
            #expect(await sb.routing.route(connection: fx.connection, client: client, deadline: .seconds(5)).employee?.login == "ivan")
            let ivan = try #require(try await sb.pbx.employees(tenantId: fx.tenant.id).first)
            try await withBothWays(sb, fx.tenant) { both in
                let status = way == .api ? try await both.api(.delete, "employees/\(ivan.id)").status
                    : try await both.form("/cabinet/employees/\(ivan.id)/delete", [:]).status
                #expect(status == (way == .api ? .noContent : .seeOther), "\(way)")
            }
            #expect(try await sb.pbx.employees(tenantId: fx.tenant.id).isEmpty)
            let after = await sb.routing.route(connection: fx.connection, client: client, deadline: .seconds(5))
            #expect(after.employee == nil, "\(way): the removed employee is still offered")
        }
        await sb.shutdown()
        await storage.cleanUp()
    }

    @Test("moving a connection's API address without its key is refused alike through the API and the cabinet; a rename through either reaches the PBX webhook's cached connection at once", arguments: Backend.available)
    func pinningAndCache(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let fx = try await PBXFixture.make(sb, apiURL: "http://127.0.0.1:9/pbx", apiKey: "k-1")
            _ = try await sb.connections.get(fx.connection.id)
            try await withBothWays(sb, fx.tenant) { both in
                let res = try await both.api(.patch, "pbx-connections/\(fx.connection.id)", #"{"apiURL": "http://127.0.0.1:8/pbx"}"#)
                #expect(res.status == .unprocessableContent)
                #expect(res.body.j["error"]?["field"]?.stringValue == "apiKey")
                let page = try await both.form("/cabinet/pbx/\(fx.connection.id)", ["action": "save", "name": "PBX",
                                                                                   "apiURL": "http://127.0.0.1:8/pbx", "apiFlavor": "legacy",
                                                                                   "routingDeadlineMs": "1500"])
                #expect(page.status == .unprocessableContent)
                #expect(page.body.text.contains("адрес"), "the refusal is shown in Russian")
                #expect(try await sb.pbx.get(tenantId: fx.tenant.id, id: fx.connection.id)?.apiURL == "http://127.0.0.1:9/pbx")
                #expect(try await sb.pbx.apiKey(connectionId: fx.connection.id) == "k-1")

                // Renamed through each way: the cached copy the PBX's requests read is the new one at once.
                #expect(try await both.api(.patch, "pbx-connections/\(fx.connection.id)", #"{"name": "API name"}"#).status == .ok)
                #expect(try await sb.connections.get(fx.connection.id)?.0.name == "API name")
                #expect(try await both.form("/cabinet/pbx/\(fx.connection.id)", ["action": "save", "name": "Cabinet name",
                                                                                "apiURL": "http://127.0.0.1:9/pbx", "apiFlavor": "legacy",
                                                                                "routingDeadlineMs": "1500"]).status == .seeOther)
                #expect(try await sb.connections.get(fx.connection.id)?.0.name == "Cabinet name")
            }
        }
    }

    @Test("the setup's webhook address is where the running instance listens (its port is known only once it runs)")
    func webhookAddress() async throws {
        try await withSwitchboard(.sqlite) { sb in
            let tenant = try await TestTenant.make(sb)
            try await withLiveSwitchboard(sb, workers: false) { base in
                let client = ScenarioPlayer(baseURL: base, connectionId: "", secret: "")
                let headers = ["Authorization": "Bearer \(tenant.token)", "Content-Type": "application/json"]
                let r = try await client.post("/api/v1/pbx-connections", body: Array(#"{"name": "PBX", "protocol": "itoolabs"}"#.utf8),
                                              headers: headers)
                #expect(r.status == 201)
                let setup = try JSON.decode(JSONValue.self, from: r.body)
                #expect(setup["webhookURL"]?.stringValue?.hasPrefix(base + "/") == true, "\(setup)")
            }
        }
    }

    @Test("the service refuses what the API and the cabinet both refused, each with its field")
    func checks() async throws {
        try await withSwitchboard(.sqlite) { sb in
            let tenant = try await TestTenant.make(sb)
            let service = ConnectionService(sb: sb)
            await #expect(throws: ServiceError.invalid(field: "name", InputProblem.nameRequired.phrase)) {
                try await service.create(tenantId: tenant.id, name: " ", protocol: .itoolabs, apiURL: nil, apiKey: nil, apiFlavor: nil,
                                         routingDeadlineMs: nil, region: nil)
            }
            await #expect(throws: ServiceError.invalid(field: "routingDeadlineMs", InputProblem.routingDeadline.phrase)) {
                try await service.create(tenantId: tenant.id, name: "PBX", protocol: .itoolabs, apiURL: nil, apiKey: nil, apiFlavor: nil,
                                         routingDeadlineMs: 50, region: nil)
            }
            let setup = try await service.create(tenantId: tenant.id, name: "PBX", protocol: .itoolabs, apiURL: nil, apiKey: nil,
                                                 apiFlavor: nil, routingDeadlineMs: nil, region: nil)
            #expect(setup.webhookURL.hasSuffix(setup.connection.id) && !setup.secret.isEmpty)
            await #expect(throws: ServiceError.conflict(ConnectionService.noCommands)) {
                try await service.importEmployees(tenantId: tenant.id, connection: setup.connection)
            }
        }
    }
}
