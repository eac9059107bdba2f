"""What the Megaplan and MoySklad cabinet browser tests share: a CRM sandbox, `switchboard serve` in development mode
with a fresh tenant (`switchboard tenant create`) whose PBX has employees, and the cabinet's forms."""
import json
import os
import re
import subprocess
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from test_bitrix24_cabinet import start, stop  # noqa: F401 (re-exported for the tests)
from test_cabinet import BINARY, free_port

EMAIL, PASSWORD = "boss@crm.test", "crm-browser-test"


def sandbox(crm):
    """`switchboard sandbox <crm>` on a free port: (process, base address)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    return start(["sandbox", crm, "--port", str(port)], base + "/sandbox/state"), base


def serve(data, employees):
    """A tenant in `data` with a PBX holding `employees` ((login, extension or None, name)), served in development mode
    (the sandbox lives on this machine over http): (process, base address)."""
    env = dict(os.environ, SWITCHBOARD_DEV_MODE="true", SWITCHBOARD_LOG_LEVEL="warning")
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
    for login, extension, name in employees:
        body = {"login": login, "name": name}
        if extension:
            body["extension"] = extension
        api("POST", f"pbx-connections/{pbx_id}/employees", body)
    return proc, base


def sign_in(driver, base):
    driver.get(base + "/cabinet/login")
    driver.find_element(By.ID, "email").send_keys(EMAIL)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(driver, 20).until(lambda d: "/cabinet" in d.current_url and "login" not in d.current_url)


def card_of(driver, text):
    return [c for c in driver.find_elements(By.CSS_SELECTOR, "section.card") if text in c.text][0]


def click_last_submit(driver):
    """The form's visible Save (the last submit button; a settings page may have others before it)."""
    driver.find_elements(By.CSS_SELECTOR, "form.settings button[type=submit]")[-1].click()


def add_credentials(driver, base, crm, fields):
    """Adds credentials on the CRM's tab, filling the inputs by id."""
    driver.get(base + "/cabinet/credentials")
    driver.find_element(By.CSS_SELECTOR, f"a[href='/cabinet/credentials?crm={crm}']").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "new-url"))
    for id_, value in fields.items():
        box = driver.find_element(By.ID, id_)
        box.clear()
        box.send_keys(value)
    click_last_submit(driver)
    WebDriverWait(driver, 20).until(lambda d: fields["new-name"] in d.page_source)


def connect(driver, base, crm, ready_id):
    """Connects the CRM from its integration card and waits for its settings page."""
    driver.get(base + "/cabinet")
    driver.find_element(By.XPATH, f"//section[@class='card'][.//input[@name='crm' and @value='{crm}']]//button").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, ready_id))


def in_order(html, texts):
    positions = [html.index(t) for t in texts]
    assert positions == sorted(positions), "the guide's blocks in its order"
