# Megaplan's deals (MP-11): the address a Megaplan application's event stream posts to. Read by openapi.py.
REFUSED = {"description": "Refused, with the reason", "content": {"application/json": {"schema": {"type": "object"}}}}
schemas = {}
paths = {
    "/crm/megaplan/{tenant}/{credential}/{key}/deals": {"post": {
        "summary": "MP-11: the «URL принимающий события» of the tenant's Megaplan application with the Deal stream ticked "
                   "(GET /api/v1/credentials/{id}/links, dealsURL). Megaplan signs no event post (none documented): the key "
                   "Switchboard derives for these credentials is part of the address. Only the deal's id is read from the post; "
                   "the deal is read from Megaplan into Raw data → Deals for every active integration on the credentials",
        "tags": ["CRM"], "security": [],
        "parameters": [{"name": n, "in": "path", "required": True, "schema": S, "description": d} for n, d in (
            ("tenant", "tenant id"), ("credential", "credential id"),
            ("key", "the key Switchboard derives for these credentials; part of the address"))],
        "requestBody": {"required": True, "content": {"application/json": {"schema": obj({
            "event": {"type": "string", "description": "on_after_create, on_after_update (on_after_drop is ignored)"},
            "data": obj({"id": {"type": ["string", "integer"]}, "contentType": S}),
            "accountInfo": obj({"integrationUuid": S, "uuid": S, "model": S})})}}},
        "responses": {**ok(obj({"ok": B, "integrations": I, "ignored": S}, ["ok"]), "200", "Queued (or ignored: another model or event)"),
                      "400": {**REFUSED, "description": "Not a JSON object, or the event names no deal"},
                      "401": {**REFUSED, "description": "Unknown address"},
                      "413": REFUSED, "503": REFUSED}}},
}
