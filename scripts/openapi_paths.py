# PBX-facing endpoints and the call journal; read by scripts/openapi.py.
FORM = {"application/x-www-form-urlencoded": {"schema": {"type": "object", "additionalProperties": {"type": "string"}}},
        "application/json": {"schema": {"type": "object"}}}
SIGNED = [{"name": "X-Switchboard-Timestamp", "in": "header", "required": True, "schema": {"type": "string"},
           "description": "Unix seconds; refused when more than 300 s from Switchboard's clock."},
          {"name": "X-Switchboard-Signature", "in": "header", "required": True, "schema": {"type": "string"},
           "description": "sha256=<hex HMAC-SHA256(connection secret, \"<timestamp>.<raw body>\")>"}]
PBX_ID = [{"name": "id", "in": "path", "required": True, "schema": S, "description": "PBX connection id"}]
ERRB = {"description": "Refused, with the reason", "content": {"application/json": {"schema": {"type": "object"}}}}
BUSY = {"description": "Not stored: Switchboard is overloaded or its storage failed. Nothing of the request was written; "
                       "send it again after Retry-After seconds (events are idempotent by their keys).",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before sending again"}},
        "content": {"application/json": {"schema": {"type": "object"}}}}
KINDS = ["leg.ringing", "leg.answered", "leg.ended", "call.transferred", "call.ended", "call.finalized", "recording.ready", "call.rated"]
RESULTS = ["pending", "answered", "missed", "busy", "no_answer", "cancelled", "failed", "not_allowed", "not_found"]

schemas = {
    "NativeEvent": obj({
        "event_id": {"type": "string", "description": "Unique per event; a repeated id is acknowledged and ignored."},
        "type": {"enum": KINDS}, "call_id": S,
        "related_call_id": {"type": "string", "description": "Another provider id of the same call (a transfer's new leg)."},
        "occurred_at": {**DT, "description": "At most 300 s ahead of Switchboard's clock; a call's started_at plus its wait and duration too."},
        "sequence": I, "direction": {"enum": ["inbound", "outbound", "internal"]},
        "client_number": S, "line_number": {"type": "string", "description": "The tenant's number the call came through."},
        "employee": obj({"login": S, "extension": S}, ["login"]), "group": S,
        "final": obj({"status": {"enum": RESULTS}, "started_at": DT, "duration_sec": {**I, "minimum": 0, "maximum": 86400},
                      "wait_sec": {**I, "minimum": 0, "maximum": 86400}, "employee": S}, ["status"]),
        "recording_url": S, "rating": I}, ["event_id", "type", "call_id", "occurred_at"]),
    "NativeAck": obj({"accepted": I, "duplicates": I, "calls": arr(S)}),
    "RoutingRequest": obj({"call_id": S, "client_number": S, "line_number": S,
                           "deadline_ms": {"type": "integer", "description": "How long the PBX waits; Switchboard answers within it less a margin "
                                                           "(a tenth, at least 50 ms), and never later than the connection's own deadline allows."}},
                          ["client_number"]),
    "RoutingAnswer": obj({"decision": {"enum": ["employee", "no_preference"]}, "employee": obj({"login": S, "extension": S}),
                          "crm_user_id": S, "contact_name": S, "reason": S}, ["decision", "reason"]),
    "Leg": obj({"id": S, "employeeLogin": S, "extension": S, "group": S, "state": {"enum": ["ringing", "connected", "ended"]},
                "startedAt": DT, "answeredAt": DT, "endedAt": DT, "endReason": S, "segment": S}),
    "Call": obj({"id": S, "tenantId": S, "pbxConnectionId": S, "externalIds": arr(S),
                 "direction": {"enum": ["inbound", "outbound", "internal", "unknown"]},
                 "client": obj({"e164": S, "raw": S}), "lineNumber": S,
                 "state": {"enum": ["ringing", "connected", "ended", "finalized"]}, "legs": arr(ref("Leg")), "talkers": arr(S),
                 "createdAt": DT, "answeredAt": DT, "endedAt": DT, "recordingURL": S, "rating": I, "origin": S,
                 "final": obj({"status": {"type": "string", "description": "The provider's status as it came"},
                               "result": {"enum": RESULTS}, "startedAt": DT, "durationSec": I, "waitSec": I, "employeeLogin": S},
                              ["status", "result"]),
                 "transferPending": {"type": "boolean", "description": "A transfer left the call without a ringing employee yet"},
                 "transfers": {**arr(arr(S)), "description": "Each transfer as [from provider id, to provider id]"}}),
    "CallSummary": obj({"call": ref("Call"), "result": {"enum": RESULTS}, "talkSec": I, "waitSec": I}),
    "CallDetail": obj({"call": ref("Call"), "result": {"enum": RESULTS}, "talkSec": I, "waitSec": I,
                       "events": arr(obj({"event": {"type": "object"}, "raw": S, "receivedAt": DT})),
                       "jobs": arr(ref("JobDetail"))}),
}

paths = {
    "/pbx/itoolabs/{id}": {"post": {
        "summary": "ITooLabs CRM API endpoint (MegaFon, Gravitel, Dom.ru, Kcell, …): cmd=event|history|contact|rating with crm_token",
        "tags": ["PBX"], "security": [], "parameters": PBX_ID,
        "requestBody": {"required": True, "content": FORM},
        "responses": {"200": {"description": "Stored; for cmd=contact {\"contact_name\", \"responsible\"} or {} (no preference)",
                              "content": {"application/json": {"schema": obj({"contact_name": S, "responsible": S})}}},
                      "400": ERRB, "401": ERRB, "404": ERRB, "413": ERRB, "503": BUSY}}},
    "/pbx/events/{id}": {"post": {
        "summary": "Switchboard's own PBX protocol: one event or {\"events\": [...]} (at most 1000), signed",
        "tags": ["PBX"], "security": [], "parameters": PBX_ID + SIGNED,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
            ref("NativeEvent"), obj({"events": arr(ref("NativeEvent"))}, ["events"])]}}}},
        "responses": {**ok(ref("NativeAck"), "200", "Stored durably before this answer"), "400": ERRB, "401": ERRB, "404": ERRB, "413": ERRB,
                      "503": BUSY}}},
    "/pbx/route/{id}": {"post": {
        "summary": "Personal-manager routing: who is this caller's manager? Answered within the deadline.",
        "tags": ["PBX"], "security": [], "parameters": PBX_ID + SIGNED,
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref("RoutingRequest")}}},
        "responses": {**ok(ref("RoutingAnswer")), "400": ERRB, "401": ERRB, "404": ERRB}}},
    "/api/v1/calls": {"get": op("The call journal, newest first", {**ok(arr(ref("CallSummary"))), **errs(400)}, params=[
        {"name": n, "in": "query", "schema": sch} for n, sch in [
            ("from", DT), ("to", DT), ("number", S), ("employee", S), ("result", {"enum": RESULTS}), ("pbxConnectionId", S),
            ("limit", {"type": "integer", "minimum": 1, "maximum": 1000})]], tag="Calls")},
    "/api/v1/calls/{id}": {"get": op("A call with its events and what was done in the CRMs (jobs, attempts, requests)",
                                     {**ok(ref("CallDetail")), **errs(404)}, params=ID, tag="Calls")},
    "/api/v1/calls/originate": {"post": op("Click-to-call: the PBX rings the employee, then the client (caller-ID rules of CORE-12)",
                                           {**ok(obj({"pbxCallId": S, "callerId": S}), "202", "Sent to the PBX"), **errs(400, 409, 422, 502)},
                                           obj({"employeeId": S, "phone": S, "integrationId": S}, ["employeeId", "phone"]), tag="Calls")},
    "/api/v1/pbx-connections/{id}/dnd": {"post": op("Switch an employee's do-not-disturb on the PBX",
                                                    {**ok(obj({"employeeId": S, "dnd": S})), **errs(400, 404, 409, 422, 502)},
                                                    obj({"employeeId": S, "on": B}, ["employeeId", "on"]), ID, tag="PBX")},
    "/api/v1/pbx-connections/{id}/accounts": {"get": op("Employees as the PBX lists them", {**ok(arr(obj({"login": S, "name": S, "extension": S, "email": S, "directNumber": S}))), **errs(404, 409, 422, 502)}, params=ID, tag="PBX")},
    "/api/v1/pbx-connections/{id}/events": {"get": op("The last events received from the PBX", {**ok(arr(obj({"event": {"type": "object"}, "receivedAt": DT}))), **errs(404)}, params=ID, tag="PBX")},
    "/api/v1/pbx-connections/{id}/lines": {"get": op("The tenant's virtual numbers seen in calls", {**ok(arr(S)), **errs(404)}, params=ID, tag="PBX")},
}

# What every connector serves for its credentials (Sources/SwitchboardApp/HTTP/ConnectorRoutes.swift).
schemas["CheckResult"] = obj({"ok": B, "message": S}, ["ok", "message"])
schemas["CRMUser"] = obj({"id": S, "name": S, "email": S,
                          "extension": {"type": "string", "description": "The user's inner phone number in the CRM, when it keeps one."},
                          "active": B}, ["id", "name", "active"])
schemas["EmployeeSyncReport"] = obj({"created": arr(S), "updated": arr(S), "mapped": arr(S), "unchanged": {"type": "integer"},
                                     "skipped": {**arr(S), "description": "Selected users the CRM no longer lists, lists as "
                                                                           "dismissed, or who have no e-mail"}},
                                    ["created", "updated", "mapped", "unchanged", "skipped"])
NOT_SERVED = {**errs(409)["409"], "description": "The CRM of these credentials is not served by this installation, "
                                                  "or its connector does not offer this"}
paths.update({
    "/api/v1/credentials/{id}/test": {"post": op("Test the connection in the CRM's words (amoCRM: \"connection works, account X, N users\"; "
                                                 "Bitrix24: \"…, portal X, N users, CRM mode: leads/deals\"), or why not; "
                                                 "the credentials' status follows",
                                                 {**ok(ref("CheckResult")), **errs(404),
                                                  "409": NOT_SERVED,
                                                  "422": {"description": "The check failed: ok false, with the reason",
                                                          "content": {"application/json": {"schema": ref("CheckResult")}}}},
                                                 params=ID, tag="CRM")},
    "/api/v1/credentials/{id}/users": {"get": op("The CRM's users, read live, with their inner numbers (for the employee mapping)",
                                                 {**ok(arr(ref("CRMUser"))), **errs(404, 422, 429, 502),
                                                  "409": NOT_SERVED}, params=ID, tag="CRM")},
    "/api/v1/integrations/{id}/employee-sync": {"post": op(
        "CORE-14, sync now: the CRM users selected in the integration's settings (`employeeSync.userIds`) become employees of "
        "its PBX connection, matched by their mapping or e-mail, and are mapped to their CRM user. With `employeeSync.enabled` "
        "on, saving the integration runs it and it runs again every two hours",
        {**ok(ref("EmployeeSyncReport")), **errs(404, 422, 429, 502),
         "409": {**errs(409)["409"], "description": "The CRM cannot list its users, or the integration has no PBX connection "
                                                    "or credentials"}}, params=ID, tag="CRM")},
    "/api/v1/credentials/{id}/links": {"get": op("Addresses to paste into the CRM for these credentials, by name (empty for a CRM that needs none)",
                                                 {**ok({"type": "object", "properties": {
                                                     "applicationHandlerURL": {"type": "string", "description":
                                                         "Bitrix24: the local application's handler and installation path"}},
                                                     "additionalProperties": S}),
                                                  **errs(404), "409": NOT_SERVED}, params=ID, tag="CRM")},
})

# amoCRM endpoints.
schemas["AmoPipeline"] = obj({"id": I, "name": S, "isMain": B, "statuses": arr(obj({"id": I, "name": S, "type": I}))})
schemas["AmoUser"] = obj({"id": I, "name": S, "email": S})
# Integration.settings of each CRM (Sources/SwitchboardCore/AmoCRM/AmoSettings.swift); a field left out takes its default.
schemas["ClickToCallSettings"] = obj({
    "callerId": {"type": "string", "description": "CORE-12: the number shown to the client when the employee has no SIP line of "
                                                  "their own (or always, with overrideCallerId); absent: the PBX chooses"},
    "overrideCallerId": B}, ["overrideCallerId"])
AMO_ACTIONS = ["contactAndDeal", "unsorted", "contactOnly", "deal", "dealAlways"]
schemas["AmoRule"] = obj({"enabled": B, "action": {"enum": AMO_ACTIONS, "description": "unknown caller: contactAndDeal, unsorted or "
                                                   "contactOnly; existing client: deal, unsorted or dealAlways"},
                          "pipelineId": I, "statusId": I}, ["enabled", "action"])
schemas["AmoDirectionSettings"] = obj({
    "answeredUnknown": ref("AmoRule"), "missedUnknown": ref("AmoRule"), "answeredKnown": ref("AmoRule"), "missedKnown": ref("AmoRule"),
    "tags": {"type": "boolean", "description": "AMO-3: the caller's number as a tag on what a call creates"},
    "taskForAnswerer": {"type": "boolean", "description": "AMO-4: a task for the employee who answered"},
    "filterNumbers": {**arr(S), "description": "AMO-7: client numbers for which nothing is created"}})
schemas["AmoSettings"] = obj({
    "incoming": ref("AmoDirectionSettings"), "outgoing": ref("AmoDirectionSettings"),
    "personalManager": {"type": "boolean", "description": "AMO-5: forward incoming callers to their contact's responsible user"},
    "defaultResponsibleUserId": {"type": "integer", "description": "AMO-6: responsible when no talker is known (required)"},
    "responsibleTalker": {"enum": ["first", "last"], "description": "CORE-8: after a transfer (default last)"},
    "clickToCall": ref("ClickToCallSettings")})
paths.update({
    "/api/v1/credentials/{id}/oauth": {"post": op("Start the OAuth connection of a CRM that connects through an OAuth application "
                                                  "(amoCRM): the address where the tenant grants access",
                                                  {**ok(obj({"authorizeURL": S})), **errs(404, 409, 422)}, params=ID, tag="CRM")},
    "/api/v1/credentials/{id}/amocrm/pipelines": {"get": op("amoCRM pipelines and stages, read live",
                                                            {**ok(arr(ref("AmoPipeline"))), **errs(404, 422, 429, 502)}, params=ID, tag="CRM")},
    "/api/v1/credentials/{id}/amocrm/users": {"get": op("amoCRM users, read live (for the employee mapping)",
                                                        {**ok(arr(ref("AmoUser"))), **errs(404, 422, 429, 502)}, params=ID, tag="CRM")},
    "/api/v1/integrations/{id}/amocrm/widget": {"get": op("What to paste into the amoCRM widget's settings, and the webhook URL for amoCRM",
                                                          {**ok(obj({"clickToCallURL": S, "widgetKey": S, "webhookURL": S})), **errs(404)},
                                                          params=ID, tag="CRM")},
    "/oauth/{crm}/callback": {"get": {"summary": "The CRM (amoCRM: /oauth/amocrm/callback) sends the tenant's browser back "
                                                 "here with the authorization code",
                                      "tags": ["CRM"], "security": [],
                                      "parameters": [{"name": "crm", "in": "path", "required": True, "schema": ref("CRMKind")}] +
                                                    [{"name": n, "in": "query", "required": n != "referer", "schema": S}
                                                     for n in ("code", "state", "referer")],
                                       "responses": {"200": {"description": "Connected", "content": {"text/html": {"schema": S}}},
                                                     "400": ERRB, "404": ERRB, "422": ERRB, "502": ERRB}}},
    "/integrations/amocrm/{id}/click-to-call": {"post": {
        "summary": "The amoCRM widget's click on a number: the PBX rings the mapped employee, then the client",
        "tags": ["CRM"], "security": [], "parameters": [{"name": "id", "in": "path", "required": True, "schema": S}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": obj(
            {"phone": S, "amo_user_id": I, "key": {"type": "string", "description": "the widget key"}}, ["phone", "amo_user_id", "key"])}}},
        "responses": {**ok(obj({"status": S, "pbxCallId": S}), "202", "Sent to the PBX"), "400": ERRB, "401": ERRB, "404": ERRB,
                      "409": ERRB, "413": ERRB, "422": ERRB, "502": ERRB}}},
    "/webhooks/amocrm/{id}/{key}": {"post": {
        "summary": "amoCRM's webhooks (contact changes): the routing cache forgets the integration's answers",
        "tags": ["CRM"], "security": [], "parameters": [{"name": n, "in": "path", "required": True, "schema": S} for n in ("id", "key")],
        "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}},
        "responses": {**ok(obj({"ok": S})), "401": ERRB, "413": ERRB}}},
})

# Bitrix24 (Sources/SwitchboardCRM/Bitrix24/): its settings, and the address its portal posts the application's
# installation and events to.
UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"]
schemas["B24Settings"] = obj({
    "telephonyMode": {"enum": ["ip", "webrtc"], "description": "B24-2 (default ip): ip, employees answer on their SIP phones and "
                      "Bitrix24 shows the caller's card while it rings (hidden when the call moves on); webrtc, they answer in the "
                      "PBX's widget inside Bitrix24, which shows the call itself, so calls are registered without a card"},
    "incoming": obj({
        "personalManager": {"type": "boolean", "description": "CORE-6: forward the caller to the responsible user of their Bitrix24 record"},
        "createEntity": {"type": "boolean", "description": "A lead (classic CRM) or a contact and a deal (simple CRM) for an unknown caller"},
        "defaultResponsible": {"type": "integer", "description": "Bitrix24 user responsible for a missed incoming call and what it "
                                                                 "created (required)"},
        "responsibleTalker": {"enum": ["first", "last"], "description": "B24-3: who becomes responsible for a new lead of an answered "
                                                                        "call that was transferred (required)"}},
        ["personalManager", "createEntity"]),
    "outgoing": obj({
        "createEntity": B,
        "defaultResponsible": {"type": "integer", "description": "Bitrix24 user responsible when the dialling employee is not mapped "
                                                                 "(required)"}}, ["createEntity"]),
    "callTracking": obj({
        "enabled": B,
        "tags": {"type": "array", "items": {"enum": UTM}, "description": "B24-5: which UTM tags go to the leads and deals calls create"},
        "byLine": {"type": "object", "description": "Virtual number → UTM tag → value (the number shown in an ad campaign)",
                   "additionalProperties": {"type": "object", "additionalProperties": S}}},
        ["enabled", "tags", "byLine"]),
    "chatMessage": {"type": "boolean", "description": "B24-5: a message about the call in the employee's Bitrix24 chat"},
    "clickToCall": ref("ClickToCallSettings")})
schemas["B24InboundError"] = obj({"error": obj({"status": I, "message": S}, ["status", "message"])}, ["error"])
B24_REFUSED = {"description": "Refused, with the reason", "content": {"application/json": {"schema": ref("B24InboundError")}}}
paths["/crm/bitrix24/{tenant}/{credential}/{key}"] = {"post": {
    "summary": "The Bitrix24 local application's handler and installation path (GET /api/v1/credentials/{id}/links): "
               "ONAPPINSTALL keeps the tokens and binds the events; ONEXTERNALCALLSTART and ONEXTERNALCALLBACKSTART place a "
               "click-to-call through the PBX; ONCRM*UPDATE makes the cached personal managers forgotten. Every event but the "
               "installation must carry the application token the installation handed over (auth[application_token])",
    "tags": ["CRM"], "security": [],
    "parameters": [{"name": n, "in": "path", "required": True, "schema": S, "description": d} for n, d in (
        ("tenant", "tenant id"), ("credential", "credential id"),
        ("key", "the key Switchboard derives for these credentials; part of the address, which is the installation's only proof"))],
    "requestBody": {"required": True, "content": FORM},
    "responses": {**ok(obj({"ok": B, "ignored": {"type": "string", "description": "an event Switchboard does not act on"},
                            "pbxCallId": {"type": "string", "description": "click-to-call: the PBX's call id, when it gave one"}},
                           ["ok"]), "200", "Done"),
                  "400": {**B24_REFUSED, "description": "An installation without tokens, or a click-to-call without a phone number"},
                  "401": {**B24_REFUSED, "description": "Unknown address, or the application token does not match"},
                  "409": {**B24_REFUSED, "description": "Click-to-call: the PBX did not place the call"},
                  "413": ERRB,
                  "422": {**B24_REFUSED, "description": "Installed on another portal than the credentials name, or the clicking "
                                                        "user is not mapped to an employee of an active integration"},
                  "503": BUSY}}}

# MoySklad (issue 13): the settings and the "Адрес провайдера телефонии" MoySklad posts click-to-call requests to.
MS_RULE = obj({"createCounterparty": B, "createOrder": B, "createTask": B})
schemas["MSSettings"] = obj({
    "personalManager": {"type": "boolean", "description": "CORE-6: forward the caller to their counterparty's owner"},
    "showInternalCalls": {"type": "boolean", "description": "MS-5 «Показывать внутренние звонки»: calls between employees are logged too"},
    "defaultResponsible": {"type": "string", "description": "CORE-7: MoySklad employee id for missed calls and unmapped employees (required)"},
    "responsibleTalker": {"enum": ["first", "last"], "description": "CORE-8: first or last talker after a transfer"},
    "incomingAnswered": MS_RULE, "incomingMissed": MS_RULE, "outgoingAnswered": MS_RULE, "outgoingMissed": MS_RULE,
    "order": obj({"state": {"type": "string", "description": "the order status by name, e.g. Новый"},
                  "organizationId": {"type": "string", "description": "the legal entity; the account's first when absent"}}),
    "taskDueMinutes": {"type": "integer", "minimum": 1, "maximum": 43200},
    "lines": {"type": "array", "items": S, "description": "CORE-11: only calls on these virtual numbers (empty: all)"},
    "ignoredNumbers": {"type": "array", "items": S, "description": "CORE-11: client numbers for which nothing is created"},
    "extraFields": {"type": "array", "items": obj({"attribute": S, "source": {"enum": ["line", "client"] + UTM}}, ["attribute", "source"]),
                    "description": "CORE-13: call attributes into the counterparty's additional fields"},
    "extraFieldsUpdateAlways": {"type": "boolean", "description": "CORE-13 «обновлять всегда»"},
    "utmByLine": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": S}},
    "clickToCall": ref("ClickToCallSettings"),
    "dealsImport": obj({"enabled": B, "credentialId": {"type": "string", "description": "the credential set (authKind password) with "
                                                                                    "MoySklad's own login and password for the import"}},
                       ["enabled"])})
paths["/crm/moysklad/{tenant}/{credential}/{key}"] = {"post": {
    "summary": "The «Адрес провайдера телефонии» of MoySklad's telephony application (GET /api/v1/credentials/{id}/links, "
               "webhookURL): a click on a number in MoySklad posts {srcNumber, destNumber, uid} signed with Lognex-Content-MD5; "
               "a signature made with the credentials' access key places the call through the PBX",
    "tags": ["CRM"], "security": [],
    "parameters": [{"name": n, "in": "path", "required": True, "schema": S, "description": d} for n, d in (
        ("tenant", "tenant id"), ("credential", "credential id"),
        ("key", "the key Switchboard derives for these credentials; part of the address"))] + [
        {"name": "Lognex-Content-MD5", "in": "header", "schema": S,
         "description": "MD5 of the access key and the request's values (the exact concatenation is UNCONFIRMED; see docs/connectors/moysklad.md)"}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": obj({"srcNumber": S, "destNumber": S, "uid": S})}}},
    "responses": {**ok(obj({"ok": B, "pbxCallId": S}, ["ok"]), "200", "Placed"),
                  "400": {**B24_REFUSED, "description": "No srcNumber or destNumber"},
                  "401": {**B24_REFUSED, "description": "Unknown address, or the signature matches none of the known ways"},
                  "409": {**B24_REFUSED, "description": "The PBX did not place the call, or the credentials have no access key"},
                  "413": ERRB,
                  "422": {**B24_REFUSED, "description": "The extension is not mapped to an employee of an active integration"},
                  "503": BUSY}}}
paths["/crm/moysklad/{tenant}/{credential}/{key}/events"] = {"post": {
    "summary": "MoySklad's webhook on counterparty changes (made when an active integration with personal-manager forwarding "
               "is saved): every instance forgets the personal managers it cached for the credentials' integrations",
    "tags": ["CRM"], "security": [],
    "parameters": [{"name": n, "in": "path", "required": True, "schema": S} for n in ("tenant", "credential", "key")] + [
        {"name": "requestId", "in": "query", "schema": S, "description": "MoySklad's delivery id, the same on re-sends"}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": obj({"auditContext": {"type": "object"},
                                                                                        "events": arr({"type": "object"})})}}},
    "responses": {**ok(obj({"ok": B, "ignored": {"type": "string", "description": "entity types Switchboard does not act on"}},
                           ["ok"]), "200", "Done"),
                  "401": {**B24_REFUSED, "description": "Unknown address"},
                  "413": ERRB, "503": BUSY}}}

paths["/crm/moysklad-deals/{tenant}/{integration}/{key}"] = {"post": {
    "summary": "MS-1: MoySklad's webhooks on customer orders (CREATE, UPDATE; made when an active integration with the deals import "
               "is saved). MoySklad signs no webhook: the per-integration key in the address is the proof. The orders named in "
               "events[].meta.href are queued for reading into Raw data → Deals",
    "tags": ["CRM"], "security": [],
    "parameters": [{"name": n, "in": "path", "required": True, "schema": S} for n in ("tenant", "integration", "key")] + [
        {"name": "requestId", "in": "query", "schema": S, "description": "MoySklad's delivery id, the same on re-sends"}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": obj({"auditContext": {"type": "object"},
                                                                                        "events": arr({"type": "object"})})}}},
    "responses": {**ok(obj({"ok": B, "orders": {"type": "integer", "description": "orders queued for reading"},
                            "ignored": {"type": "string", "description": "why nothing was queued"}}, ["ok"]), "200", "Done"),
                  "401": {**B24_REFUSED, "description": "Unknown address"},
                  "413": ERRB, "503": BUSY}}}

# Megaplan (issue 12): the settings and the web phone's commands, one address each (GET the addresses from the cabinet).
MP_KINDS = {"type": "array", "items": obj({"direction": {"enum": ["incoming", "outgoing"]}, "status": {"enum": ["answered", "missed"]}},
                                          ["direction", "status"])}
MP_RESPONSIBLE = {"type": "string", "description": "talker (the employee of the call, else the default responsible), client (the "
                                                   "client's responsible), or a Megaplan employee id"}
schemas["MPSettings"] = obj({
    "lineFilter": obj({"enabled": B, "numbers": {"type": "array", "items": S}}, ["enabled", "numbers"]),
    "defaultResponsible": {"type": "string", "description": "CORE-7: Megaplan employee id for calls no mapped employee talked on"},
    "createClient": obj({"enabled": B, "responsibleTalker": {"enum": ["first", "last"]}}, ["enabled", "responsibleTalker"]),
    "extraFields": obj({"enabled": B, "updateAlways": B,
                        "fields": {"type": "object", "additionalProperties": S,
                                   "description": "call attribute (virtualNumber, utm_*, site, campaign) → Megaplan field name"},
                        "byLine": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": S}}},
                       ["enabled", "updateAlways", "fields", "byLine"]),
    "communication": obj({"enabled": B, "kinds": MP_KINDS, "minutes": {"type": "integer", "minimum": 1, "maximum": 10080}},
                         ["enabled", "kinds", "minutes"]),
    "todo": obj({"enabled": B, "kinds": MP_KINDS, "responsible": MP_RESPONSIBLE}, ["enabled", "kinds", "responsible"]),
    "process": obj({"enabled": B, "kinds": MP_KINDS, "responsible": MP_RESPONSIBLE, "programId": S}, ["enabled", "kinds", "responsible"]),
    "personalManager": {"type": "boolean", "description": "CORE-6: forward the caller to the responsible Megaplan's callRoute names"},
    "numberFilter": {"type": "array", "items": S, "description": "CORE-11: client numbers for which no entities are created"},
    "clickToCall": ref("ClickToCallSettings")})
for command, what, fields in (("call", "click-to-call: the PBX rings the employee, then the client", {"phone": S}),
                              ("dnd", "do-not-disturb: kept for routing (a DND employee is not offered as the personal manager) "
                                      "and sent to the PBX where its API can", {"dnd": B}),
                              ("hangup", "the call card's «Завершить»: the call is ended at the PBX where its API can",
                               {"providerId": S, "callInfo": obj({"id": S})})):
    paths["/crm/megaplan/{tenant}/{credential}/{key}/" + command] = {"post": {
        "summary": f"Megaplan's web phone (the addresses: GET /api/v1/credentials/{{id}}/links), {what}. The body's shape is "
                   "UNCONFIRMED (docs/connectors/megaplan.md)",
        "tags": ["CRM"], "security": [],
        "parameters": [{"name": n, "in": "path", "required": True, "schema": S, "description": d} for n, d in (
            ("tenant", "tenant id"), ("credential", "credential id"),
            ("key", "the key Switchboard derives for these credentials; part of the address"))],
        "requestBody": {"required": True, "content": {"application/json": {"schema": obj({
            "employee": obj({"contentType": S, "id": S}), "employeeId": S, **fields})}}},
        "responses": {**ok(obj({"ok": B, "pbxCallId": S, "dnd": B, "pbx": S, "ended": B}, ["ok"]), "200", "Done"),
                      "400": {**B24_REFUSED, "description": "Not a JSON object, or a field the command needs is missing"},
                      "401": {**B24_REFUSED, "description": "Unknown address"},
                      "404": {**B24_REFUSED, "description": "Hang-up: no such call"},
                      "409": {**B24_REFUSED, "description": "No active integration uses the credentials, or the PBX did not act"},
                      "413": ERRB,
                      "422": {**B24_REFUSED, "description": "The Megaplan employee is not mapped to an employee of an active integration"},
                      "503": BUSY}}}
