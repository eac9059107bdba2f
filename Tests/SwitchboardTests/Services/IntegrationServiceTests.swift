import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardStorage

@Suite("IntegrationService and MappingService: saving's side effects, the same through the API and the cabinet")
struct IntegrationServiceTests {
    static let client = PhoneNumber.parse("+79101112233", region: "RU")

    /// The amoCRM integration of a routing fixture, with a personal manager cached for the client's number.
    static func cached(_ sb: Switchboard, _ fx: PBXFixture) async throws -> Integration {
        let integration = try #require(try await sb.integrations.list(tenantId: fx.tenant.id).first)
        #expect(await sb.routing.route(connection: fx.connection, client: client, deadline: .seconds(30)).employee?.login == "ivan")
        #expect(sb.routing.cachedNumbers(integrationId: integration.id) == 1)
        return integration
    }

    @Test("saving an integration through the API, the cabinet's text rules or its employee sync forgets its cached managers; deleting it takes it out of routing at once", arguments: Backend.available)
    func savingForgetsRouting(_ backend: Backend) async throws {
        let lookup = FakeManagerLookup(mode: .fast, owners: ["9101112233": "555"])
        let storage = try await TestStorage.make(backend)
        let sb = try await Switchboard.open(config: storage.config, logger: testLogger(), lookups: [.amocrm: lookup])
        let fx = try await routingFixture(sb, protocol: .switchboard, deadlineMs: 10_000)
        try await withBothWays(sb, fx.tenant) { both in
            var integration = try await Self.cached(sb, fx)
            // (Switched off through the API: an active integration's settings must pass amoCRM's check, these do not.)
            #expect(try await both.api(.patch, "integrations/\(integration.id)", #"{"name": "amo 2", "active": false}"#).status == .ok)
            #expect(sb.routing.cachedNumbers(integrationId: integration.id) == 0, "API")
            integration.active = true
            _ = try await sb.integrations.update(integration)

            integration = try await Self.cached(sb, fx)
            #expect(try await both.form("/cabinet/integrations/\(integration.id)/texts", [:]).status == .ok)
            #expect(sb.routing.cachedNumbers(integrationId: integration.id) == 0, "cabinet: text rules")

            integration = try await Self.cached(sb, fx)
            #expect(try await both.form("/cabinet/integrations/\(integration.id)/employees", ["action": "save"]).status == .ok)
            #expect(sb.routing.cachedNumbers(integrationId: integration.id) == 0, "cabinet: employee sync")
            #expect(try await sb.integrations.get(tenantId: fx.tenant.id, id: integration.id)?.settings["employeeSync"] != nil)

            // Deleted through the API: routing no longer offers its employees (before, the directory kept it a while).
            integration = try await Self.cached(sb, fx)
            #expect(try await both.api(.delete, "integrations/\(integration.id)").status == .noContent)
            #expect(sb.routing.cachedNumbers(integrationId: integration.id) == 0, "API: delete")
            #expect(await sb.routing.route(connection: fx.connection, client: Self.client, deadline: .seconds(5)).employee == nil)
        }
        await sb.shutdown()
        await storage.cleanUp()
    }

    @Test("settings the connector refuses are refused by the service, every problem at once; switched on, they are checked even when not sent", arguments: Backend.available)
    func settingsChecked(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let tenant = try await TestTenant.make(sb)
            let service = IntegrationService(sb: sb)
            do {
                _ = try await service.create(tenantId: tenant.id, crm: .amocrm, name: "amo", credentialId: nil, pbxConnectionId: nil,
                                             active: true, settings: .object([:]), settingsGiven: false)
                Issue.record("an active integration with unusable settings was created")
            } catch let e as SettingsError {
                #expect(e.problems.contains { $0.field == "defaultResponsibleUserId" })
            }
            #expect(try await sb.integrations.list(tenantId: tenant.id).isEmpty)
            let off = try await service.create(tenantId: tenant.id, crm: .amocrm, name: "amo", credentialId: nil, pbxConnectionId: nil,
                                               active: false, settings: .object([:]), settingsGiven: false)
            var on = off
            on.active = true
            await #expect(throws: SettingsError.self) { try await service.update(on, settingsChanged: false) }
            #expect(try await sb.integrations.get(tenantId: tenant.id, id: off.id)?.active == false)
        }
    }

    @Test("a mapping replaced through the service reaches routing at once", arguments: Backend.available)
    func mappingReachesRouting(_ backend: Backend) async throws {
        let lookup = FakeManagerLookup(mode: .fast, owners: ["9101112233": "777"])
        let storage = try await TestStorage.make(backend)
        let sb = try await Switchboard.open(config: storage.config, logger: testLogger(), lookups: [.amocrm: lookup])
        let fx = try await routingFixture(sb, protocol: .switchboard, deadlineMs: 10_000)
        let integration = try #require(try await sb.integrations.list(tenantId: fx.tenant.id).first)
        let ivan = try #require(try await sb.pbx.employees(tenantId: fx.tenant.id).first)
        // CRM user 777 is nobody's yet.
        #expect(await sb.routing.route(connection: fx.connection, client: Self.client, deadline: .seconds(5)).employee == nil)
        let mapped = try await MappingService(sb: sb).replace(tenantId: fx.tenant.id, integrationId: integration.id,
                                                              [EmployeeMapping(crmUserId: "777", crmUserName: "Ivan", employeeId: ivan.id)])
        #expect(mapped.map(\.crmUserId) == ["777"])
        #expect(await sb.routing.route(connection: fx.connection, client: Self.client, deadline: .seconds(5)).employee?.login == "ivan")
        #expect(try await MappingService(sb: sb).mappings(tenantId: fx.tenant.id, integrationId: "nope") == nil)
        await sb.shutdown()
        await storage.cleanUp()
    }
}
