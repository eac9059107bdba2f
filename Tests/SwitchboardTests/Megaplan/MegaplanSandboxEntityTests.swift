import Foundation
import NIOHTTP1
import SwitchboardSandbox
import Testing

/// Clients, deals in programs, todos (communications), tasks and comments in the sandbox, over HTTP.
@Suite("MegaplanSandbox entities")
struct MegaplanSandboxEntityTests {
    static let phone: MegaplanJSON = ["contentType": "ContactInfo", "type": "phone", "value": "+7 (926) 111-22-33"]

    @Test func clientsAreCreatedFoundByPhoneAndUpdated() async throws {
        try await withMegaplanSandbox { _, base in
            let mp = try await MegaplanWire.signedIn(base)
            let made = try await mp.post("contractorHuman", [
                "contentType": "ContractorHuman", "firstName": "Пётр", "lastName": "Звонов", "contactInfo": [Self.phone],
                "responsibles": [["contentType": "Employee", "id": "1000002"]],
                "Category1000047CustomFieldUtmMetka": "cpc-spring",
            ])
            #expect(made.status == 200)
            let client = try #require(made.data)
            #expect(client["contentType"] == "ContractorHuman")
            #expect(client["name"] == "Звонов Пётр")
            #expect(client["responsibles"]?.array?.first?["id"] == "1000002")
            #expect(client["Category1000047CustomFieldUtmMetka"] == "cpc-spring")
            let id = try #require(client["id"]?.string)
            // Found by its number written another way, in both lists.
            for path in ["contractor", "contractorCompany", "contractorHuman"] {
                let found = try await mp.get(path, ["q": "79261112233"])
                #expect(found.data?.array?.map { $0["id"] } == [.string(id)], "\(path)")
            }
            #expect(try await mp.get("contractor", ["q": "Ромашка"]).data?.array?.first?["id"] == "1000101")
            let updated = try await mp.post("contractorHuman/\(id)", ["Category1000047CustomFieldUtmMetka": "cpc-summer"])
            #expect(updated.data?["Category1000047CustomFieldUtmMetka"] == "cpc-summer")
            #expect(updated.data?["firstName"] == "Пётр")
            #expect(try await mp.get("contractorHuman/\(id)").data?["Category1000047CustomFieldUtmMetka"] == "cpc-summer")
            #expect(try await mp.get("contractor/\(id)").status == 200)
            let fields = try await mp.get("contractorHuman/extraFields")
            #expect(fields.data?.array?.contains { $0["name"] == "Category1000047CustomFieldUtmMetka" && $0["hrName"] == "UTM-метка" } == true)
        }
    }

    @Test func clientValidationNamesTheField() async throws {
        try await withMegaplanSandbox { _, base in
            let mp = try await MegaplanWire.signedIn(base)
            let nameless = try await mp.post("contractorCompany", ["contentType": "ContractorCompany", "contactInfo": [Self.phone]])
            #expect(nameless.status == 422)
            #expect(nameless.meta?["status"]?.int == 422)
            #expect(nameless.firstError?["field"] == "name")
            #expect(try await mp.post("contractorHuman", ["Category9CustomFieldNope": "x"]).firstError?["field"] == "Category9CustomFieldNope")
            #expect(try await mp.post("contractorHuman", ["contactInfo": [["type": "fax", "value": "1"]]]).firstError?["field"] == "contactInfo")
            #expect(try await mp.post("contractorHuman", ["responsibles": [["contentType": "Employee", "id": "5"]]]).firstError?["field"] == "responsibles")
            #expect(try await mp.post("contractorHuman", ["contentType": "ContractorCompany", "name": "x"]).firstError?["field"] == "contentType")
            #expect(try await mp.post("contractorHuman/123", ["firstName": "x"]).status == 404)
        }
    }

    @Test func dealsNeedAProgramStartInItsEntryStateAndMoveByTransition() async throws {
        try await withMegaplanSandbox { _, base in
            let mp = try await MegaplanWire.signedIn(base)
            let without = try await mp.post("deal", ["contentType": "Deal", "name": "Без схемы"])
            #expect(without.status == 422)
            #expect(without.firstError?["field"] == "program")
            #expect(try await mp.post("deal", ["program": ["contentType": "Program", "id": "8"],
                                               "state": ["contentType": "ProgramState", "id": "91"]]).firstError?["field"] == "state")
            let made = try await mp.post("deal", ["contentType": "Deal", "program": ["contentType": "Program", "id": "8"],
                                                  "manager": ["contentType": "Employee", "id": "1000002"],
                                                  "contractor": ["contentType": "ContractorHuman", "id": "1000100"],
                                                  "price": ["contentType": "Money", "value": 1500, "currency": "RUB"]])
            #expect(made.status == 200)
            let deal = try #require(made.data)
            #expect(deal["state"]?["id"] == "81")
            #expect(deal["program"]?["name"] == "Продажи")
            #expect(deal["manager"]?["id"] == "1000002")
            let id = try #require(deal["id"]?.string)
            // A written state is ignored on update; a transition moves the deal.
            let ignored = try await mp.post("deal/\(id)", ["state": ["contentType": "ProgramState", "id": "83"], "name": "Поставка"])
            #expect(ignored.data?["state"]?["id"] == "81")
            #expect(ignored.data?["name"] == "Поставка")
            let transition = try #require(ignored.data?["possibleTransitions"]?.array?.first { $0["to"]?["id"] == "83" })
            let moved = try await mp.post("deal/\(id)/applyTransition", transition)
            #expect(moved.data?["state"]?["id"] == "83")
            #expect(moved.data?["result"] == "positive")
            #expect(try await mp.get("deal", ["program": ["contentType": "Program", "id": "9"]]).data?.array?.count == 0)
            #expect(try await mp.get("deal", ["program": ["contentType": "Program", "id": "8"]]).data?.array?.count == 1)
            #expect(try await mp.get("program/8/states").data?.array?.count == 4)
            #expect(try await mp.get("deal/availablePrograms").data?.array?.count == 2)
        }
    }

    @Test func todosTasksAndCommentsValidateAndLink() async throws {
        try await withMegaplanSandbox { _, base in
            let mp = try await MegaplanWire.signedIn(base)
            let communication = try await mp.post("contractorHuman/1000100/todos", [
                "contentType": "Todo", "name": "Входящий звонок",
                "category": ["contentType": "TodoCategory", "id": "1"],
                "responsible": ["contentType": "Employee", "id": "1000002"],
                "when": ["contentType": "IntervalDates",
                         "from": ["contentType": "DateTime", "value": "2025-01-01T12:00:00+03:00"],
                         "to": ["contentType": "DateTime", "value": "2025-01-01T14:00:00+03:00"]],
            ])
            #expect(communication.status == 200)
            #expect(communication.data?["category"]?["masterType"] == "call")
            #expect(communication.data?["relations"]?.array?.contains { $0["id"] == "1000100" } == true)
            #expect(try await mp.get("contractorHuman/1000100/todos").data?.array?.count == 1)
            let standalone = try await mp.post("todo", ["name": "Перезвонить", "relations": [["contentType": "ContractorHuman", "id": "1000100"]]])
            #expect(standalone.status == 200)
            #expect(try await mp.get("todo").data?.array?.count == 2)
            #expect(try await mp.post("todo", ["description": "без названия"]).firstError?["field"] == "name")
            #expect(try await mp.post("todo", ["name": "x", "category": ["contentType": "TodoCategory", "id": "99"]]).firstError?["field"] == "category")
            #expect(try await mp.get("todoCategory").data?.array?.count == 3)
            let task = try await mp.post("task", ["contentType": "Task", "name": "Перезвонить клиенту",
                                                  "responsible": ["contentType": "Employee", "id": "1000003"]])
            #expect(task.data?["status"] == "assigned")
            #expect(task.data?["responsible"]?["id"] == "1000003")
            #expect(try await mp.post("task", ["name": "Без ответственного"]).firstError?["field"] == "responsible")
            #expect(try await mp.post("task", ["responsible": ["contentType": "Employee", "id": "1000003"]]).firstError?["field"] == "name")
            let comment = try await mp.post("contractorHuman/1000100/comments", ["contentType": "Comment", "content": "<p>Чат: здравствуйте</p>"])
            #expect(comment.data?["subject"]?["id"] == "1000100")
            #expect(try await mp.get("contractorHuman/1000100/comments").data?.array?.count == 1)
            #expect(try await mp.post("contractorHuman/1000100/comments", ["content": " "]).firstError?["field"] == "content")
        }
    }
}
