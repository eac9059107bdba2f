# Raw data → Deals (CORE-16) and end-to-end analytics (CORE-17); read by scripts/openapi.py.
N = {"type": "number"}
STATUS = {"enum": ["open", "won", "lost"]}
TIME = lambda name, what: {"name": name, "in": "query", "schema": DT, "description": what}
ROW = {"key": {"type": "string", "description": "The group: a virtual number, a campaign (or the number when it stands for none), an "
                                                "employee's login, a site, a channel (call, request, chat); empty for none (a missed call's "
                                                "employee, a call's site)"},
       "calls": I, "texts": {"type": "integer", "description": "Web requests and chats that left a phone number"}, "contacts": {"type": "integer", "description": "Distinct client numbers (last 10 digits)"},
       "firstTouchDeals": {"type": "integer", "description": "Deals whose earliest call before their creation is in the group"},
       "lastTouchDeals": {"type": "integer", "description": "Deals whose latest call before their creation is in the group"},
       "wonDeals": {"type": "integer", "description": "Won deals credited to the group by the chosen attribution"},
       "revenue": {"type": "object", "additionalProperties": N, "description": "The won deals' amounts by currency"},
       "conversion": {"type": "number", "description": "The group's contacts whose credited call brought a won deal, over its contacts"}}
ROW_REQ = ["key", "calls", "texts", "contacts", "firstTouchDeals", "lastTouchDeals", "wonDeals", "revenue", "conversion"]

schemas = {
    "Deal": obj({"integrationId": S, "crm": ref("CRMKind"), "id": {"type": "string", "description": "The deal's id in the CRM"},
                 "title": S, "amount": N, "currency": S, "pipelineId": S, "pipelineName": S, "stageId": S, "stageName": S,
                 "status": STATUS, "responsibleId": S, "responsibleName": S, "contactIds": arr(S),
                 "phones": {**arr(S), "description": "The contacts' numbers, last 10 digits"},
                 "products": arr(obj({"id": S, "name": S, "quantity": N, "price": N}, ["name", "quantity", "price"])),
                 "store": S, "createdAt": DT, "closedAt": DT, "updatedAt": DT, "importedAt": DT},
                ["integrationId", "crm", "id", "title", "amount", "status", "contactIds", "phones", "products", "importedAt"]),
    "DealDetail": obj({"deal": ref("Deal"),
                       "history": arr(obj({"stageId": S, "stageName": S, "status": STATUS, "at": DT}, ["status", "at"])),
                       "raw": {"description": "The deal as the CRM sent it"}}, ["deal", "history"]),
    "DealAnalytics": obj({"from": DT, "to": DT, "by": {"enum": ["line", "campaign", "employee", "site", "channel"]}, "attribution": {"enum": ["first", "last"]},
                          "rows": arr(obj(ROW, ROW_REQ)), "totals": obj(ROW, ROW_REQ),
                          "unattributedDeals": {"type": "integer", "description": "Deals of the period without a call before them"}},
                         ["from", "to", "by", "attribution", "rows", "totals", "unattributedDeals"]),
}

paths = {
    "/api/v1/deals": {"get": op(
        "Raw data → Deals: the deals the CRMs reported or the backfill read, newest first", {**ok(arr(ref("Deal"))), **errs(400)}, params=[
            {"name": "integrationId", "in": "query", "schema": S}, {"name": "status", "in": "query", "schema": STATUS},
            TIME("from", "Created at or after"), TIME("to", "Created before"),
            {"name": "q", "in": "query", "schema": S, "description": "A phone number (digits) or words of the title"},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
            {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}], tag="Deals")},
    "/api/v1/deals/{integration}/{id}": {"get": op(
        "One deal with its stage history and the CRM's answer", {**ok(ref("DealDetail")), **errs(404)}, params=[
            {"name": "integration", "in": "path", "required": True, "schema": S},
            {"name": "id", "in": "path", "required": True, "schema": S, "description": "The deal's id in the CRM"}], tag="Deals")},
    "/api/v1/analytics/deals": {"get": op(
        "End-to-end analytics: the period's calls, and the web requests and chats that left a phone number, joined to the deals created in it by the client's number (last 10 digits). A deal's "
        "touches are calls from its contacts' numbers before its creation; groups count calls, contacts, first- and last-touch deals, "
        "and by the chosen attribution won deals, revenue and conversion. The last 30 days by default; at most 366 days",
        {"200": {"description": "OK", "content": {
            "application/json": {"schema": ref("DealAnalytics")},
            "text/csv": {"schema": {"type": "string", "description": "format=csv: group;name;calls;contacts;first_touch_deals;"
                                                                   "last_touch_deals;won_deals;revenue_<currency>…;conversion, and a total row"}}}},
         **errs(400)}, params=[
            TIME("from", "Start of the period (default: 30 days before to)"), TIME("to", "End of the period, excluded (default: now)"),
            {"name": "by", "in": "query", "schema": {"enum": ["line", "campaign", "employee", "site", "channel"]}, "description": "Grouping (default line)"},
            {"name": "attribution", "in": "query", "schema": {"enum": ["first", "last"]}, "description": "Which touch gets won deals (default first)"},
            {"name": "format", "in": "query", "schema": {"enum": ["json", "csv"]}}], tag="Deals")},
}
