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

# amoCRM endpoints.
schemas["AmoPipeline"] = obj({"id": I, "name": S, "isMain": B, "statuses": arr(obj({"id": I, "name": S, "type": I}))})
schemas["AmoUser"] = obj({"id": I, "name": S, "email": S})
schemas["CheckResult"] = obj({"ok": B, "message": S}, ["ok", "message"])
paths.update({
    "/api/v1/credentials/{id}/test": {"post": op("Test the connection: \"connection works, account X, N users\", or why not",
                                                 {**ok(ref("CheckResult")), **errs(404),
                                                  "422": {"description": "The check failed (ok false, with the reason), or these are not amoCRM credentials",
                                                          "content": {"application/json": {"schema": {"oneOf": [ref("CheckResult"), ref("Error")]}}}}},
                                                 params=ID, tag="CRM")},
    "/api/v1/credentials/{id}/oauth": {"post": op("Start amoCRM OAuth: the address where the tenant grants access",
                                                  {**ok(obj({"authorizeURL": S})), **errs(404, 409, 422)}, params=ID, tag="CRM")},
    "/api/v1/credentials/{id}/amocrm/pipelines": {"get": op("amoCRM pipelines and stages, read live",
                                                            {**ok(arr(ref("AmoPipeline"))), **errs(404, 422, 502)}, params=ID, tag="CRM")},
    "/api/v1/credentials/{id}/amocrm/users": {"get": op("amoCRM users, read live (for the employee mapping)",
                                                        {**ok(arr(ref("AmoUser"))), **errs(404, 422, 502)}, params=ID, tag="CRM")},
    "/api/v1/integrations/{id}/amocrm/widget": {"get": op("What to paste into the amoCRM widget's settings, and the webhook URL for amoCRM",
                                                          {**ok(obj({"clickToCallURL": S, "widgetKey": S, "webhookURL": S})), **errs(404)},
                                                          params=ID, tag="CRM")},
    "/oauth/amocrm/callback": {"get": {"summary": "amoCRM sends the tenant's browser back here with the authorization code",
                                       "tags": ["CRM"], "security": [],
                                       "parameters": [{"name": n, "in": "query", "required": n != "referer", "schema": S}
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
