import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM

@Suite("Megaplan settings and call rules")
struct MegaplanSettingsTests {
    static func filled() -> MegaplanSettings {
        var s = MegaplanSettings()
        s.lineFilter = .init()
        s.lineFilter.enabled = true
        s.lineFilter.numbers = ["+7 495 123-45-67"]
        s.defaultResponsible = "1000003"
        s.createClient.responsibleTalker = .last
        s.extraFields.enabled = true
        s.extraFields.updateAlways = true
        s.extraFields.fields = ["virtualNumber": "Category1CustomFieldA", "utm_source": "Category1CustomFieldB"]
        s.extraFields.byLine = ["74951234567": ["utm_source": "yandex"]]
        s.communication.enabled = true
        s.communication.minutes = 30
        s.todo.enabled = true
        s.todo.responsible = .employee("1000002")
        s.process.enabled = true
        s.process.responsible = .client
        s.process.programId = "8"
        s.personalManager = true
        s.numberFilter = ["+79030000000"]
        s.clickToCall = ClickToCallSettings(callerId: "+74951234567", overrideCallerId: true)
        return s
    }

    @Test("MegaplanSettings with every field set, and the defaults, keep the MPSettings schema of the OpenAPI document")
    func schema() throws {
        for s in [Self.filled(), MegaplanSettings()] {
            let value = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(s))
            var problems: [String] = []
            OpenAPIContract.served.validate(value, .object(["$ref": .string("#/components/schemas/MPSettings")]), at: "MPSettings",
                                            closed: true, &problems)
            #expect(problems == [])
        }
    }

    @Test("an empty document reads as the defaults; a round trip keeps every field")
    func decoding() throws {
        #expect(try JSON.decode(MegaplanSettings.self, from: "{}") == MegaplanSettings())
        let s = Self.filled()
        #expect(try JSON.decode(MegaplanSettings.self, from: JSON.string(s)) == s)
        #expect(MegaplanSettings().communication.minutes == 120 && MegaplanSettings().createClient.enabled)
    }

    @Test("validate names each problem by field")
    func validate() {
        #expect(Self.filled().validate() == [])
        var s = MegaplanSettings()
        s.lineFilter.enabled = true
        s.numberFilter = ["abc"]
        s.extraFields.enabled = true
        s.extraFields.fields = ["colour": "Category1CustomFieldA"]
        s.communication.enabled = true
        s.communication.minutes = 0
        s.todo.enabled = true
        s.todo.kinds = []
        s.process.enabled = true
        let fields = Set(s.validate().map(\.field))
        #expect(fields == ["lineFilter.numbers", "numberFilter", "extraFields.fields", "communication.minutes", "todo.kinds",
                           "process.programId"])
    }

    @Test("rules: line filter, number filter, the call's employee, responsibles, extra field values")
    func rules() {
        let s = Self.filled()
        #expect(MegaplanCallRules.passesLineFilter(line: "74951234567", direction: .inbound, settings: s))
        #expect(!MegaplanCallRules.passesLineFilter(line: "74990000000", direction: .inbound, settings: s))
        #expect(MegaplanCallRules.passesLineFilter(line: nil, direction: .outbound, settings: s))
        #expect(!MegaplanCallRules.passesLineFilter(line: nil, direction: .inbound, settings: s))
        #expect(MegaplanCallRules.numberFiltered(PhoneNumber.parse("8 903 000-00-00"), settings: s))
        #expect(MegaplanCallRules.callUser(direction: .inbound, answered: true, talkerUsers: ["1", "2"], dialler: nil, settings: s) == "2")
        #expect(MegaplanCallRules.callUser(direction: .inbound, answered: false, talkerUsers: [], dialler: nil, settings: s) == nil)
        #expect(MegaplanCallRules.callUser(direction: .outbound, answered: false, talkerUsers: [], dialler: "5", settings: s) == "5")
        #expect(MegaplanCallRules.responsible(.talker, callUser: nil, clientResponsible: "9", settings: s) == "1000003")
        #expect(MegaplanCallRules.responsible(.client, callUser: "1", clientResponsible: "9", settings: s) == "9")
        #expect(MegaplanCallRules.responsible(.employee("7"), callUser: "1", clientResponsible: "9", settings: s) == "7")
        #expect(MegaplanCallRules.kind(direction: .internal, answered: true) == nil)
        #expect(s.extraFieldValues(line: "+7 (495) 123-45-67") == ["Category1CustomFieldA": "+7 (495) 123-45-67",
                                                                    "Category1CustomFieldB": "yandex"])
    }

    @Test("the web phone's command bodies: nested or flat employee, dnd as bool or text, the call by provider id or card")
    func webPhoneCommands() {
        let nested = MegaplanFacts.WebPhoneCommand.read(Array(#"{"command":"makeCall","employee":{"contentType":"Employee","id":"1000001"},"phone":"+79160000000"}"#.utf8))
        #expect(nested?.employeeId == "1000001" && nested?.phone == "+79160000000")
        let flat = MegaplanFacts.WebPhoneCommand.read(Array(#"{"employeeId":1000002,"enabled":"true"}"#.utf8))
        #expect(flat?.employeeId == "1000002" && flat?.dnd == true)
        let hang = MegaplanFacts.WebPhoneCommand.read(Array(#"{"employeeId":"1","providerId":null,"callInfo":{"id":"2000001"}}"#.utf8))
        #expect(hang?.providerId == nil && hang?.callInfoId == "2000001")
        #expect(MegaplanFacts.WebPhoneCommand.read(Array("not json".utf8)) == nil)
    }
}
