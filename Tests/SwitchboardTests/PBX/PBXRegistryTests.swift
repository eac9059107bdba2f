import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardPBX
import SwitchboardStorage

/// The PBX protocols come from one registry: endpoints, webhook paths, grace periods and command clients.
@Suite("PBX adapter registry")
struct PBXRegistryTests {
    @Test("each protocol's endpoints, webhook path, final grace and commands come from its adapter")
    func adapters() throws {
        let registry = PBXRegistry.live
        #expect(registry.all.map(\.id.rawValue) == ["itoolabs", "switchboard"])
        #expect(registry.all.flatMap { $0.endpoints.map(\.path) } == ["itoolabs/:id", "events/:id", "route/:id"])
        let now = Date()
        func connection(_ proto: PBXProtocol) -> PBXConnection {
            PBXConnection(id: "pbx_1", tenantId: "t", name: "PBX", protocol: proto, apiURL: nil, apiFlavor: "legacy",
                          hasAPIKey: false, routingDeadlineMs: 1500, region: "RU", createdAt: now, updatedAt: now)
        }
        #expect(registry.webhookPath(for: connection(.itoolabs)) == "pbx/itoolabs/pbx_1")
        #expect(registry.webhookPath(for: connection(.switchboard)) == "pbx/events/pbx_1")
        #expect(CallIngestor.finalGrace(for: .itoolabs) == 90)
        #expect(CallIngestor.finalGrace(for: .switchboard) == 0)
        #expect(CallIngestor.finalGrace(for: PBXProtocol("unknown")) == 0)
        #expect(registry.adapter(for: .itoolabs)?.commands != nil)
        // Both protocols take commands: ITooLabs through its API, the native one as signed JSON to `<API address>/commands`.
        #expect(registry.adapter(for: .switchboard)?.commands != nil)
        #expect(registry.adapter(for: PBXProtocol("unknown")) == nil)
        // A protocol is coded as its bare name, as the API has always shown it.
        #expect(JSON.string(connection(.itoolabs)).contains(#""protocol":"itoolabs""#))
        #expect(try JSON.decode(PBXProtocol.self, from: #""switchboard""#) == .switchboard)
    }

    @Test("the API refuses a protocol no adapter serves, before anything is stored", arguments: Backend.available)
    func unknownProtocol(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let tenant = try await TestTenant.make(sb)
            try await sb.buildApplication(workers: false).test(.router) { client in
                try await client.execute(uri: "/api/v1/pbx-connections", method: .post, headers: tenant.auth,
                                         body: body(#"{"name":"x","protocol":"mango"}"#)) { res in
                    #expect(res.status == .badRequest)
                    #expect(res.body.text.contains("field protocol is invalid"))
                }
            }
            #expect(try await sb.pbx.list(tenantId: tenant.id).isEmpty)
        }
    }
}
