import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM

/// `Integration.settings` is returned as the tenant wrote it, so the exchanges of the tests cannot hold the settings
/// schemas to the Swift types. These tests do: every field a connector's settings type writes, filled in, must be in
/// its schema in the OpenAPI document (read as closed, like a response), with the right type.
@Suite("API contract: settings schemas")
struct APIContractSettingsTests {
    let contract = OpenAPIContract.served

    func problems<T: Encodable>(_ settings: T, schema name: String) throws -> [String] {
        let value = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(settings))
        var problems: [String] = []
        contract.validate(value, .object(["$ref": .string("#/components/schemas/\(name)")]), at: name, closed: true, &problems)
        return problems
    }

    @Test("B24Settings with every field set keeps the B24Settings schema")
    func bitrix24() throws {
        var s = B24Settings()
        s.telephonyMode = .webrtc
        s.incoming.personalManager = true
        s.incoming.createEntity = false
        s.incoming.defaultResponsible = 7
        s.incoming.responsibleTalker = .first
        s.outgoing.createEntity = false
        s.outgoing.defaultResponsible = 8
        s.callTracking.enabled = true
        s.callTracking.tags = B24Settings.CallTracking.knownTags
        s.callTracking.byLine = ["74951234567": ["utm_source": "yandex", "utm_campaign": "spring"]]
        s.chatMessage = true
        s.clickToCall = ClickToCallSettings(callerId: "+74951234567", overrideCallerId: true)
        #expect(try problems(s, schema: "B24Settings") == [])
        #expect(try problems(B24Settings(), schema: "B24Settings") == [])
    }

    @Test("AmoSettings with every field set keeps the AmoSettings schema")
    func amocrm() throws {
        let rule = AmoRule(enabled: true, action: .contactAndDeal, pipelineId: 1, statusId: 2)
        let direction = AmoDirectionSettings(answeredUnknown: rule, missedUnknown: AmoRule(enabled: true, action: .unsorted, pipelineId: 1),
                                             answeredKnown: AmoRule(action: .deal), missedKnown: AmoRule(action: .dealAlways),
                                             tags: true, taskForAnswerer: true, filterNumbers: ["+74950000000"])
        let s = AmoSettings(incoming: direction, outgoing: direction, personalManager: true, defaultResponsibleUserId: 5,
                            responsibleTalker: .first, clickToCall: ClickToCallSettings(callerId: "+74951234567", overrideCallerId: true))
        #expect(try problems(s, schema: "AmoSettings") == [])
    }

    @Test("a field the schema does not list, or of another type, is found")
    func checkSeesDrift() throws {
        let extra = JSONValue.object(["telephonyMode": .string("ip"), "color": .string("red")])
        var found: [String] = []
        contract.validate(extra, .object(["$ref": .string("#/components/schemas/B24Settings")]), at: "B24Settings", closed: true, &found)
        #expect(found.contains { $0.contains("the property color is not in the document") })
        let wrong = JSONValue.object(["incoming": .object(["personalManager": .string("yes"), "createEntity": .bool(true)])])
        found = []
        contract.validate(wrong, .object(["$ref": .string("#/components/schemas/B24Settings")]), at: "B24Settings", closed: true, &found)
        #expect(found.contains { $0.contains("B24Settings.incoming.personalManager") })
    }
}
