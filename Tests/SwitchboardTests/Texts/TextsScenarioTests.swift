import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardSandbox
import SwitchboardSimulator
import SwitchboardStorage

/// Sets an integration's text rules (the `texts` block of its settings) and makes a site; the visitor posts to it.
func textSite(_ sb: Switchboard, tenant: String, integration: Integration, base: String, texts: String) async throws -> SiteVisitor {
    var i = integration
    guard case .object(var settings) = i.settings else { throw SimulatorError("settings are not an object") }
    settings["texts"] = try JSON.decode(JSONValue.self, from: texts)
    i.settings = .object(settings)
    _ = try await sb.integrations.update(i)
    let site = try await TextStore(db: sb.db).createSite(tenantId: tenant, name: "Shop", origins: ["https://shop.example"],
                                                         requestTypes: ["callback", "order"])
    return SiteVisitor(baseURL: base, siteKey: site.key, origin: "https://shop.example")
}

/// Runs every text job of the tenant again, as a replay of a done job would (a copy with a new dedupe key).
func replayTextJobs(_ sb: Switchboard, tenant: String) async throws {
    for job in try await sb.queue.list(tenantId: tenant, limit: 1000) where !job.kind.contains(".call.") {
        try await sb.queue.enqueue(JobSpec(tenantId: job.tenantId, partitionKey: job.partitionKey, kind: job.kind, payload: job.payload,
                                           callId: job.callId, dedupeKey: "replay:\(job.id)"))
    }
}

@Suite("Texts end to end: site → Switchboard → CRM sandboxes")
struct TextsScenarioTests {
    static let amoTexts = """
        {"requests":{"enabled":true,"defaultResponsible":\(AmoWorld.VERA),"createTask":true,"pipelineId":\(AmoWorld.P),"statusId":\(AmoWorld.STAGE)},
         "chats":{"enabled":true,"defaultResponsible":\(AmoWorld.ANNA),"trigger":"finished","createContact":true}}
        """

    @Test("amoCRM: a request from a new sender makes a contact and a deal with the request as a note and a task; a replay makes nothing more",
          arguments: Backend.available)
    func amoRequest(_ backend: Backend) async throws {
        try await AmoWorld.with(backend) { w in
            let visitor = try await textSite(w.sb, tenant: w.fx.tenant.id, integration: w.integration, base: w.base, texts: Self.amoTexts)
            let reply = try await visitor.sendRequest(name: "Ирина", phone: "+7 903 555-44-33", email: "irina@mail.example", type: "callback",
                                                      message: "Перезвоните после обеда", utm: ["utm_source": "yandex"], requestId: "form-1")
            #expect(reply.status == 201, "\(reply.body)")
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let st = w.sandbox.snapshot()
            let contact = try #require(st.contacts.first { $0.phones.contains("+79035554433") })
            #expect(contact.name == "Ирина" && contact.responsible_user_id == AmoWorld.VERA)
            let lead = try #require(st.leads.first { $0.contact_ids == [contact.id] })
            #expect(lead.name == "Заявка с сайта Shop: callback" && lead.pipeline_id == AmoWorld.P && lead.status_id == AmoWorld.STAGE)
            let note = try #require(st.notes.first { $0.entity_type == "leads" && $0.entity_id == lead.id })
            #expect(note.text.contains("Перезвоните после обеда") && note.text.contains("utm_source: yandex"))
            #expect(st.tasks.contains { $0.entity_id == lead.id && $0.responsible_user_id == AmoWorld.VERA })

            // The same form sent again is the same request; a replayed job finds everything made.
            #expect(try await visitor.sendRequest(name: "Ирина", phone: "+7 903 555-44-33", requestId: "form-1").status == 200)
            try await replayTextJobs(w.sb, tenant: w.fx.tenant.id)
            try await w.settled()
            let after = w.sandbox.snapshot()
            #expect(after.contacts.count == st.contacts.count && after.leads.count == st.leads.count)
            #expect(after.notes.count == st.notes.count && after.tasks.count == st.tasks.count)
        }
    }

    @Test("amoCRM: a known sender's request is a deal on their contact; a finished chat's transcript goes to the contact",
          arguments: Backend.available)
    func amoKnownAndChat(_ backend: Backend) async throws {
        try await AmoWorld.with(backend) { w in
            let visitor = try await textSite(w.sb, tenant: w.fx.tenant.id, integration: w.integration, base: w.base, texts: Self.amoTexts)
            let before = w.sandbox.snapshot()
            let olga = try #require(before.contacts.first { $0.phones.contains { $0.filter(\.isNumber) == AmoWorld.olga } })
            #expect(try await visitor.sendRequest(name: "Ольга", phone: AmoWorld.olga, type: "order").status == 201)
            let replies = try await visitor.playChat(name: "Пётр", phone: "+79037770011", lines: [
                ("visitor", "Есть доставка в Тверь?"), ("operator", "Да, за два дня."),
            ])
            #expect(replies.map(\.status) == [201, 200, 200])
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let st = w.sandbox.snapshot()
            #expect(st.contacts.filter { $0.phones.contains { $0.filter(\.isNumber) == AmoWorld.olga } }.count == 1)
            #expect(st.leads.contains { $0.contact_ids == [olga.id] && $0.name == "Заявка с сайта Shop: order" })
            let petr = try #require(st.contacts.first { $0.phones.contains("+79037770011") })
            #expect(petr.responsible_user_id == AmoWorld.ANNA)
            let transcript = try #require(st.notes.first { $0.entity_type == "contacts" && $0.entity_id == petr.id && $0.text.hasPrefix("Переписка") })
            #expect(transcript.text.contains("Пётр: Есть доставка в Тверь?") && transcript.text.contains("Анна: Да, за два дня."))
            #expect(!st.leads.contains { $0.contact_ids == [petr.id] })  // chats make no deal unless the rules say so
        }
    }

    @Test("amoCRM, Unsorted: a request is a web form entry (leads/unsorted/forms) with the sender's contact; a replay makes nothing more",
          arguments: Backend.available)
    func amoUnsorted(_ backend: Backend) async throws {
        try await AmoWorld.with(backend) { w in
            let texts = #"{"requests":{"enabled":true,"defaultResponsible":\#(AmoWorld.VERA),"unsorted":true,"pipelineId":\#(AmoWorld.P)}}"#
            let visitor = try await textSite(w.sb, tenant: w.fx.tenant.id, integration: w.integration, base: w.base, texts: texts)
            let reply = try await visitor.sendRequest(name: "Ирина", phone: "+79035554433", type: "callback", message: "Перезвоните")
            #expect(reply.status == 201)
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let st = w.sandbox.snapshot()
            let entry = try #require(st.unsorted.first { $0.category == "forms" })
            let id = try #require(try await TextStore(db: w.sb.db).list(tenantId: w.fx.tenant.id).first?.id)
            #expect(entry.source_uid == id && entry.pipeline_id == AmoWorld.P && entry.metadata["form_name"] == "Заявка с сайта Shop: callback")
            #expect(st.contacts.first { $0.id == entry.contact_id }?.phones == ["+79035554433"])
            #expect(st.notes.contains { $0.entity_id == entry.lead_id && $0.text.contains("Перезвоните") })
            try await replayTextJobs(w.sb, tenant: w.fx.tenant.id)
            try await w.settled()
            let after = w.sandbox.snapshot()
            #expect(after.unsorted.count == st.unsorted.count && after.contacts.count == st.contacts.count && after.notes.count == st.notes.count)
        }
    }

    static let b24Texts = """
        {"requests":{"enabled":true,"defaultResponsible":"\(B24World.VERA)"},
         "chats":{"enabled":true,"defaultResponsible":"\(B24World.ANNA)","trigger":"finished"}}
        """

    @Test("Bitrix24, classic CRM: a request is a lead with the sender's phone, e-mail and UTM; a replay makes nothing more",
          arguments: Backend.available)
    func b24Lead(_ backend: Backend) async throws {
        try await B24World.with(backend) { w in
            let visitor = try await textSite(w.sb, tenant: w.fx.tenant.id, integration: w.integration, base: w.base, texts: Self.b24Texts)
            let reply = try await visitor.sendRequest(name: "Ирина", phone: "+79035554433", email: "irina@mail.example", type: "callback",
                                                      message: "Перезвоните", utm: ["utm_source": "yandex", "utm_campaign": "spring"])
            #expect(reply.status == 201, "\(reply.body)")
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let lead = try #require(w.leads("79035554433").first)
            #expect(w.leads("79035554433").count == 1)
            #expect(lead["TITLE"]?.stringValue == "Заявка с сайта Shop: callback" && lead["ASSIGNED_BY_ID"]?.stringValue == String(B24World.VERA))
            #expect(lead["UTM_SOURCE"]?.stringValue == "yandex" && lead["UTM_CAMPAIGN"]?.stringValue == "spring")
            #expect(lead["SOURCE_ID"]?.stringValue == "WEB" && lead["COMMENTS"]?.stringValue?.contains("Перезвоните") == true)
            guard case .array(let emails)? = lead["EMAIL"] else { Issue.record("the lead has no e-mail"); return }
            #expect(emails.first?["VALUE"]?.stringValue == "irina@mail.example")
            try await replayTextJobs(w.sb, tenant: w.fx.tenant.id)
            try await w.settled()
            #expect(w.leads("79035554433").count == 1)
        }
    }

    @Test("Bitrix24, simple CRM: a request is a contact and a deal; a finished chat's transcript is a timeline comment on the contact",
          arguments: Backend.available)
    func b24DealAndChat(_ backend: Backend) async throws {
        try await B24World.with(backend, crmMode: 2) { w in
            let visitor = try await textSite(w.sb, tenant: w.fx.tenant.id, integration: w.integration, base: w.base, texts: Self.b24Texts)
            #expect(try await visitor.sendRequest(name: "Ирина", phone: "+79035554433", type: "order").status == 201)
            _ = try await visitor.playChat(name: "Пётр", phone: "+79037770011", lines: [("visitor", "Есть доставка?"), ("operator", "Да.")])
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let st = w.sandbox.snapshot()
            #expect(w.leads("79035554433").isEmpty)
            let irina = try #require(st.contacts.first { B24World.phones($0).contains("79035554433") })
            let deal = try #require(st.deals.first { $0["CONTACT_ID"]?.stringValue == irina["ID"]?.stringValue })
            #expect(deal["TITLE"]?.stringValue == "Заявка с сайта Shop: order" && deal["ASSIGNED_BY_ID"]?.stringValue == String(B24World.VERA))
            let petr = try #require(st.contacts.first { B24World.phones($0).contains("79037770011") })
            let comment = try #require(st.timeline_comments.first { $0["ENTITY_ID"]?.stringValue == petr["ID"]?.stringValue })
            #expect(comment["ENTITY_TYPE"]?.stringValue == "contact")
            #expect(comment["COMMENT"]?.stringValue?.contains("Анна: Да.") == true)
            let counts = (st.contacts.count, st.deals.count, st.timeline_comments.count)
            try await replayTextJobs(w.sb, tenant: w.fx.tenant.id)
            try await w.settled()
            let after = w.sandbox.snapshot()
            #expect((after.contacts.count, after.deals.count, after.timeline_comments.count) == counts)
        }
    }
}
