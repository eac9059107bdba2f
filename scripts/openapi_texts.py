# Sites, requests and chats (CORE-15): the management API's /api/v1/sites and /api/v1/texts, and the public API sites
# post to (/public/v1/sites/{siteKey}/…); read by scripts/openapi.py.
KEY = [{"name": "siteKey", "in": "path", "required": True, "schema": S, "description": "The site's public key (Site.key)"}]
UTM_KEYS = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"]
UTM_OBJ = {"type": "object", "properties": {k: S for k in UTM_KEYS}, "additionalProperties": False,
           "description": "The page's UTM tags, each at most 200 characters (flat utm_* fields are read too)."}
CORS_NOTE = ("A browser's Origin must be one of the site's origins (any when it lists none); the answer echoes it in "
             "Access-Control-Allow-Origin. Each site key has a budget (20 at once, 30 a minute): beyond it 429 with Retry-After.")
LIMITED = {"description": "Too many requests for this site key", "headers": {"Retry-After": {"schema": I}},
           "content": {"application/json": {"schema": ref("Error")}}}

schemas = {
    "Site": obj({"id": S, "name": S, "key": {"type": "string", "description": "Public: it goes into the site's HTML."},
                 "origins": arr(S), "requestTypes": arr(S), "createdAt": DT,
                 "formScript": {"type": "string", "description": "The script tag of Switchboard's request form, to paste into the site."},
                 "requestURL": {"type": "string", "description": "Where the site's own forms post requests."},
                 "chatURL": {"type": "string", "description": "Where the site's own chat posts chats."}},
                ["id", "name", "key", "origins", "requestTypes", "createdAt", "formScript", "requestURL", "chatURL"]),
    "NewSite": obj({"name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "origins": {**arr(S), "description": "Origins such as https://shop.example browsers may post from; none: any."},
                    "requestTypes": {**arr(S), "description": "The request types the site's forms send; none: any."}}, ["name"]),
    "SitePatch": obj({"name": S, "origins": arr(S), "requestTypes": arr(S)}),
    "ChatMessage": obj({"at": DT, "author": {"enum": ["visitor", "operator", "system"]}, "name": S, "text": S}, ["at", "author", "text"]),
    "TextCommunication": obj({"id": S, "tenantId": S, "siteId": S, "site": S, "kind": {"enum": ["request", "chat"]},
                              "externalId": S, "requestType": S, "channel": S, "name": S, "phone": S, "email": S, "message": S,
                              "utm": {"type": "object", "additionalProperties": S}, "page": S, "tags": arr(S),
                              "transcript": arr(ref("ChatMessage")), "state": {"enum": ["received", "open", "finished"]},
                              "createdAt": DT, "finishedAt": DT},
                             ["id", "tenantId", "siteId", "site", "kind", "utm", "tags", "transcript", "state", "createdAt"]),
    "PublicRequest": obj({
        "requestId": {"type": "string", "maxLength": 100, "description": "The form submission's own id: sent again, it is the same request."},
        "type": {"type": "string", "maxLength": 100, "description": "One of the site's request types when it lists some."},
        "name": {"type": "string", "maxLength": 200}, "phone": {"type": "string", "maxLength": 50},
        "email": {"type": "string", "maxLength": 254}, "message": {"type": "string", "maxLength": 5000},
        "page": {"type": "string", "maxLength": 2000, "description": "The http(s) address of the page the form was on."},
        "utm": UTM_OBJ, "campaign": {"type": "string", "description": "Stands for utm_campaign."},
        **{k: S for k in UTM_KEYS}}),
    "RequestAccepted": obj({"id": S, "status": {"enum": ["received"]},
                            "duplicate": {"type": "boolean", "description": "true: this requestId was received before; nothing new was made."}},
                           ["id", "status", "duplicate"]),
    "PublicChat": obj({
        "chatId": {"type": "string", "maxLength": 100, "description": "The chat's id in the site's chat; every post of one chat carries it."},
        "channel": {"type": "string", "maxLength": 50, "description": "site (default), telegram, …"},
        "name": S, "phone": S, "email": S, "page": S, "utm": UTM_OBJ, "campaign": S,
        "tags": {**arr(S), "maxItems": 20}, "finished": B,
        "messages": {**arr(obj({"text": {"type": "string", "minLength": 1, "maxLength": 5000},
                                "author": {"enum": ["visitor", "operator", "system"]}, "name": S, "at": DT}, ["text"])),
                     "maxItems": 100},
        **{k: S for k in UTM_KEYS}}, ["chatId"]),
    "VisitorChat": obj({"chatId": S, "token": {"type": "string", "description": "Only when the chat starts: the visitor's proof, sent "
                                                                   "as X-Chat-Token with every later request of this chat."},
                        "state": {"enum": ["open", "finished"]}, "messages": arr(ref("ChatMessage")),
                        "total": {"type": "integer", "description": "Messages in all: the next poll's after"}},
                       ["chatId", "state", "messages", "total"]),
    "VisitorMessage": obj({"text": {"type": "string", "maxLength": 5000}, "name": S, "phone": S, "email": S, "page": S}),
    "ChatAccepted": obj({"id": S, "status": {"enum": ["open", "finished"]}, "messages": I}, ["id", "status", "messages"]),
}

CHAT = [{"name": "chatId", "in": "path", "required": True, "schema": S},
        {"name": "X-Chat-Token", "in": "header", "required": True, "schema": S, "description": "VisitorChat.token"}]
def preflight(params=KEY): return op("CORS preflight", {"204": {"description": "Allowed"}, **errs(403, 404)}, params=params, tag="Sites", secured=False)
PREFLIGHT = preflight()
PREFLIGHT_CHAT = preflight(KEY + CHAT[:1])

paths = {
    "/api/v1/sites": {
        "get": op("The tenant's sites, with the script tag and addresses to paste into each", ok(arr(ref("Site"))), tag="Texts"),
        "post": op("Add a site: its public key, the origins its pages post from, its request types",
                   {**ok(ref("Site"), "201", "Created"), **errs(422)}, ref("NewSite"), tag="Texts")},
    "/api/v1/sites/{id}": {
        "get": op("One site", {**ok(ref("Site")), **errs(404)}, params=ID, tag="Texts"),
        "patch": op("Change a site's name, origins or request types", {**ok(ref("Site")), **errs(404, 422)}, ref("SitePatch"), ID, tag="Texts"),
        "delete": op("Delete a site (its key stops working)", {"204": {"description": "Deleted"}, **errs(404)}, params=ID, tag="Texts")},
    "/api/v1/sites/{id}/key": {
        "post": op("A new key for the site: the old one stops working at once, so its pages need the new script tags",
                   {**ok(ref("Site")), **errs(404)}, params=ID, tag="Texts")},
    "/api/v1/texts": {"get": op("Requests and chats, newest first", {**ok(arr(ref("TextCommunication"))), **errs(400)}, params=[
        {"name": "kind", "in": "query", "schema": {"enum": ["request", "chat"]}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}], tag="Texts")},
    "/api/v1/texts/{id}": {"get": op("One request or chat, with a chat's transcript; its CRM jobs are GET /api/v1/jobs?callId={id}",
                                     {**ok(ref("TextCommunication")), **errs(404)}, params=ID, tag="Texts")},
    "/public/v1/sites/{siteKey}/requests": {
        "post": {**op("A request (заявка) from the site's own form: stored, then sent to every active integration whose text "
                      "rules want it. " + CORS_NOTE,
                      {**ok(ref("RequestAccepted"), "201", "Stored"), **ok(ref("RequestAccepted"), "200", "Received before (same requestId)"),
                       **errs(403, 404, 422), "429": LIMITED}, ref("PublicRequest"), KEY, tag="Sites", secured=False)},
        "options": {**op("CORS preflight", {"204": {"description": "Allowed"}, **errs(403, 404)}, params=KEY, tag="Sites", secured=False)}},
    "/public/v1/sites/{siteKey}/chats": {
        "post": {**op("A chat from the site's own chat, by chatId: the first post starts it, later ones add messages, tags and the "
                      "visitor's details, finished: true ends it (its transcript then goes to the CRM). " + CORS_NOTE,
                      {**ok(ref("ChatAccepted"), "201", "Started"), **ok(ref("ChatAccepted"), "200", "Added to the chat"),
                       **errs(403, 404, 409, 422), "429": LIMITED}, ref("PublicChat"), KEY, tag="Sites", secured=False)},
        "options": {**op("CORS preflight", {"204": {"description": "Allowed"}, **errs(403, 404)}, params=KEY, tag="Sites", secured=False)}},
    "/public/v1/sites/{siteKey}/preview": {
        "get": op("A sample page with the site's form on it, to try the form (Switchboard's own origin may post)",
                  {"200": {"description": "The page", "content": {"text/html": {"schema": S}}}, **errs(404)},
                  params=KEY, tag="Sites", secured=False)},
    "/public/v1/sites/{siteKey}/widget/chats": {
        "post": {**op("Switchboard's chat widget: a visitor starts a chat with their first message; the answer carries the chat's token. " + CORS_NOTE,
                      {**ok(ref("VisitorChat"), "201", "Started"), **errs(403, 404, 422), "429": LIMITED},
                      ref("VisitorMessage"), KEY, tag="Sites", secured=False)},
        "options": PREFLIGHT},
    "/public/v1/sites/{siteKey}/widget/chats/{chatId}": {
        "get": op("The widget's poll: the chat's state and its messages after the first `after` (not counted against the budget)",
                  {**ok(ref("VisitorChat")), **errs(400, 403, 404)},
                  params=KEY + CHAT + [{"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}}], tag="Sites", secured=False),
        "options": PREFLIGHT_CHAT},
    "/public/v1/sites/{siteKey}/widget/chats/{chatId}/messages": {
        "post": {**op("The visitor's next message, or the name, phone and e-mail they leave",
                      {**ok(ref("VisitorChat")), **errs(403, 404, 409, 422), "429": LIMITED}, ref("VisitorMessage"), KEY + CHAT,
                      tag="Sites", secured=False)},
        "options": PREFLIGHT_CHAT},
    "/public/v1/sites/{siteKey}/chat.js": {
        "get": op("Switchboard's chat widget for the site: <script src=\".../chat.js\" async></script> (attribute data-lang)",
                  {"200": {"description": "The script", "content": {"application/javascript": {"schema": S}}},
                   "404": {"description": "Unknown site key (the script says so in the console)",
                           "content": {"application/javascript": {"schema": S}}}}, params=KEY, tag="Sites", secured=False)},
    "/workspace": {"get": op("The operator workspace: chats waiting and in progress, answered live (open with #token=<API token>&name=<operator>)",
                             {"200": {"description": "The page", "content": {"text/html": {"schema": S}}}}, tag="Texts", secured=False)},
    "/api/v1/workspace/tokens": {"post": op(
        "CORE-18: a short-lived token for the workspace embedded in a CRM's page (an iframe): it opens this tenant's chats "
        "(/api/v1/chats…) until it expires, and nothing else",
        {**ok(obj({"token": S, "expiresAt": DT, "url": {"type": "string", "description": "The workspace's address with the token"}},
                  ["token", "expiresAt", "url"]), "201", "Created"), **errs(422)},
        obj({"minutes": {"type": "integer", "minimum": 5, "maximum": 1440, "description": "How long it lives (720 by default)"}}),
        tag="Texts")},
    "/api/v1/chats": {"get": op("Chats, newest first: open (waiting or in progress) or finished. These /api/v1/chats operations also take a workspace token", {**ok(arr(ref("TextCommunication"))), **errs(400)},
                                params=[{"name": "state", "in": "query", "schema": {"enum": ["open", "finished"]}},
                                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
                                tag="Texts")},
    "/api/v1/chats/{id}/messages": {"post": op("An operator's answer", {**ok(ref("TextCommunication")), **errs(404, 409, 422)},
                                               obj({"text": {"type": "string", "minLength": 1, "maxLength": 5000}, "name": S}, ["text"]),
                                               ID, tag="Texts")},
    "/api/v1/chats/{id}/tags": {"post": op("Tags on a chat (chats whose rules trigger on a tag act now)",
                                           {**ok(ref("TextCommunication")), **errs(404, 422)}, obj({"tags": arr(S)}, ["tags"]), ID, tag="Texts")},
    "/api/v1/chats/{id}/finish": {"post": op("End a chat: its transcript goes to the client in every CRM whose rules want chats",
                                             {**ok(ref("TextCommunication")), **errs(404)}, params=ID, tag="Texts")},
    "/public/v1/sites/{siteKey}/form.js": {
        "get": op("Switchboard's request form for the site: <script src=\".../form.js\" async></script> (attributes data-target, "
                  "data-lang, data-type)",
                  {"200": {"description": "The script", "content": {"application/javascript": {"schema": S}}},
                   "404": {"description": "Unknown site key (the script says so in the console)",
                           "content": {"application/javascript": {"schema": S}}}}, params=KEY, tag="Sites", secured=False)},
}
