import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardSandbox

/// The MoySklad connector's pure parts: settings (defaults, problems, schema), rules, the click-to-call signature.
@Suite("MoySklad connector: settings, rules, signature")
struct MoySkladConnectorTests {
    @Test("a new integration's settings need only the default responsible; every problem names its field")
    func validate() throws {
        let fresh = try JSON.decode(MSSettings.self, from: "{}")
        #expect(fresh.validate().map(\.field) == ["defaultResponsible"])
        #expect(fresh.incomingMissed.createTask && fresh.incomingAnswered.createCounterparty && !fresh.outgoingMissed.createCounterparty)
        var s = fresh
        s.defaultResponsible = "emp"
        s.taskDueMinutes = 0
        s.lines = ["12"]
        s.ignoredNumbers = ["x"]
        s.extraFields = [.init(attribute: "", source: "utm_nope")]
        #expect(Set(s.validate().map(\.field)) == ["taskDueMinutes", "lines", "ignoredNumbers", "extraFields"])
        #expect(CRMConnector.problems(MSSettings.self) { $0.validate() }(.object([:])).map(\.field) == ["defaultResponsible"])
        #expect(CRMConnector.problems(MSSettings.self) { $0.validate() }(.object(["lines": .string("x")])).map(\.field) == [""])
    }

    @Test("MSSettings with every field set keeps the MSSettings schema")
    func schema() throws {
        var s = MSSettings()
        s.personalManager = true
        s.showInternalCalls = true
        s.defaultResponsible = "emp"
        s.responsibleTalker = .last
        s.incomingAnswered = .init(createCounterparty: true, createOrder: true, createTask: true)
        s.order = .init(state: "Новый", organizationId: "org")
        s.taskDueMinutes = 30
        s.lines = ["+74951234567"]
        s.ignoredNumbers = ["+79030000000"]
        s.extraFields = [.init(attribute: "a", source: "utm_source")]
        s.extraFieldsUpdateAlways = true
        s.utmByLine = ["74951234567": ["utm_source": "yandex"]]
        s.clickToCall = ClickToCallSettings(callerId: "+74951234567", overrideCallerId: true)
        let value = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(s))
        var problems: [String] = []
        OpenAPIContract.served.validate(value, .object(["$ref": .string("#/components/schemas/MSSettings")]), at: "MSSettings",
                                        closed: true, &problems)
        #expect(problems == [])
    }

    @Test("responsible: talker by the setting, the dialler, else the default; filters by line and number")
    func rules() {
        var s = MSSettings()
        s.defaultResponsible = "D"
        #expect(MSCallRules.responsible(direction: .inbound, answered: true, talkerUsers: ["A", "B"], dialler: nil, settings: s) == "A")
        s.responsibleTalker = .last
        #expect(MSCallRules.responsible(direction: .inbound, answered: true, talkerUsers: ["A", "B"], dialler: nil, settings: s) == "B")
        #expect(MSCallRules.responsible(direction: .inbound, answered: false, talkerUsers: [], dialler: nil, settings: s) == "D")
        #expect(MSCallRules.responsible(direction: .inbound, answered: true, talkerUsers: [], dialler: nil, settings: s) == "D")
        #expect(MSCallRules.responsible(direction: .outbound, answered: false, talkerUsers: [], dialler: "C", settings: s) == "C")
        #expect(MSCallRules.responsible(direction: .outbound, answered: false, talkerUsers: [], dialler: nil, settings: s) == "D")
        s.lines = ["8 (495) 123-45-67"]
        s.ignoredNumbers = ["+7 903 111-22-33"]
        #expect(s.takes(line: "74951234567") && !s.takes(line: "74990000000") && s.takes(line: nil) && s.takes(line: ""))
        #expect(s.ignores(client: PhoneNumber.parse("89031112233")) && !s.ignores(client: PhoneNumber.parse("89031112234")))
    }

    @Test("the click-to-call signature: the sandbox's way is one of the candidates; a wrong key or a changed number is not")
    func signature() {
        let key = MoySkladSandboxSeed.demo.phoneAccessKey
        let body = MoySkladClickToCall.body(srcNumber: "102", destNumber: "+79161112233", uid: "boris@demo")
        let signed = MoySkladClickToCall.signature(accessKey: key, srcNumber: "102", destNumber: "+79161112233", uid: "boris@demo")
        #expect(MSClickToCallSignature.match(signature: signed, accessKey: key, srcNumber: "102", destNumber: "+79161112233",
                                             uid: "boris@demo", rawBody: body) != nil)
        #expect(MSClickToCallSignature.match(signature: signed.lowercased(), accessKey: key, srcNumber: "102",
                                             destNumber: "+79161112233", uid: "boris@demo", rawBody: body) != nil)
        #expect(MSClickToCallSignature.match(signature: signed, accessKey: "other", srcNumber: "102", destNumber: "+79161112233",
                                             uid: "boris@demo", rawBody: body) == nil)
        #expect(MSClickToCallSignature.match(signature: signed, accessKey: key, srcNumber: "102", destNumber: "+79160000000",
                                             uid: "boris@demo", rawBody: body) == nil)
        // The key followed by the raw body is another candidate.
        let raw = MSClickToCallSignature.md5(key + body)
        #expect(MSClickToCallSignature.match(signature: raw, accessKey: key, srcNumber: "102", destNumber: "+79161112233",
                                             uid: "boris@demo", rawBody: body) == "key+body")
    }

    @Test("the connection test, the settings problems and the journal's job kinds read in Russian")
    func russian() {
        let texts = ["connection works, account ООО \"Демо\", 3 employees, 3 with extensions in the telephony application",
                     "MoySklad answered 429 1049: Превышено ограничение while trying to create the task",
                     "moysklad.call.answered"] + MSSettings().validate().map(\.message)
        for text in texts {
            let ru = Messages.russian(text)
            #expect(ru != nil, "no Russian for: \(text)")
            #expect(ru?.range(of: "(account|employees|answered|while|choose)", options: .regularExpression) == nil, "English left in: \(ru ?? text)")
        }
    }
}
