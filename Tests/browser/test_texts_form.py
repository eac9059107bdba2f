"""Browser test of Switchboard's request form (issue 14): headless Chromium through selenium, like test_cabinet.py.

It starts `switchboard demo`, finds the demo's sample site through the management API, opens its sample page (the
form embedded with one script tag), fills and sends the form as a visitor would, and sees the request stored and
turned into a deal in the amoCRM sandbox. A second send of the same filled form stays one request. Screenshots go to
test-artifacts/screenshots/.
"""
import json
import time
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from test_cabinet import browser, demo, shot  # noqa: F401 (fixtures)


def api(demo, path):
    req = urllib.request.Request(demo["base"] + path, headers={"Authorization": f"Bearer {demo['token']}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def eventually(what, check, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_form_request_reaches_the_crm(demo, browser):
    sites = api(demo, "/api/v1/sites")
    assert len(sites) == 1 and sites[0]["name"] == "Демо-магазин"
    site = sites[0]
    browser.get(demo["base"] + f"/public/v1/sites/{site['key']}/preview")
    form = WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "form.switchboard-form"))[0]
    shot(browser, "texts-01-form")
    Select(form.find_element(By.NAME, "type")).select_by_visible_text("Заказ")
    form.find_element(By.NAME, "name").send_keys("Ирина Браузерова")
    form.find_element(By.NAME, "phone").send_keys("+7 903 555-12-34")
    form.find_element(By.NAME, "message").send_keys("Хочу заказать доставку")

    # Without a phone or an e-mail the form says what is missing and sends nothing.
    phone = form.find_element(By.NAME, "phone")
    saved = phone.get_attribute("value")
    phone.clear()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    status = form.find_element(By.CSS_SELECTOR, ".sbf-status")
    assert "телефон" in status.text
    phone.send_keys(saved)

    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: "Спасибо" in status.text)
    shot(browser, "texts-02-sent")

    requests = eventually("the request in the API", lambda: [
        t for t in api(demo, "/api/v1/texts?kind=request") if t.get("name") == "Ирина Браузерова"])
    assert len(requests) == 1
    r = requests[0]
    assert r["phone"] == "+79035551234" and r["requestType"] == "Заказ" and r["site"] == "Демо-магазин"
    assert r["page"].endswith("/preview")

    def lead():
        with urllib.request.urlopen(demo["sandbox"] + "/sandbox/state", timeout=10) as s:
            state = json.loads(s.read())
        return [l for l in state["leads"] if l["name"] == "Заявка с сайта Демо-магазин: Заказ"]
    leads = eventually("the deal in the amoCRM sandbox", lead)
    assert len(leads) == 1
    jobs = api(demo, f"/api/v1/jobs?callId={r['id']}")
    assert jobs and all(j["kind"].endswith(".request.received") for j in jobs)


def test_chat_from_the_widget_to_the_workspace_and_the_crm(demo, browser):
    site = api(demo, "/api/v1/sites")[0]
    browser.get(demo["base"] + f"/public/v1/sites/{site['key']}/preview")
    visitor = browser.current_window_handle
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "button.sbc-open"))[0].click()
    box = browser.find_element(By.CSS_SELECTOR, ".sbc-form input[name=text]")
    box.send_keys("Есть доставка в Тверь?")
    browser.find_element(By.CSS_SELECTOR, ".sbc-form button[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".sbc-msg.sbc-visitor")) == 1)
    # The widget listens on its chat's WebSocket (it polls only while that is not open).
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".sbc-panel[data-live=socket]"))
    browser.find_element(By.CSS_SELECTOR, ".sbc-details input[name=name]").send_keys("Пётр Браузеров")
    browser.find_element(By.CSS_SELECTOR, ".sbc-details input[name=phone]").send_keys("+7 903 777-00-22")
    browser.find_element(By.CSS_SELECTOR, ".sbc-details button[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: "Спасибо" in d.find_element(By.CSS_SELECTOR, ".sbc-details").text)
    shot(browser, "texts-03-chat-visitor")

    # The operator, in the workspace: the chat is waiting, under the visitor's name.
    browser.switch_to.new_window("tab")
    operator = browser.current_window_handle
    browser.get(demo["base"] + f"/workspace#token={demo['token']}&name=Анна")
    # The workspace is live over its WebSocket: the chats, the answer and the end below go over it.
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "live").get_attribute("data-state") == "socket")
    item = WebDriverWait(browser, 20).until(
        lambda d: [b for b in d.find_elements(By.CSS_SELECTOR, "button.chat-item") if "Пётр Браузеров" in b.text])[0]
    item.click()
    WebDriverWait(browser, 10).until(lambda d: "Есть доставка в Тверь?" in d.find_element(By.ID, "log").text)
    browser.find_element(By.ID, "text").send_keys("Да, за два дня.")
    browser.find_element(By.ID, "send").click()
    WebDriverWait(browser, 10).until(lambda d: "Да, за два дня." in d.find_element(By.ID, "log").text)
    shot(browser, "texts-04-workspace")

    # The visitor sees the answer live.
    browser.switch_to.window(visitor)
    WebDriverWait(browser, 20).until(lambda d: any("Да, за два дня." in m.text for m in d.find_elements(By.CSS_SELECTOR, ".sbc-msg.sbc-operator")))
    shot(browser, "texts-05-chat-answered")

    browser.switch_to.window(operator)
    browser.find_element(By.ID, "finish").click()
    WebDriverWait(browser, 10).until(lambda d: "завершён" in d.find_element(By.ID, "title").text)
    browser.switch_to.window(visitor)
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".sbc-finished"))

    # The transcript reaches the client's contact in the amoCRM sandbox.
    def transcript():
        with urllib.request.urlopen(demo["sandbox"] + "/sandbox/state", timeout=10) as s:
            state = json.loads(s.read())
        contact = [c for c in state["contacts"] if "+79037770022" in c["phones"]]
        return contact and [n for n in state["notes"] if n["entity_id"] == contact[0]["id"] and n["text"].startswith("Переписка")]
    notes = eventually("the transcript in the amoCRM sandbox", transcript)
    assert "Анна: Да, за два дня." in notes[0]["text"] and "Пётр Браузеров: Есть доставка в Тверь?" in notes[0]["text"]
    browser.switch_to.window(operator)
    browser.close()
    browser.switch_to.window(visitor)
