#!/usr/bin/env python3
"""Writes Sources/SwitchboardApp/Resources/openapi.json, the management API's OpenAPI document.
Edit this file, run it, commit both; CI checks the JSON is this script's output (--check) and validates it with
openapi-spec-validator. The test suite checks every exchange with the routes against the JSON, and every route
against its paths (Tests/SwitchboardTests/Support/ContractCheck.swift, docs/decisions/0007-api-contract.md)."""
import json, os, sys

def ref(name): return {"$ref": f"#/components/schemas/{name}"}
def arr(schema): return {"type": "array", "items": schema}
def body(schema): return {"required": True, "content": {"application/json": {"schema": schema}}}
def ok(schema, code="200", desc="OK"): return {code: {"description": desc, "content": {"application/json": {"schema": schema}}}}
ERR = {"description": "Error", "content": {"application/json": {"schema": ref("Error")}}}
def errs(*codes): return {str(c): ERR for c in codes}
ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]

def op(summary, responses, request=None, params=None, tag=None, secured=True):
    # A body that is not JSON of the right shape is answered 400, one over 1 MiB 413 (Request.decodeJSON).
    if request: responses = {**responses, **errs(400, 413)}
    o = {"summary": summary, "responses": {**responses, **errs(401)} if secured else responses}
    # Storage busy or unavailable (a pool time-out, a restarting database): nothing changed, try again (Retry-After).
    o["responses"].setdefault("503", ERR)
    if request: o["requestBody"] = body(request)
    if params: o["parameters"] = params
    if tag: o["tags"] = [tag]
    if not secured: o["security"] = []
    return o

S = {"type": "string"}; I = {"type": "integer"}; B = {"type": "boolean"}; DT = {"type": "string", "format": "date-time"}
def obj(props, required=()): return {"type": "object", "properties": props, "required": list(required)}

# A tenant's own OAuth application (a Bitrix24 local application's code and key), kept as login and password.
OWN_APP = {"clientId": {"type": "string", "description": "The tenant's own OAuth application's client id (a Bitrix24 local "
                                                         "application's code); stored as login, and wins over it."},
           "clientSecret": {"type": "string", "description": "Its client secret (the local application's key); stored as "
                                                             "password, and wins over it. Never returned."}}
SETTINGS = {"type": "object", "description": "The CRM's settings, checked by its connector when written and before the integration "
                                             "is switched on (422 with every problem): AmoSettings for amoCRM, B24Settings for "
                                             "Bitrix24. Every CRM's settings may also hold employeeSync {enabled, userIds} (CORE-14, see "
                                             "POST /api/v1/integrations/{id}/employee-sync). Returned as written."}

schemas = {
    "Error": obj({"error": obj({"message": S, "field": S,
                                "problems": {**arr(obj({"field": S, "message": S}, ["field", "message"])),
                                             "description": "Every problem of an integration's settings, each with its field."}},
                               ["message"])}, ["error"]),
    "Tenant": obj({"id": S, "name": S, "region": S, "createdAt": DT}, ["id", "name"]),
    "User": obj({"id": S, "tenantId": S, "email": S, "locale": S, "createdAt": DT}),
    "NewUser": obj({"email": S, "password": {"type": "string", "minLength": 8}, "locale": {"enum": ["ru", "en"]}}, ["email", "password"]),
    "APIToken": obj({"id": S, "name": S, "prefix": S, "createdAt": DT, "lastUsedAt": DT}),
    "CreatedToken": obj({"token": ref("APIToken"), "secret": {"type": "string", "description": "Shown once."}}),
    "CRMKind": {"enum": ["amocrm", "bitrix24", "megaplan", "moysklad"]},
    "Credential": obj({"id": S, "tenantId": S, "crm": ref("CRMKind"), "name": S, "baseURL": S,
                       "authKind": {"enum": ["oauth", "token", "password", "webhook"]},
                       "status": {"enum": ["unchecked", "ok", "failed", "reconnect"]}, "statusDetail": S,
                       "hasSecret": B, "createdAt": DT, "updatedAt": DT}),
    "NewCredential": obj({"crm": ref("CRMKind"), "name": S,
                          "baseURL": {"type": "string", "description": "With or without protocol; https required except on loopback."},
                          "authKind": {"enum": ["oauth", "token", "password", "webhook"]},
                          "login": S, "password": S, "token": S, **OWN_APP}, ["crm", "baseURL", "authKind"]),
    "CredentialPatch": obj({"name": S, "baseURL": S, "login": S, "password": S, "token": S, **OWN_APP}),
    "PBXConnection": obj({"id": S, "tenantId": S, "name": S, "protocol": {"enum": ["itoolabs", "switchboard"]},
                          "apiURL": S, "apiFlavor": {"enum": ["legacy", "v1"]}, "hasAPIKey": B,
                          "routingDeadlineMs": I, "region": S, "createdAt": DT, "updatedAt": DT}),
    "NewPBXConnection": obj({"name": S, "protocol": {"enum": ["itoolabs", "switchboard"]}, "apiURL": S, "apiKey": S,
                             "apiFlavor": {"enum": ["legacy", "v1"]},
                             "routingDeadlineMs": {"type": "integer", "minimum": 100, "maximum": 10000}, "region": S},
                            ["name", "protocol"]),
    "PBXConnectionPatch": obj({"name": S, "apiURL": S, "apiKey": S, "apiFlavor": {"enum": ["legacy", "v1"]},
                               "routingDeadlineMs": I, "region": S}),
    "PBXSetup": obj({"connection": ref("PBXConnection"), "webhookURL": S,
                     "secret": {"type": "string", "description": "ITooLabs crm_token, or the HMAC key of Switchboard's protocol."}}),
    "Employee": obj({"id": S, "tenantId": S, "pbxConnectionId": S, "login": S, "extension": S, "name": S, "email": S,
                     "directNumber": S, "hasSIP": B}),
    "NewEmployee": obj({"login": S, "extension": S, "name": S, "email": S, "directNumber": S, "hasSIP": B}, ["login"]),
    "Integration": obj({"id": S, "tenantId": S, "crm": ref("CRMKind"), "name": S, "credentialId": S, "pbxConnectionId": S,
                        "active": B, "settings": SETTINGS, "createdAt": DT, "updatedAt": DT}),
    "NewIntegration": obj({"crm": ref("CRMKind"), "name": S, "credentialId": S, "pbxConnectionId": S, "active": B,
                           "settings": SETTINGS}, ["crm"]),
    "IntegrationPatch": obj({"name": S, "credentialId": S, "pbxConnectionId": S, "active": B, "settings": SETTINGS}),
    "Mapping": obj({"crmUserId": S, "crmUserName": S, "employeeId": S, "useForRouting": B}, ["crmUserId", "crmUserName", "employeeId", "useForRouting"]),
    "Job": obj({"id": I, "tenantId": S, "partitionKey": S, "kind": S, "payload": S,
                "state": {"enum": ["queued", "running", "done", "dead"]}, "attempts": I, "maxAttempts": I, "runAt": DT,
                "leaseOwner": S, "leaseExpiresAt": DT, "lastError": S, "lastErrorPhrase": ref("Phrase"), "callId": S,
                "failures": {"type": "integer", "description": "Consecutive attempts that failed for the remote's outage."},
                "createdAt": DT, "updatedAt": DT,
                "finishedAt": DT}),
    # What a tenant reads (a note, a failure's reason) in both languages; `code` names the sentence. Rows written before
    # phrases were stored have only their English.
    "Phrase": obj({"code": S, "en": S, "ru": S}, ["code", "en", "ru"]),
    "Exchange": obj({"at": DT, "request": S, "status": I, "response": S, "note": S, "phrase": ref("Phrase")}),
    "JobAttempt": obj({"attempt": I, "worker": S, "startedAt": DT, "finishedAt": DT,
                       "outcome": {"enum": ["done", "retry", "dead", "released"]}, "detail": S, "detailPhrase": ref("Phrase"),
                       "exchanges": arr(ref("Exchange"))}),
    "JobDetail": obj({"job": ref("Job"), "attempts": arr(ref("JobAttempt"))}),
    # The call dashboard's numbers (CallAnalyticsStore): calls with a client only, internal calls left out.
    "CallAnalytics": obj({
        "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
        "calls": I, "inbound": I, "inboundAnswered": I, "outbound": I, "outboundAnswered": I,
        "answerRate": {"type": "number", "description": "Answered incoming calls among the finished incoming ones (absent without any)"},
        "missed": {"type": "integer", "description": "Incoming calls that ended unanswered (missed, busy, cancelled, …)"},
        "missedNotCalledBack": {"type": "integer", "description": "Of those, the ones with no answered call with the same client "
                                                                 "number, either direction, within 24 h after"},
        "averageWaitSec": {"type": "number", "description": "Seconds from the first ring to the answer, answered incoming calls (absent without any)"},
        "days": arr(obj({"date": {"type": "string", "format": "date"}, "total": I,
                         "byResult": {"type": "object", "additionalProperties": I,
                                      "description": "Calls by result (answered, missed, no_answer, …); results without calls are left out"}},
                        ["date", "total", "byResult"])),
        "employees": arr(obj({"login": S, "name": S, "inboundAnswered": I, "outboundAnswered": I,
                              "talkSec": I, "averageWaitSec": {"type": "number"}},
                             ["login", "name", "inboundAnswered", "outboundAnswered", "talkSec"])),
    }, ["from", "to", "calls", "inbound", "inboundAnswered", "outbound", "outboundAnswered", "missed",
        "missedNotCalledBack", "days", "employees"]),
}

T = "Tenant"
paths = {
    "/api/v1/analytics/calls": {"get": op(
        "The call dashboard: calls per day by result, answer rate, missed calls not called back within 24 h, average wait, "
        "per employee (counted for the employee who answered first). Days are Moscow days; both ends included; at most 366 days",
        {**ok(ref("CallAnalytics")), **errs(400)}, params=[
            {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "First day (default: 29 days before to)"},
            {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "Last day (default: today)"}],
        tag="Calls")},
    "/healthz": {"get": op("Liveness", ok(obj({"status": S})), tag="Operations", secured=False)},
    "/readyz": {"get": op("Readiness: storage reachable", {**ok(obj({"status": S, "storage": S})), **errs(503)}, tag="Operations", secured=False)},
    "/metrics": {"get": {"summary": "Prometheus metrics; with SWITCHBOARD_METRICS_TOKEN set, only for that bearer token",
                         "tags": ["Operations"], "security": [{}, {"bearer": []}],
                         "responses": {"200": {"description": "Text exposition format", "content": {"text/plain": {"schema": S}}},
                                       "401": {"description": "SWITCHBOARD_METRICS_TOKEN is set and the request did not bear it",
                                               "headers": {"WWW-Authenticate": {"schema": S}}}}}},
    "/api/v1/openapi.json": {"get": op("This document", ok({"type": "object"}), tag="Operations", secured=False)},
    "/api/v1/tenant": {"get": op("The tenant of the presented token", ok(ref("Tenant")), tag=T)},
    "/api/v1/tokens": {"get": op("API tokens (never their secrets)", ok(arr(ref("APIToken"))), tag=T),
                       "post": op("Create a token; its secret is shown once", ok(ref("CreatedToken"), "201", "Created"), obj({"name": S}, ["name"]), tag=T)},
    "/api/v1/tokens/{id}": {"delete": op("Revoke a token", {"204": {"description": "Deleted"}, **errs(404)}, params=ID, tag=T)},
    "/api/v1/users": {"get": op("Cabinet users", ok(arr(ref("User"))), tag=T),
                      "post": op("Add a cabinet user", {**ok(ref("User"), "201", "Created"), **errs(400, 409, 422)}, ref("NewUser"), tag=T)},
    "/api/v1/pbx-connections": {
        "get": op("PBX connections", ok(arr(ref("PBXConnection"))), tag="PBX"),
        "post": op("Add a PBX connection; returns the URL and secret to paste into the PBX",
                   {**ok(ref("PBXSetup"), "201", "Created"), **errs(400, 422)}, ref("NewPBXConnection"), tag="PBX")},
    "/api/v1/pbx-connections/{id}": {
        "get": op("One PBX connection", {**ok(ref("PBXConnection")), **errs(404)}, params=ID, tag="PBX"),
        "patch": op("Change a PBX connection", {**ok(ref("PBXConnection")), **errs(400, 404, 422)}, ref("PBXConnectionPatch"), ID, tag="PBX"),
        "delete": op("Delete a PBX connection", {"204": {"description": "Deleted"}, **errs(404)}, params=ID, tag="PBX")},
    "/api/v1/pbx-connections/{id}/setup": {"get": op("The webhook URL and secret to paste into the PBX", {**ok(ref("PBXSetup")), **errs(404)}, params=ID, tag="PBX")},
    "/api/v1/pbx-connections/{id}/employees": {
        "get": op("Employees of a PBX connection", {**ok(arr(ref("Employee"))), **errs(404)}, params=ID, tag="PBX"),
        "post": op("Add or update an employee by login", {**ok(ref("Employee"), "201", "Created"), **errs(400, 404, 422)}, ref("NewEmployee"), ID, tag="PBX")},
    "/api/v1/employees/{id}": {"delete": op("Remove an employee", {"204": {"description": "Deleted"}, **errs(404)}, params=ID, tag="PBX")},
    "/api/v1/credentials": {
        "get": op("CRM credential sets (secrets are never returned)", {**ok(arr(ref("Credential"))), **errs(400)},
                  params=[{"name": "crm", "in": "query", "schema": ref("CRMKind")}], tag="CRM"),
        "post": op("Add a credential set", {**ok(ref("Credential"), "201", "Created"), **errs(400, 422)}, ref("NewCredential"), tag="CRM")},
    "/api/v1/credentials/{id}": {
        "get": op("One credential set", {**ok(ref("Credential")), **errs(404)}, params=ID, tag="CRM"),
        "patch": op("Edit name, URL or secret", {**ok(ref("Credential")), **errs(400, 404, 422)}, ref("CredentialPatch"), ID, tag="CRM"),
        "delete": op("Delete a credential set", {"204": {"description": "Deleted"}, **errs(404)}, params=ID, tag="CRM")},
    "/api/v1/integrations": {
        "get": op("Integrations", ok(arr(ref("Integration"))), tag="CRM"),
        "post": op("Add an integration (inactive unless said otherwise)", {**ok(ref("Integration"), "201", "Created"), **errs(400, 422)}, ref("NewIntegration"), tag="CRM")},
    "/api/v1/integrations/{id}": {
        "get": op("One integration", {**ok(ref("Integration")), **errs(404)}, params=ID, tag="CRM"),
        "patch": op("Change an integration: switch, settings, credentials", {**ok(ref("Integration")), **errs(400, 404, 422)}, ref("IntegrationPatch"), ID, tag="CRM"),
        "delete": op("Delete an integration", {"204": {"description": "Deleted"}, **errs(404)}, params=ID, tag="CRM")},
    "/api/v1/integrations/{id}/mappings": {
        "get": op("Employee mappings (CRM user ↔ PBX employee)", {**ok(arr(ref("Mapping"))), **errs(404)}, params=ID, tag="CRM"),
        "put": op("Replace the employee mappings", {**ok(arr(ref("Mapping"))), **errs(400, 404, 422)}, arr(ref("Mapping")), ID, tag="CRM")},
    "/api/v1/jobs": {"get": op("Delivery jobs, newest first", {**ok(arr(ref("Job"))), **errs(400)}, params=[
        {"name": "state", "in": "query", "schema": {"enum": ["queued", "running", "done", "dead"]}},
        {"name": "callId", "in": "query", "schema": S},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}], tag="Delivery")},
    "/api/v1/jobs/{id}": {"get": op("A job with every attempt and its requests and answers", {**ok(ref("JobDetail")), **errs(404)}, params=ID, tag="Delivery")},
    "/api/v1/jobs/{id}/replay": {"post": op("Put a dead job back in the queue", {**ok(ref("Job")), **errs(404, 409)}, params=ID, tag="Delivery")},
}

for part in ("openapi_paths.py", "openapi_texts.py", "openapi_deals.py", "openapi_megaplan.py"):
    extra = os.path.join(os.path.dirname(__file__), part)
    if os.path.exists(extra):
        ns = {"ref": ref, "arr": arr, "obj": obj, "ok": ok, "errs": errs, "S": S, "I": I, "B": B, "DT": DT, "op": op, "ID": ID}
        exec(open(extra).read(), ns)
        paths.update(ns["paths"]); schemas.update(ns["schemas"])

doc = {
    "openapi": "3.1.0",
    "info": {"title": "Switchboard management API", "version": "1.0.0",
             "description": "Everything the cabinet does, as JSON. Authenticate with `Authorization: Bearer <API token>`; "
                            "every request sees only the token's tenant."},
    "servers": [{"url": "http://127.0.0.1:8080"}],
    "security": [{"bearer": []}],
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": schemas},
    "paths": paths,
}
out = os.path.join(os.path.dirname(__file__), "..", "Sources", "SwitchboardApp", "Resources", "openapi.json")
text = json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
if "--check" in sys.argv[1:]:
    # CI: the served document is this script's output, never edited by hand.
    with open(out) as f:
        if f.read() != text:
            sys.exit(f"{os.path.normpath(out)} is not what scripts/openapi.py writes: edit the script, run it, commit both")
    print("up to date:", os.path.normpath(out))
else:
    with open(out, "w") as f:
        f.write(text)
    print("wrote", os.path.normpath(out))
