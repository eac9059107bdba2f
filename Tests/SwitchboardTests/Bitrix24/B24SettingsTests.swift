import Foundation
import Testing
import SwitchboardCore
import SwitchboardCRM

@Suite("Bitrix24 settings and rules")
struct B24SettingsTests {
    @Test("a partial document reads with defaults; the required responsibles are named field by field")
    func partialAndRequired() throws {
        let s = try JSON.decode(B24Settings.self, from: #"{"incoming":{"defaultResponsible":3},"clickToCall":{"callerId":"+74951112233"},"callTracking":{"enabled":true}}"#)
        #expect(s.incoming.defaultResponsible == 3 && s.incoming.createEntity && !s.incoming.personalManager)
        #expect(s.clickToCall.callerId == "+74951112233" && !s.clickToCall.overrideCallerId)
        #expect(s.callTracking.enabled && s.callTracking.tags.isEmpty && s.telephonyMode == .ip)
        #expect(s.validate().map(\.field) == ["incoming.responsibleTalker", "outgoing.defaultResponsible"])
        #expect(B24Settings().validate().count == 3)
        var bad = B24Settings()
        bad.callTracking.tags = ["utm_source", "gclid"]
        bad.callTracking.byLine = ["12": ["utm_source": "x"]]
        #expect(bad.validate().filter { $0.field.hasPrefix("callTracking") }.count == 2)
    }

    @Test("UTM fields: only the chosen tags of the call's virtual number, matched by its last ten digits")
    func utm() {
        var s = B24Settings()
        s.callTracking.enabled = true
        s.callTracking.tags = ["utm_source", "utm_term"]
        s.callTracking.byLine = ["8 (495) 123-45-67": ["utm_source": "ya", "utm_medium": "cpc", "utm_term": ""]]
        #expect(s.utmFields(line: "74951234567") == ["UTM_SOURCE": "ya"])
        #expect(s.utmFields(line: "74950000000").isEmpty && s.utmFields(line: nil).isEmpty)
        s.callTracking.enabled = false
        #expect(s.utmFields(line: "74951234567").isEmpty)
    }

    @Test("finish's STATUS_CODE and responsible follow the result, the direction and the talker setting")
    func rules() {
        #expect(B24CallRules.statusCode(.answered, direction: .inbound) == "200")
        #expect(B24CallRules.statusCode(.missed, direction: .inbound) == "304")
        #expect(B24CallRules.statusCode(.busy, direction: .outbound) == "486")
        #expect(B24CallRules.statusCode(.noAnswer, direction: .outbound) == "480")
        #expect(B24CallRules.statusCode(.failed, direction: .inbound) == "603")
        var s = B24Settings()
        s.incoming.defaultResponsible = 9
        s.outgoing.defaultResponsible = 8
        s.incoming.responsibleTalker = .last
        #expect(B24CallRules.finisher(direction: .inbound, answered: true, talkerUsers: [1, 2], dialler: nil, settings: s) == 2)
        s.incoming.responsibleTalker = .first
        #expect(B24CallRules.finisher(direction: .inbound, answered: true, talkerUsers: [1, 2], dialler: nil, settings: s) == 1)
        #expect(B24CallRules.finisher(direction: .inbound, answered: false, talkerUsers: [], dialler: nil, settings: s) == 9)
        #expect(B24CallRules.finisher(direction: .inbound, answered: true, talkerUsers: [], dialler: nil, settings: s) == 9)
        #expect(B24CallRules.finisher(direction: .outbound, answered: true, talkerUsers: [], dialler: nil, settings: s) == 8)
        #expect(B24CallRules.finisher(direction: .outbound, answered: false, talkerUsers: [], dialler: 4, settings: s) == 4)
    }
}
