"""Browser tests of the cabinet: headless Chromium (Debian's chromium + chromium-driver) through selenium.

They start `switchboard demo` (Switchboard, the amoCRM sandbox and a simulated PBX placing calls), sign in with
the printed credentials, configure the amoCRM integration, and find a simulated call in the journal with the
deal it created in the sandbox. Screenshots go to test-artifacts/screenshots/.
"""
import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("SWITCHBOARD_BINARY", os.path.join(ROOT, ".build", "debug", "switchboard"))
SHOTS = os.path.join(ROOT, "test-artifacts", "screenshots")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_demo(data):
    """Starts `switchboard demo` on free ports; returns (process, port, password, output lines) once all three
    servers (Switchboard, the amoCRM sandbox, the simulated PBX) answer, or None if this attempt failed."""
    port = free_port()
    while any(socket.socket().connect_ex(("127.0.0.1", p)) == 0 for p in (port + 1, port + 2)):
        port = free_port()
    proc = subprocess.Popen([BINARY, "demo", "--port", str(port), "--every", "2", "--data-dir", str(data)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, found = [], threading.Event()
    password = []

    def drain():  # keeps reading, so the demo never blocks on a full pipe
        for line in proc.stdout:
            lines.append(line)
            m = re.search(r"\(demo@switchboard\.local / (\S+)\)", line)
            if m and not password:
                password.append(m.group(1))
                found.set()
        found.set()

    threading.Thread(target=drain, daemon=True).start()
    found.wait(120)
    deadline = time.time() + 20
    while password and proc.poll() is None and time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            urllib.request.urlopen(f"http://127.0.0.1:{port + 1}/sandbox/state", timeout=2)
            return proc, port, password[0], lines
        except OSError:
            time.sleep(0.2)
    proc.kill()
    proc.wait()
    return None, port, None, lines


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    # A port found free can be taken before the demo binds it; then the demo stops, and another port is tried.
    attempts = []
    for _ in range(4):
        proc, port, password, lines = start_demo(tmp_path_factory.mktemp("demo"))
        if proc:
            break
        attempts.append(f"port {port}:\n" + "".join(lines))
    assert proc, "the demo did not start:\n" + "\n".join(attempts)
    token = re.search(r"API token:\s+(\S+)", "".join(lines))
    yield {"base": f"http://127.0.0.1:{port}", "sandbox": f"http://127.0.0.1:{port + 1}", "password": password,
           "token": token.group(1) if token else None}
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    os.makedirs(SHOTS, exist_ok=True)
    yield driver
    driver.quit()


def shot(driver, name):
    driver.save_screenshot(os.path.join(SHOTS, name + ".png"))


def sign_in(driver, demo):
    driver.get(demo["base"] + "/cabinet/login")
    shot(driver, "01-login")
    driver.find_element(By.ID, "email").send_keys("demo@switchboard.local")
    driver.find_element(By.ID, "password").send_keys(demo["password"])
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(driver, 20).until(lambda d: "/cabinet" in d.current_url and "login" not in d.current_url)


def test_wrong_password_is_refused(demo, browser):
    browser.get(demo["base"] + "/cabinet/login")
    browser.find_element(By.ID, "email").send_keys("demo@switchboard.local")
    browser.find_element(By.ID, "password").send_keys("not the password")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    alert = WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[role=alert]"))
    assert "Неверная почта или пароль" in alert[0].text


def test_add_and_test_credentials(demo, browser):
    sign_in(browser, demo)
    browser.find_element(By.LINK_TEXT, "Учетные данные").click()
    browser.find_element(By.ID, "new-name").send_keys("Моя amoCRM")
    browser.find_element(By.ID, "new-url").send_keys(demo["sandbox"].replace("http://", "http://"))
    browser.find_element(By.ID, "new-token").send_keys("demo-long-lived-token")
    browser.find_element(By.CSS_SELECTOR, "form.settings button[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: "Моя amoCRM" in d.page_source)
    assert "demo-long-lived-token" not in browser.page_source  # secrets are write-only
    card = [c for c in browser.find_elements(By.CSS_SELECTOR, "section.card") if "Моя amoCRM" in c.text][0]
    card.find_element(By.CSS_SELECTOR, "button[value=test]").click()
    WebDriverWait(browser, 20).until(lambda d: "подключение работает: аккаунт demo, пользователей: 3" in d.page_source)
    shot(browser, "02b-credentials")


def test_configure_and_find_the_call_with_its_deal(demo, browser):
    sign_in(browser, demo)
    shot(browser, "02-integrations")
    assert "активна" in browser.page_source
    browser.find_element(By.LINK_TEXT, "amoCRM").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "defaultResponsibleUserId"))
    shot(browser, "03-settings")
    # Every block of the guide is on the page, with the pipelines and users read live from the sandbox.
    for text in ("Учетные данные", "Входящие звонки", "Исходящие звонки", "Сопоставление пользователей CRM", "Прочие параметры"):
        assert text in browser.page_source
    credential = Select(browser.find_element(By.ID, "credentialId"))
    credential.select_by_visible_text([o.text for o in credential.options if o.text.startswith("Моя amoCRM")][0])
    target = Select(browser.find_element(By.ID, "incoming.answeredUnknown.target"))
    assert any("Первичный контакт" in o.text for o in target.options)
    # Configure: answered calls from unknown numbers make a contact and a deal in "Переговоры".
    Select(browser.find_element(By.ID, "incoming.answeredUnknown.action")).select_by_value("contactAndDeal")
    target.select_by_visible_text("Воронка → Переговоры")
    # Switch the integration off and save: the integrations page says so.
    active = browser.find_element(By.NAME, "active")
    if active.is_selected():
        active.click()
    browser.find_element(By.CSS_SELECTOR, "form.settings button[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: "Сохранено" in d.page_source)
    browser.get(demo["base"] + "/cabinet")
    assert "выключена" in browser.page_source
    # Then switch it on with the keyboard (Space on the focused checkbox) and save.
    browser.find_element(By.LINK_TEXT, "amoCRM").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.NAME, "active"))
    active = browser.find_element(By.NAME, "active")
    assert not active.is_selected()
    active.send_keys(Keys.SPACE)
    browser.find_element(By.CSS_SELECTOR, "form.settings button[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: "Сохранено" in d.page_source)
    shot(browser, "04-saved")
    assert browser.find_element(By.NAME, "active").is_selected()
    selected = Select(browser.find_element(By.ID, "incoming.answeredUnknown.target")).first_selected_option.text
    assert selected == "Воронка → Переговоры"

    # A simulated call lands in the journal, and its detail shows the deal made in amoCRM.
    def answered_call_with_deal(driver):
        driver.get(demo["base"] + "/cabinet/calls?result=answered")
        for link in driver.find_elements(By.CSS_SELECTOR, "table tbody tr td:first-child a"):
            href = link.get_attribute("href")
            page = urllib.request.urlopen(urllib.request.Request(href, headers={
                "Cookie": "sb_session=" + driver.get_cookie("sb_session")["value"]})).read().decode()
            if "POST /api/v4/leads/complex" in page and "выполнено" in page:
                return href
        return False

    href = WebDriverWait(browser, 60, poll_frequency=1).until(answered_call_with_deal)
    shot(browser, "05-journal")
    browser.get(href)
    shot(browser, "06-call")
    assert "POST /api/v4/leads/complex" in browser.page_source
    # Why it was done, in the page's language.
    assert re.search(r"(входящий|исходящий) принятый звонок (с нового номера|на новый номер): создать контакт и сделку",
                     browser.page_source)
    state = json.load(urllib.request.urlopen(demo["sandbox"] + "/sandbox/state"))
    assert state["leads"], "the sandbox holds the deals"
    deal_ids = re.findall(r'"id":(\d+)', browser.page_source.replace("&quot;", '"'))
    assert any(int(i) in {lead["id"] for lead in state["leads"]} for i in deal_ids)


def test_pbx_page_adds_an_employee(demo, browser):
    sign_in(browser, demo)
    browser.find_element(By.LINK_TEXT, "АТС").click()
    WebDriverWait(browser, 20).until(lambda d: "Адрес для АТС" in d.page_source)
    # Every field of every form on the page has its label.
    for field in browser.find_elements(By.CSS_SELECTOR, "main input:not([type=hidden]), main select"):
        fid = field.get_attribute("id")
        assert fid and browser.find_elements(By.CSS_SELECTOR, f"label[for='{fid}']"), fid
    card = browser.find_elements(By.CSS_SELECTOR, "section.card")[0]
    card.find_element(By.XPATH, ".//summary[contains(., 'Добавить сотрудника')]").click()
    card.find_element(By.NAME, "login").send_keys("olga")
    card.find_element(By.NAME, "employeeName").send_keys("Ольга Смирнова")
    card.find_element(By.NAME, "extension").send_keys("105")
    card.find_element(By.XPATH, ".//form[.//input[@name='login']]//button[@type='submit']").click()
    WebDriverWait(browser, 20).until(lambda d: "Ольга Смирнова" in d.page_source)
    shot(browser, "08-pbx")
    assert "Последние события" in browser.page_source


def test_english_and_keyboard(demo, browser):
    sign_in(browser, demo)
    browser.get(demo["base"] + "/cabinet/calls?lang=en")
    assert "Call journal" in browser.page_source
    shot(browser, "07-journal-en")
    # Every form field has a label.
    for field in browser.find_elements(By.CSS_SELECTOR, "form.filters input, form.filters select"):
        fid = field.get_attribute("id")
        assert browser.find_elements(By.CSS_SELECTOR, f"label[for='{fid}']"), fid
    browser.get(demo["base"] + "/cabinet/calls?lang=ru")


def test_journal_says_what_was_made_and_the_dashboard_draws_the_calls(demo, browser):
    sign_in(browser, demo)

    # The journal's "В CRM" column names what was made, linked to the record in the CRM; no bare status badges.
    def journal_with_records(driver):
        driver.get(demo["base"] + "/cabinet/calls")
        return driver.find_elements(By.CSS_SELECTOR, "table tbody td a.badge.ok")

    links = WebDriverWait(browser, 60, poll_frequency=1).until(journal_with_records)
    shot(browser, "09-journal-made")
    assert any(re.search(r"(контакт|сделка|неразобранное|лид)", a.text) for a in links)
    assert all(a.get_attribute("href").startswith("http") for a in links)
    table = browser.find_element(By.CSS_SELECTOR, "main table").text
    assert "выполнено" not in table
    assert re.search(r"\d+ (с|мин)\b", table) and not re.search(r"\d+ s\b", table)
    assert re.search(r"(Анна Смирнова|Борис Иванов|Вера Петрова)", table)

    # A call's page: the legs table has a header over every cell, its states and end reasons in words.
    answered = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "table tbody tr td:first-child a")]
    browser.get(answered[0])
    shot(browser, "10-call")
    assert "Итог в CRM" in browser.page_source
    legs = browser.find_element(By.XPATH, "//h2[.='Плечи звонка']/following-sibling::div[1]//table")
    headers = legs.find_elements(By.CSS_SELECTOR, "thead th")
    for row in legs.find_elements(By.CSS_SELECTOR, "tbody tr"):
        assert len(row.find_elements(By.TAG_NAME, "td")) == len(headers)
    assert not re.search(r"\b(ended|CANCELLED|COMPLETED)\b", legs.text)

    # The dashboard, from the navigation: 30 days of bars drawn by the server, the figures and the employees.
    browser.find_element(By.LINK_TEXT, "Дашборд звонков").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".chart svg"))
    shot(browser, "11-dashboard")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".chart svg g.day")) == 30
    assert int(browser.find_element(By.CSS_SELECTOR, "[data-figure='dash.calls']").text) > 0
    assert browser.find_elements(By.CSS_SELECTOR, ".chart svg rect")
    assert re.search(r"(Анна Смирнова|Борис Иванов|Вера Петрова)", browser.find_element(By.CSS_SELECTOR, "table.employees").text)
    # The same numbers from the management API.
    figure = int(browser.find_element(By.CSS_SELECTOR, "[data-figure='dash.calls']").text)
    api = json.load(urllib.request.urlopen(urllib.request.Request(demo["base"] + "/api/v1/analytics/calls", headers={
        "Authorization": "Bearer " + demo["token"]})))
    assert api["calls"] >= figure and len(api["days"]) == 30
