import Foundation
import NIOHTTP1
import SwitchboardSandbox
import Testing

/// The telephony entities and what Megaplan sends out, over HTTP: the call card's life by provider id, history,
/// binding a client, employee ↔ extension settings, the responsible's route, and the web phone's commands.
@Suite("MegaplanSandbox telephony")
struct MegaplanSandboxTelephonyTests {
    static func time(_ s: String) -> MegaplanJSON { ["contentType": "DateTime", "value": .string(s)] }

    @Test func callInfoLivesByProviderIdAndPopsUpForTheMappedEmployee() async throws {
        try await withMegaplanSandbox { sandbox, base in
            let mp = try await MegaplanWire.signedIn(base)
            let created = try await mp.post("callInfo", ["contentType": "CallInfo", "providerId": "sb-call-1", "type": "in",
                                                         "state": "calling", "fromPhone": "79165551234", "toPhone": "102",
                                                         "timeFrom": Self.time("2025-01-01T12:00:00+03:00")])
            #expect(created.status == 200)
            let call = try #require(created.data)
            #expect(call["contentType"] == "CallInfo")
            #expect(call["fromUser"]?["contentType"] == "ContractorHuman")
            #expect(call["fromUser"]?["id"] == "1000100")
            #expect(call["toUser"]?["id"] == "1000002")
            let talking = try await mp.post("callInfo/provider", ["providerId": "sb-call-1", "state": "talking"])
            #expect(talking.data?["id"] == call["id"])
            #expect(talking.data?["state"] == "talking")
            let got = try await mp.get("callInfo/provider", ["providerId": "sb-call-1"])
            #expect(got.data?["state"] == "talking")
            let finished = try await mp.post("callInfo/provider", ["providerId": "sb-call-1", "state": "finished",
                                                                   "timeTo": Self.time("2025-01-01T12:03:00+03:00")])
            #expect(finished.data?["state"] == "finished")
            let id = try #require(call["id"]?.string)
            let recorded = try await mp.post("callInfo/\(id)", ["recordLinks": ["https://pbx.example/rec/1.mp3"]])
            #expect(recorded.data?["recordLinks"] == ["https://pbx.example/rec/1.mp3"])
            #expect(try await mp.get("callInfo/\(id)").data?["recordLinks"]?.array?.count == 1)
            let popups = sandbox.snapshot().popups
            #expect(popups.map(\.state) == ["calling", "talking", "finished", "finished"])
            #expect(popups.allSatisfy { $0.employeeId == "1000002" && $0.contractorId == "1000100" && $0.providerId == "sb-call-1" })
        }
    }

    @Test func callInfoErrors() async throws {
        try await withMegaplanSandbox { sandbox, base in
            let mp = try await MegaplanWire.signedIn(base)
            let badType = try await mp.post("callInfo", ["providerId": "x", "type": "incoming", "state": "calling"])
            #expect(badType.status == 422)
            #expect(badType.firstError?["field"] == "type")
            #expect(try await mp.post("callInfo", ["providerId": "x", "type": "in", "state": "ringing"]).firstError?["field"] == "state")
            #expect(try await mp.post("callInfo", ["providerId": "x", "state": "calling"]).firstError?["field"] == "type")
            #expect(try await mp.post("callInfo", ["type": "in", "recordLinks": "x"]).firstError?["field"] == "recordLinks")
            #expect(try await mp.post("callInfo/provider", ["state": "talking"]).firstError?["field"] == "providerId")
            #expect(try await mp.post("callInfo/provider", ["providerId": "never", "state": "talking"]).status == 404)
            #expect(try await mp.get("callInfo/provider", ["providerId": "never"]).status == 404)
            #expect(try await mp.get("callInfo/provider").status == 422)
            // An employee missing from the telephony users gets no call card.
            _ = try await mp.post("callInfo", ["providerId": "to-vera", "type": "in", "state": "calling", "fromPhone": "79990000000",
                                               "toUser": ["contentType": "Employee", "id": "1000003"]])
            #expect(sandbox.snapshot().popups.isEmpty)
        }
    }

    @Test func historyCallsAreFinishedWithoutPopupsAndListedApart() async throws {
        try await withMegaplanSandbox { sandbox, base in
            let mp = try await MegaplanWire.signedIn(base)
            let history = try await mp.post("callInfo/history", [
                ["contentType": "CallInfo", "providerId": "old-1", "type": "miss", "state": "calling", "fromPhone": "74951234567",
                 "toPhone": "101"],
                ["contentType": "CallInfo", "providerId": "old-2", "type": "out", "fromPhone": "101", "toPhone": "79165551234"],
            ])
            #expect(history.status == 200)
            #expect(history.data?.array?.map { $0["state"] } == ["finished", "finished"])
            #expect(history.data?.array?.first?["fromUser"]?["id"] == "1000101")
            #expect(history.data?.array?.last?["toUser"]?["id"] == "1000100")
            #expect(sandbox.snapshot().popups.isEmpty)
            #expect(try await mp.get("callInfo/history").data?.array?.count == 2)
            #expect(try await mp.get("callInfo").data?.array?.count == 0)
            // Replaying the same history updates by provider id.
            _ = try await mp.post("callInfo/history", [["providerId": "old-1", "type": "miss"]])
            #expect(try await mp.get("callInfo/history").data?.array?.count == 2)
        }
    }

    @Test func setContractorBindsTheClientOnTheDirectionsSideAndInItsCommunication() async throws {
        try await withMegaplanSandbox { _, base in
            let mp = try await MegaplanWire.signedIn(base)
            let call = try await mp.post("callInfo", ["providerId": "out-1", "type": "out", "state": "calling", "fromPhone": "101",
                                                      "toPhone": "+7 903 000-00-01"])
            #expect(call.data?["fromUser"]?["id"] == "1000001")
            #expect(call.data?["toUser"] == nil)
            let id = try #require(call.data?["id"]?.string)
            let todo = try await mp.post("callInfo/\(id)/todos", ["contentType": "Todo", "name": "Звонок", "category": ["contentType": "TodoCategory", "id": "1"]])
            #expect(todo.status == 200)
            let client = try await mp.post("contractorHuman", ["contentType": "ContractorHuman", "firstName": "Новый",
                                                               "contactInfo": [["contentType": "ContactInfo", "type": "phone", "value": "79030000001"]]])
            let clientId = try #require(client.data?["id"])
            let bound = try await mp.post("callInfo/\(id)/setContractor", ["contentType": "ContractorHuman", "id": clientId])
            #expect(bound.data?["toUser"]?["id"] == clientId)
            let relations = try await mp.get("todo/\(todo.data!["id"]!.string!)").data?["relations"]?.array ?? []
            #expect(relations.contains { $0["contentType"] == "ContractorHuman" && $0["id"] == clientId })
            #expect(try await mp.post("callInfo/\(id)/setContractor", ["contentType": "ContractorHuman", "id": "1"]).status == 422)
            #expect(try await mp.post("callInfo/999/setContractor", ["contentType": "ContractorHuman", "id": clientId]).status == 404)
        }
    }

    @Test func callUserConfigMapsEmployeesToExtensions() async throws {
        try await withMegaplanSandbox { _, base in
            let mp = try await MegaplanWire.signedIn(base)
            let all = try await mp.get("callUserConfig")
            #expect(all.data?.array?.compactMap { $0["internalNumber"]?.string }.sorted() == ["101", "102"])
            #expect(all.data?.array?.first?["employee"]?["contentType"] == "Employee")
            let made = try await mp.post("callUserConfig", ["contentType": "CallUserConfig", "internalNumber": "103",
                                                            "employee": ["contentType": "Employee", "id": "1000003"]])
            #expect(made.status == 200)
            let twice = try await mp.post("callUserConfig", ["internalNumber": "104", "employee": ["contentType": "Employee", "id": "1000003"]])
            #expect(twice.status == 422)
            #expect(twice.firstError?["field"] == "employee")
            #expect(try await mp.post("callUserConfig", ["internalNumber": "105"]).firstError?["field"] == "employee")
            #expect(try await mp.post("callUserConfig", ["employee": ["contentType": "Employee", "id": "7"]]).status == 422)
            #expect(try await mp.get("callUserConfig/Employee/1000003").data?["internalNumber"] == "103")
            let id = try #require(made.data?["id"]?.string)
            #expect(try await mp.post("callUserConfig/\(id)", ["internalNumber": "sip:113@pbx.example"]).data?["internalNumber"] == "sip:113@pbx.example")
            #expect(try await mp.delete("callUserConfig/Employee/1000003").status == 200)
            #expect(try await mp.get("callUserConfig/Employee/1000003").status == 404)
        }
    }

    @Test func callRouteGivesTheResponsibleWithExtension() async throws {
        try await withMegaplanSandbox { _, base in
            let mp = try await MegaplanWire.signedIn(base)
            let route = try await mp.get("callRoute", ["phone": "79165551234"])
            #expect(route.status == 200)
            #expect(route.data?["contentType"] == "CallRoute")
            #expect(route.data?["employees"]?.array?.map { $0["id"] } == ["1000002"])
            #expect(route.data?["employees"]?.array?.first?["internalNumber"] == "102")
            #expect(route.data?["users"]?.array?.contains { $0["id"] == "1000100" } == true)
            // The vendor's page writes the path with a trailing slash: /api/v3/callRoute/?{"phone": ...}.
            #expect(try await mp.get("callRoute/", ["phone": "79165551234"]).data?["employees"]?.array?.count == 1)
            let unknown = try await mp.get("callRoute", ["phone": "79990001122"])
            #expect(unknown.data?["employees"] == [])
            #expect(try await mp.get("callRoute").status == 422)
            // The responsible without telephony settings is not offered.
            _ = try await mp.post("contractorHuman/1000100", ["responsibles": [["contentType": "Employee", "id": "1000003"]]])
            #expect(try await mp.get("callRoute", ["phone": "+7 916 555 12 34"]).data?["employees"] == [])
        }
    }

    @Test func webPhoneCommandsAndDealEventsReachTheirAddresses() async throws {
        try await withMegaplanSandbox { sandbox, base in
            let capture = MegaplanHookCapture()
            try await withLiveApplication({ capture.application(onRunning: $0) }) { hooks in
                let mp = try await MegaplanWire.signedIn(base)
                let call = try await mp.steer("webphone/call", ["url": .string(hooks + "/hook/call"), "employeeId": "1000001",
                                                                 "phone": "79165551234"])
                #expect(call.json["status"]?.int == 200)
                _ = try await mp.steer("webphone/dnd", ["url": .string(hooks + "/hook/dnd"), "employeeId": "1000002", "enabled": true])
                _ = try await mp.post("callInfo", ["providerId": "c-9", "type": "in", "state": "talking", "fromPhone": "79165551234", "toPhone": "102"])
                _ = try await mp.steer("webphone/hangup", ["url": .string(hooks + "/hook/hangup"), "employeeId": "1000002", "providerId": "c-9"])
                #expect(try await mp.steer("webphone/hangup", ["url": .string(hooks + "/hook/hangup"), "employeeId": "1", "providerId": "none"]).status == 404)
                _ = try await mp.steer("application", ["url": .string(hooks + "/hook/events"), "models": ["Deal"]])
                let deal = try await mp.post("deal", ["contentType": "Deal", "program": ["contentType": "Program", "id": "8"]])
                #expect(deal.status == 200)
                let got = try await capture.waitFor(4)
                #expect(got.count == 4)
                let byPath = Dictionary(got.map { ($0.path, $0.body) }, uniquingKeysWith: { a, _ in a })
                #expect(byPath["/hook/call"]?["internalNumber"] == "101")
                #expect(byPath["/hook/call"]?["phone"] == "79165551234")
                #expect(byPath["/hook/dnd"]?["dnd"] == true)
                #expect(byPath["/hook/hangup"]?["providerId"] == "c-9")
                #expect(byPath["/hook/events"]?["event"] == "on_after_create")
                #expect(byPath["/hook/events"]?["accountInfo"]?["model"] == "Deal")
                #expect(byPath["/hook/events"]?["data"]?["id"] == deal.data?["id"])
                #expect(sandbox.snapshot().dnd["1000002"] == true)
            }
        }
    }
}
