"""The Bitrix24 sandbox, driven by Bitrix24's official Python SDK (b24pysdk).

Starts `switchboard sandbox bitrix24` (the debug build, .build/debug/switchboard) on a free port and lets the SDK
authenticate, refresh its token, call CRM, user and telephony methods, page lists through batch and parse every
answer. The SDK builds `https://<portal domain>/rest/<method>.json` and talks to the OAuth server at the fixed
`https://oauth.bitrix24.tech`; a transport hook in this file sends those two hosts to the sandbox over http, so every
SDK code path above the socket (URL building, auth injection, response parsing, retries, token refresh) runs as
shipped.
"""

import http.server
import json
import os
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import requests

import b24pysdk
from b24pysdk import BitrixApp, BitrixToken, Client
from b24pysdk.credentials.oauth_event_data import OAuthEventData
from b24pysdk.errors import BitrixAPIInvalidToken, BitrixAPIQueryLimitExceeded
from b24pysdk.errors.oauth import BitrixOAuthInvalidGrant

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / ".build" / "debug" / "switchboard"
PORTAL = "switchboard-sandbox.bitrix24.ru"
OAUTH_SERVER = "oauth.bitrix24.tech"
CLIENT_ID = "local.66a1b2c3d4e5f6.12345678"
CLIENT_SECRET = "switchboard-demo-b24-secret"
APPLICATION_TOKEN = "7a1c4e9b2d5f8a3c6e9b2d5f8a1c4e7b"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sandbox:
    def __init__(self, *extra):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([str(BINARY), "sandbox", "bitrix24", "--port", str(self.port), *extra],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base + "/sandbox/state", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the Bitrix24 sandbox did not start")

    def steer(self, path, body=None):
        request = urllib.request.Request(self.base + "/sandbox/" + path, data=json.dumps(body or {}).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        return json.loads(urllib.request.urlopen(request, timeout=10).read())

    def state(self):
        return json.loads(urllib.request.urlopen(self.base + "/sandbox/state", timeout=10).read())

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module")
def route(request):
    """Sends the SDK's portal and OAuth-server hosts to whichever sandbox the test names in `route.base`."""
    original = requests.Session.request
    target = {"base": None}

    def rewrite(self, method, url, *args, **kwargs):
        if target["base"]:
            for prefix, replacement in ((f"https://{PORTAL}/", target["base"] + "/"),
                                        (f"https://{OAUTH_SERVER}/oauth/", target["base"] + "/oauth/"),
                                        (f"https://{OAUTH_SERVER}/rest/", target["base"] + "/oauth/rest/")):
                if url.startswith(prefix):
                    url = replacement + url[len(prefix):]
                    break
        return original(self, method, url, *args, **kwargs)

    requests.Session.request = rewrite
    yield target
    requests.Session.request = original


@pytest.fixture(scope="module")
def sandbox(route):
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is missing: run `swift build` first")
    s = Sandbox()
    route["base"] = s.base
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def point_at(sandbox, route):
    route["base"] = sandbox.base


def connect(sandbox):
    """The application's first tokens: an authorization code exchanged at the OAuth server."""
    app = BitrixApp(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    oauth = app.get_oauth_token(sandbox.steer("code")["code"])
    token = BitrixToken(domain=PORTAL, auth_token=oauth.oauth_token.access_token, refresh_token=oauth.oauth_token.refresh_token,
                        expires=oauth.oauth_token.expires, expires_in=oauth.oauth_token.expires_in, bitrix_app=app)
    return app, oauth, token


def test_oauth_code_and_single_use_refresh(sandbox):
    app, oauth, token = connect(sandbox)
    assert oauth.member_id and oauth.status.value == "L" and oauth.user_id == 1
    assert oauth.client_endpoint.endswith("/rest/") and oauth.server_endpoint.endswith("/oauth/rest/")
    assert "telephony" in oauth.scope and oauth.oauth_token.expires_in == 3600
    old_refresh = token.refresh_token
    token.refresh_and_set_oauth_token()
    assert token.refresh_token != old_refresh and token.auth_token != oauth.oauth_token.access_token
    with pytest.raises(BitrixOAuthInvalidGrant):
        app.refresh_oauth_token(old_refresh)
    info = token.get_app_info()
    assert info.result.install.member_id == oauth.member_id and info.result.client_id == CLIENT_ID


def test_crm_methods_and_duplicates(sandbox):
    _, _, token = connect(sandbox)
    client = Client(token)
    contact_id = client.crm.contact.add(fields={"NAME": "Иван", "PHONE": [{"VALUE": "+7 (999) 765-43-21", "VALUE_TYPE": "WORK"}]}).result
    assert isinstance(contact_id, int)
    contact = client.crm.contact.get(bitrix_id=contact_id).result
    assert contact["NAME"] == "Иван" and contact["PHONE"][0]["VALUE_TYPE"] == "WORK"
    deal_id = client.crm.deal.add(fields={"TITLE": "Звонок", "CONTACT_ID": contact_id, "UTM_SOURCE": "yandex"}).result
    assert client.crm.deal.update(bitrix_id=deal_id, fields={"STAGE_ID": "EXECUTING"}).result is True
    deals = client.crm.deal.list(filter={"CONTACT_ID": contact_id}, select=["ID", "STAGE_ID"]).result
    assert [d["STAGE_ID"] for d in deals] == ["EXECUTING"]
    lead_id = client.crm.lead.add(fields={"TITLE": "Лид", "UTM_CAMPAIGN": "spring"}).result
    assert client.crm.lead.get(bitrix_id=lead_id).result["UTM_CAMPAIGN"] == "spring"
    found = client.crm.duplicate.findbycomm(type="PHONE", values=["89997654321", "+7 916 555-12-34"]).value
    assert sorted(found.contact_ids) == [11, contact_id]
    assert token.call_method("crm.settings.mode.get")["result"] == 1


def test_batch_and_user_get_paging(sandbox):
    _, _, token = connect(sandbox)
    batch = token.call_batch({"me": ("user.current", {}), "deal": ("crm.deal.get", {"id": 41}),
                              "missing": ("crm.deal.get", {"id": 999})})
    result = batch["result"]
    assert result["result"]["me"]["ID"] == "1" and result["result"]["deal"]["TITLE"] == "Поставка"
    assert result["result_error"]["missing"]["error_description"] == "Not found"
    users = token.call_list("user.get", {"FILTER": {"ACTIVE": True}})["result"]
    assert len(users) == 55 and len({u["ID"] for u in users}) == 55
    everyone = Client(token).user.get().as_list().result
    assert len(everyone) == 56
    inner = token.call_method("user.get", {"FILTER": {"UF_PHONE_INNER": "103"}})["result"]
    assert [u["ID"] for u in inner] == ["3"]


def test_external_call_register_show_finish_record(sandbox):
    _, _, token = connect(sandbox)
    calls = Client(token).telephony.external_call
    line = Client(token).telephony.external_line.add(number="74950000001", name="Офис").result
    assert isinstance(line["ID"], int)
    registered = calls.register(phone_number="+79165551234", call_type=2, user_phone_inner="102", crm_create=1, show=1,
                                line_number="74950000001", call_start_date="2026-03-07T10:20:30+03:00",
                                external_call_id="sdk-1").result
    assert registered["CRM_ENTITY_TYPE"] == "CONTACT" and registered["CRM_ENTITY_ID"] == 11
    call_id = registered["CALL_ID"]
    assert calls.show(call_id, user_id=[1, 3]).result is True
    assert calls.hide(call_id, user_id=3).result is True
    finished = calls.finish(call_id, user_id=2, duration=42, status_code="200", add_to_chat=1, vote=5).result
    assert finished["CALL_STATUS"] == 1 and finished["CALL_DURATION"] == 42 and finished["CRM_ACTIVITY_ID"]
    attached = calls.attach_record(call_id, filename="call.mp3", record_url="https://pbx.example/call.mp3").result
    assert attached["FILE_ID"]
    fresh = calls.register(phone_number="+79035550000", call_type=2, user_id=3, crm_create=1, crm_source="CALL").result
    assert fresh["CRM_CREATED_LEAD"] and fresh["CRM_ENTITY_TYPE"] == "LEAD"
    missed = calls.finish(fresh["CALL_ID"], user_id=1).result
    assert missed["CALL_FAILED_CODE"] == "304" and missed["CALL_STATUS"] == 0
    managers = calls.search_crm_entities(phone_number="8 916 555 12 34").result
    assert managers[0]["ASSIGNED_BY"]["USER_PHONE_INNER"] == "102"


def test_expired_token_is_refreshed_by_the_sdk(sandbox):
    _, _, token = connect(sandbox)
    before = (token.auth_token, token.refresh_token)
    sandbox.steer("expire-tokens")
    profile = token.call_method("profile")["result"]
    assert profile["ID"] == "1"
    assert token.auth_token != before[0] and token.refresh_token != before[1]
    sandbox.steer("revoke-tokens")
    with pytest.raises(BitrixAPIInvalidToken):
        token.call_method("profile")


def test_click_to_call_event_parses(sandbox):
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            received.append(dict(urllib.parse.parse_qsl(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _, _, token = connect(sandbox)
        hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
        assert token.call_method("event.bind", {"event": "ONEXTERNALCALLSTART", "handler": hook})["result"] is True
        started = sandbox.steer("click-to-call", {"user_id": 2, "phone": "+79165551234", "line_number": "74950000001"})
        event = OAuthEventData.from_dict(received[-1])
        assert event.event == "ONEXTERNALCALLSTART" and event.auth.application_token == APPLICATION_TOKEN
        assert event.data["CALL_ID"] == started["CALL_ID"] and event.data["USER_ID"] == "2"
        assert event.auth.oauth_token.access_token
    finally:
        server.shutdown()


def test_query_limit_exceeded(route):
    limited = Sandbox("--burst", "3", "--drain", "0.001")
    route["base"] = limited.base
    try:
        _, _, token = connect(limited)
        for _ in range(3):
            token.call_method("profile")
        with pytest.raises(BitrixAPIQueryLimitExceeded):
            token.call_method("profile", max_retries=1)
        assert limited.state()["rejected_query_limit"] == 1
    finally:
        limited.stop()
