"""Browser tests of the cabinet's MoySklad pages: headless Chromium through selenium, like test_cabinet.py.

They start `switchboard sandbox moysklad` (the demo account: Анна 101, Борис 102, Вера 103 in its telephony
application) and `switchboard serve` in development mode with a fresh tenant whose PBX has Анна (101) and Борис (102);
add MoySklad credentials (the access key, a login and password) in the cabinet and test them, connect the integration,
see a missing default responsible marked beside its field, save, read the saved values back, and have the sandbox
click a number in MoySklad: its signed post reaches the Webhook URL the page shows. Screenshots go to
test-artifacts/screenshots/.
"""
import json
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from crm_cabinet import add_credentials, card_of, click_last_submit, connect, in_order, sandbox, serve, sign_in, stop
from test_cabinet import browser, shot  # noqa: F401 (the browser fixture)

EMPLOYEES = (("anna", "101", "Анна Смирнова"), ("boris", "102", "Борис Иванов"))
ANNA, VERA = "2a000001-0000-11ef-0a80-000000000011", "2a000003-0000-11ef-0a80-000000000013"


@pytest.fixture(scope="module")
def moysklad():
    proc, base = sandbox("moysklad")
    yield {"base": base}
    stop(proc)


@pytest.fixture(scope="module")
def switchboard(moysklad, tmp_path_factory):
    proc, base = serve(str(tmp_path_factory.mktemp("ms-cabinet")), EMPLOYEES)
    yield {"base": base}
    stop(proc)


def click_to_call(moysklad, url):
    """The sandbox's user Анна clicks a number in MoySklad: the post, signed as MoySklad signs it, goes to `url`."""
    request = urllib.request.Request(moysklad["base"] + "/sandbox/click-to-call", method="POST",
                                     data=json.dumps({"destNumber": "+79160000001", "srcNumber": "101", "url": url}).encode(),
                                     headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(request, timeout=30).read())


def test_moysklad_credentials_and_settings(switchboard, browser, moysklad):  # noqa: F811 (the browser fixture)
    base = switchboard["base"]
    sign_in(browser, base)
    # Credentials: the form starts at MoySklad's API address; the access key and JSON API access; the Webhook URL; test.
    browser.get(base + "/cabinet/credentials?crm=moysklad")
    assert browser.find_element(By.ID, "new-url").get_attribute("value") == "https://api.moysklad.ru"
    add_credentials(browser, base, "moysklad", {"new-name": "Мой склад", "new-url": moysklad["base"], "new-token": "demo-phone-access-key",
                                                "login-new": "admin@demo", "password-new": "demo-password"})
    assert "demo-phone-access-key" not in browser.page_source and "demo-password" not in browser.page_source
    card = card_of(browser, "Мой склад")
    webhook = card.find_element(By.CSS_SELECTOR, "code[data-link=webhookURL]").text
    assert webhook.startswith(base + "/crm/moysklad/")
    assert "Адрес провайдера телефонии" in card.text
    card.find_element(By.CSS_SELECTOR, "button[value=test]").click()
    WebDriverWait(browser, 20).until(lambda d: "подключение работает" in d.page_source)
    shot(browser, "ms-01-credentials")

    # The integration card connects MoySklad and opens its settings page in the guide's blocks, with the Webhook URL.
    connect(browser, base, "moysklad", "defaultResponsible")
    html = browser.page_source
    in_order(html, ["<h2>Учетные данные", "<h2>Параметры интеграции", "<h2>Модуль телефонии в МойСклад", "Показывать внутренние звонки",
                    "<h2>Контрагенты, заказы и задачи по звонкам", "<h2>Фильтрация", "<h2>Передача дополнительных полей в контрагента",
                    "<h2>Переадресация на персонального менеджера", "<h2>Звонок в один клик из CRM", "<h2>Сопоставления сотрудников"])
    assert browser.find_element(By.ID, "webhookURL").get_attribute("value") == webhook
    shot(browser, "ms-02-settings")

    # Everything but the default responsible: Save marks it beside its field and keeps what was chosen.
    browser.find_element(By.ID, "active").click()
    browser.find_element(By.ID, "showInternalCalls").click()
    Select(browser.find_element(By.ID, "responsibleTalker")).select_by_value("last")
    browser.find_element(By.ID, "rule.incomingAnswered.createOrder").click()
    browser.find_element(By.ID, "rule.outgoingMissed.createTask").click()
    browser.find_element(By.ID, "order.state").send_keys("Новый")
    browser.find_element(By.ID, "extra.line").send_keys("attr-line")
    browser.find_element(By.ID, "personalManager").click()
    Select(browser.find_element(By.ID, f"map.{ANNA}")).select_by_visible_text("Анна Смирнова (anna, 101)")
    click_last_submit(browser)
    problem = "выберите сотрудника МойСклад, ответственного за пропущенные звонки"
    WebDriverWait(browser, 20).until(lambda d: problem in d.page_source)
    html = browser.page_source
    assert html.index('id="defaultResponsible"') < html.index(problem) < html.index('id="responsibleTalker"')
    assert browser.find_element(By.ID, "rule.outgoingMissed.createTask").is_selected()
    shot(browser, "ms-03-problem")

    Select(browser.find_element(By.ID, "defaultResponsible")).select_by_visible_text("Вера Петрова (103)")
    click_last_submit(browser)
    WebDriverWait(browser, 20).until(lambda d: "Сохранено" in d.page_source)

    # The saved values, read back from a fresh page.
    browser.get(browser.current_url)
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "defaultResponsible"))
    shot(browser, "ms-04-saved")
    assert browser.find_element(By.ID, "active").is_selected()
    assert browser.find_element(By.ID, "showInternalCalls").is_selected()
    assert Select(browser.find_element(By.ID, "defaultResponsible")).first_selected_option.get_attribute("value") == VERA
    assert Select(browser.find_element(By.ID, "responsibleTalker")).first_selected_option.get_attribute("value") == "last"
    assert browser.find_element(By.ID, "rule.incomingAnswered.createOrder").is_selected()
    assert browser.find_element(By.ID, "rule.incomingMissed.createTask").is_selected()  # the default stays
    assert browser.find_element(By.ID, "rule.outgoingMissed.createTask").is_selected()
    assert browser.find_element(By.ID, "order.state").get_attribute("value") == "Новый"
    assert browser.find_element(By.ID, "extra.line").get_attribute("value") == "attr-line"
    assert browser.find_element(By.ID, "personalManager").is_selected()
    assert Select(browser.find_element(By.ID, f"map.{ANNA}")).first_selected_option.text == "Анна Смирнова (anna, 101)"

    # MoySklad's click reaches the address the page shows: the signature is accepted and Anna is found; this PBX has
    # no API to place the call, and says so.
    answer = click_to_call(moysklad, browser.find_element(By.ID, "webhookURL").get_attribute("value"))
    assert answer["status"] == 409, answer
    assert "the call was not placed" in answer["answer"] and "no API address and key for commands" in answer["answer"], answer
