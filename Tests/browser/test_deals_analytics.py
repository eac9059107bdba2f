"""Browser test of Raw data → Deals and the analytics (issue 14's "create a deal in a sandbox and see it in Raw data,
and read the analytics charts"), as a newcomer on `switchboard demo`.

A manager creates a test deal in the demo's amoCRM sandbox (its `POST /sandbox/leads`, which posts amoCRM's
`add_lead` webhook as a real account does) and wins it; the newcomer finds the deal with its amount in «Сделки», and
the analytics page draws its charts with the won deal counted. Screenshots go to test-artifacts/screenshots/.
"""
import json
import time
import urllib.request

from selenium.webdriver.common.by import By

from test_cabinet import browser, demo, shot, sign_in  # noqa: F401 (fixtures)


def sandbox(demo, path, body):
    req = urllib.request.Request(demo["sandbox"] + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def test_a_sandbox_deal_reaches_raw_data_and_the_analytics(demo, browser):
    name = f"Тестовая сделка {int(time.time())}"
    made = sandbox(demo, "/sandbox/leads", {"name": name, "price": 125000, "phone": "+7 916 555-44-33",
                                            "contact_name": "Покупатель"})
    assert made.get("id"), made
    sandbox(demo, f"/sandbox/leads/{made['id']}/status", {"status_id": 142})

    sign_in(browser, demo)
    # The webhook is answered at once and the deal read by a job: the page shows it within seconds.
    deadline = time.time() + 60
    while True:
        browser.get(demo["base"] + "/cabinet/deals")
        if name in browser.page_source:
            break
        assert time.time() < deadline, "the sandbox's deal did not reach Raw data → Deals"
        time.sleep(1)
    shot(browser, "40-deals")
    row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "table tr") if name in r.text)
    assert "125" in row.text.replace("\u00a0", "").replace(" ", ""), row.text

    # The charts are drawn once the period has calls: the demo's simulated PBX places one every few seconds.
    deadline = time.time() + 90
    while True:
        browser.get(demo["base"] + "/cabinet/analytics")
        if browser.find_elements(By.CSS_SELECTOR, "svg[role=img]"):
            break
        assert time.time() < deadline, "the analytics drew no chart"
        time.sleep(2)
    shot(browser, "41-analytics")
    cards = " ".join(c.text for c in browser.find_elements(By.CSS_SELECTOR, ".card"))
    assert "Успешные сделки" in cards, cards
    assert browser.find_elements(By.CSS_SELECTOR, "table"), "the numbers under the charts"
