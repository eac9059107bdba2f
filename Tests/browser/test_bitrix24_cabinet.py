"""Browser tests of the cabinet's Bitrix24 pages: headless Chromium through selenium, like test_cabinet.py.

They start `switchboard sandbox bitrix24` (a portal with the demo's local application) and `switchboard serve` in
development mode with a fresh tenant (`switchboard tenant create`) whose PBX has three employees, add Bitrix24
credentials in the cabinet, install the application through the sandbox's ONAPPINSTALL, connect the integration from
its card, fill its settings in the guide's blocks, see a missing required responsible marked, save and read the saved
values back. Screenshots go to test-artifacts/screenshots/.
"""
import json
import os
import re
import subprocess
import time
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from test_cabinet import BINARY, browser, free_port, shot  # noqa: F401 (the browser fixture)

# The sandbox's demo application (B24SandboxSeed.demo).
CLIENT_ID = "local.66a1b2c3d4e5f6.12345678"
CLIENT_SECRET = "switchboard-demo-b24-secret"
EMAIL, PASSWORD = "boss@b24.test", "b24-browser-test"


def start(args, base, env=None):
    """Starts the binary with `args` and waits until the address `base` answers."""
    proc = subprocess.Popen([BINARY, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(base, timeout=1).read()
            return proc
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"{args[0]} did not start")
            time.sleep(0.1)


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def portal():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(["sandbox", "bitrix24", "--port", str(port)], base + "/sandbox/state")
    yield {"base": base}
    stop(proc)


@pytest.fixture(scope="module")
def switchboard(portal, tmp_path_factory):
    data = str(tmp_path_factory.mktemp("b24-cabinet"))
    # Development mode lets the portal live on this machine over http; the sandbox is the OAuth server too.
    env = dict(os.environ, SWITCHBOARD_DEV_MODE="true", SWITCHBOARD_BITRIX24_OAUTH_URL=portal["base"],
               SWITCHBOARD_LOG_LEVEL="warning")
    made = subprocess.run([BINARY, "tenant", "create", "--data-dir", data, "--name", "ООО «Ромашка»", "--email", EMAIL,
                           "--password", PASSWORD], env=env, capture_output=True, text=True, timeout=60, check=True)
    token = re.search(r"API token: (\S+)", made.stdout).group(1)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(["serve", "--data-dir", data, "--port", str(port)], base + "/healthz", env=env)

    def api(method, path, body):
        request = urllib.request.Request(base + "/api/v1/" + path, data=json.dumps(body).encode(), method=method,
                                         headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
        return json.loads(urllib.request.urlopen(request, timeout=20).read())

    pbx = api("POST", "pbx-connections", {"name": "АТС", "protocol": "itoolabs"})
    pbx_id = pbx.get("id") or pbx["connection"]["id"]
    for login, name in (("anna", "Анна Смирнова"), ("boris", "Борис Иванов"), ("vera", "Вера Петрова")):
        api("POST", f"pbx-connections/{pbx_id}/employees", {"login": login, "name": name})
    yield {"base": base}
    stop(proc)


def sign_in(driver, switchboard):
    driver.get(switchboard["base"] + "/cabinet/login")
    driver.find_element(By.ID, "email").send_keys(EMAIL)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(driver, 20).until(lambda d: "/cabinet" in d.current_url and "login" not in d.current_url)


def steer(portal, path, body):
    request = urllib.request.Request(portal["base"] + "/sandbox/" + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    return json.loads(urllib.request.urlopen(request, timeout=20).read())


def card_of(driver, text):
    return [c for c in driver.find_elements(By.CSS_SELECTOR, "section.card") if text in c.text][0]


def save(driver):
    driver.find_element(By.CSS_SELECTOR, "form.settings button[type=submit]").click()


def test_bitrix24_credentials_and_settings(switchboard, browser, portal):  # noqa: F811 (the browser fixture)
    sign_in(browser, switchboard)
    # Credentials: the Bitrix24 tab, add, the handler address, install from the portal, test.
    browser.find_element(By.LINK_TEXT, "Учетные данные").click()
    browser.find_element(By.CSS_SELECTOR, "a[href='/cabinet/credentials?crm=bitrix24']").click()
    WebDriverWait(browser, 20).until(lambda d: "Учетные данные Битрикс24" in d.page_source)
    browser.find_element(By.ID, "new-name").send_keys("Мой Битрикс24")
    browser.find_element(By.ID, "new-url").send_keys(portal["base"])
    browser.find_element(By.ID, "new-clientId").send_keys(CLIENT_ID)
    browser.find_element(By.ID, "new-clientSecret").send_keys(CLIENT_SECRET)
    save(browser)
    WebDriverWait(browser, 20).until(lambda d: "Мой Битрикс24" in d.page_source)
    assert CLIENT_SECRET not in browser.page_source  # secrets are write-only
    card = card_of(browser, "Мой Битрикс24")
    assert "Путь вашего обработчика" in card.text
    handler = card.find_element(By.CSS_SELECTOR, "code[data-link=applicationHandlerURL]").text
    assert handler.startswith(switchboard["base"] + "/crm/bitrix24/")
    assert steer(portal, "install", {"handler": handler})
    browser.refresh()
    card_of(browser, "Мой Битрикс24").find_element(By.CSS_SELECTOR, "button[value=test]").click()
    WebDriverWait(browser, 20).until(lambda d: "подключение работает: портал 127.0.0.1" in d.page_source)
    shot(browser, "b24-01-credentials")

    # The integration card connects Bitrix24 and opens its settings page.
    browser.get(switchboard["base"] + "/cabinet")
    browser.find_element(By.XPATH, "//section[@class='card'][.//input[@name='crm' and @value='bitrix24']]//button").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "incoming.defaultResponsible"))
    html = browser.page_source
    blocks = ["Учетные данные", "Параметры интеграции", "Входящие", "Исходящие", "Прочее", "Сопоставления сотрудников"]
    positions = [html.index("<h2>" + b) for b in blocks]
    assert positions == sorted(positions), "the guide's blocks in its order"
    assert html.index("Интеграция активна") < html.index("Режим телефонии") < html.index("<h2>Входящие")
    assert "Мой Битрикс24" in Select(browser.find_element(By.ID, "credentialId")).first_selected_option.text
    shot(browser, "b24-02-settings")

    # Every setting but the outgoing responsible: Save marks it, beside its field, and keeps what was typed.
    active = browser.find_element(By.ID, "active")
    assert not active.is_selected()  # off by default
    active.click()
    Select(browser.find_element(By.ID, "telephonyMode")).select_by_value("webrtc")
    browser.find_element(By.ID, "incoming.personalManager").click()
    Select(browser.find_element(By.ID, "incoming.defaultResponsible")).select_by_visible_text("Анна Смирнова (101)")
    Select(browser.find_element(By.ID, "incoming.responsibleTalker")).select_by_value("last")
    browser.find_element(By.ID, "callTracking.enabled").click()
    browser.find_element(By.ID, "callTracking.tag.utm_source").click()
    blank = [i for i in browser.find_elements(By.CSS_SELECTOR, "input[name$='.line']") if not i.get_attribute("value")][-1]
    row = blank.get_attribute("name").split(".")[1]
    blank.send_keys("+7 495 000-11-22")
    browser.find_element(By.ID, f"ct.{row}.utm_source").send_keys("yandex")
    browser.find_element(By.ID, "chatMessage").click()
    Select(browser.find_element(By.ID, "map.1")).select_by_visible_text("Анна Смирнова (anna)")
    Select(browser.find_element(By.ID, "map.2")).select_by_visible_text("Борис Иванов (boris)")
    browser.find_element(By.ID, "route.2").click()  # Boris does not take part in personal-manager forwarding
    save(browser)
    problem = "выберите пользователя Битрикс24, ответственного за исходящие звонки несопоставленных сотрудников"
    WebDriverWait(browser, 20).until(lambda d: problem in d.page_source)
    html = browser.page_source
    assert html.index('id="outgoing.defaultResponsible"') < html.index(problem) < html.index("<h2>Прочее")
    assert "ответственного за пропущенные входящие звонки" not in html
    assert browser.find_element(By.ID, f"ct.{row}.utm_source").get_attribute("value") == "yandex"
    shot(browser, "b24-03-problem")

    Select(browser.find_element(By.ID, "outgoing.defaultResponsible")).select_by_visible_text("Борис Иванов (102)")
    save(browser)
    WebDriverWait(browser, 20).until(lambda d: "Сохранено" in d.page_source)

    # The saved values, read back from a fresh page.
    browser.get(browser.current_url)
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "incoming.defaultResponsible"))
    shot(browser, "b24-04-saved")
    assert browser.find_element(By.ID, "active").is_selected()
    assert Select(browser.find_element(By.ID, "telephonyMode")).first_selected_option.get_attribute("value") == "webrtc"
    assert browser.find_element(By.ID, "incoming.personalManager").is_selected()
    assert Select(browser.find_element(By.ID, "incoming.defaultResponsible")).first_selected_option.text == "Анна Смирнова (101)"
    assert Select(browser.find_element(By.ID, "incoming.responsibleTalker")).first_selected_option.get_attribute("value") == "last"
    assert Select(browser.find_element(By.ID, "outgoing.defaultResponsible")).first_selected_option.text == "Борис Иванов (102)"
    assert browser.find_element(By.ID, "callTracking.enabled").is_selected()
    assert browser.find_element(By.ID, "callTracking.tag.utm_source").is_selected()
    assert not browser.find_element(By.ID, "callTracking.tag.utm_medium").is_selected()
    line = [i for i in browser.find_elements(By.CSS_SELECTOR, "input[name$='.line']") if i.get_attribute("value") == "74950001122"]
    assert line, "the UTM row of the virtual number"
    saved_row = line[0].get_attribute("name").split(".")[1]
    assert browser.find_element(By.ID, f"ct.{saved_row}.utm_source").get_attribute("value") == "yandex"
    assert browser.find_element(By.ID, "chatMessage").is_selected()
    assert Select(browser.find_element(By.ID, "map.1")).first_selected_option.text == "Анна Смирнова (anna)"
    assert browser.find_element(By.ID, "route.1").is_selected()
    assert Select(browser.find_element(By.ID, "map.2")).first_selected_option.text == "Борис Иванов (boris)"
    assert not browser.find_element(By.ID, "route.2").is_selected()
    browser.get(switchboard["base"] + "/cabinet")
    card = browser.find_element(By.XPATH, "//section[@class='card'][.//a[contains(@href, '/cabinet/integrations/')]][contains(., 'bitrix24')]")
    assert "активна" in card.text
