"""Browser tests of the cabinet's Megaplan pages: headless Chromium through selenium, like test_cabinet.py.

They start `switchboard sandbox megaplan` (the demo account: Анна 101, Борис 102 and Вера without an extension in its
telephony settings) and `switchboard serve` in development mode with a fresh tenant whose PBX has Анна (101), Борис
(102) and Вера; add Megaplan credentials in the cabinet and test them, connect the integration, sync the telephony
settings (the mapping filled by extension), open settings under their toggles, see a process without its scheme
marked beside the field, save and read the saved values back. Screenshots go to test-artifacts/screenshots/.
"""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from crm_cabinet import add_credentials, card_of, click_last_submit, connect, in_order, sandbox, serve, sign_in, stop
from test_cabinet import browser, shot  # noqa: F401 (the browser fixture)

EMPLOYEES = (("anna", "101", "Анна Смирнова"), ("boris", "102", "Борис Иванов"), ("vera", None, "Вера Петрова"))


@pytest.fixture(scope="module")
def megaplan():
    proc, base = sandbox("megaplan")
    yield {"base": base}
    stop(proc)


@pytest.fixture(scope="module")
def switchboard(megaplan, tmp_path_factory):
    proc, base = serve(str(tmp_path_factory.mktemp("mp-cabinet")), EMPLOYEES)
    yield {"base": base}
    stop(proc)


def test_megaplan_credentials_and_settings(switchboard, browser, megaplan):  # noqa: F811 (the browser fixture)
    base = switchboard["base"]
    sign_in(browser, base)
    # Credentials: name, login, password, domain; the web phone's addresses on the card; test.
    add_credentials(browser, base, "megaplan", {"new-name": "Мой Мегаплан", "new-url": megaplan["base"],
                                                "new-login": "admin@demo.example", "new-password": "demo-password"})
    assert "demo-password" not in browser.page_source  # secrets are write-only
    card = card_of(browser, "Мой Мегаплан")
    for command in ("call", "dnd", "hangup"):
        address = card.find_element(By.CSS_SELECTOR, f"code[data-link={command}URL]").text
        assert address.startswith(base + "/crm/megaplan/") and address.endswith("/" + command)
    assert "Режим «Не беспокоить»" in card.text
    card.find_element(By.CSS_SELECTOR, "button[value=test]").click()
    WebDriverWait(browser, 20).until(lambda d: "подключение работает: аккаунт 127.0.0.1, сотрудников: 3" in d.page_source)
    shot(browser, "mp-01-credentials")

    # The integration card connects Megaplan and opens its settings page in the guides' blocks.
    connect(browser, base, "megaplan", "defaultResponsible")
    html = browser.page_source
    in_order(html, ["<h2>Учетные данные", "<h2>Параметры интеграции", "<h2>Синхронизация данных", "<h2>Настройки фильтрации",
                    "<h2>Ответственный по умолчанию", "<h2>Обработка звонков", "<h2>Звонки по клику из CRM"])
    assert "Мой Мегаплан" in Select(browser.find_element(By.ID, "credentialId")).first_selected_option.text
    assert browser.find_element(By.CSS_SELECTOR, "code[data-link=callURL]").text.startswith(base + "/crm/megaplan/")
    shot(browser, "mp-02-settings")

    # «Синхронизировать настройки телефонии из Мегаплан»: Anna and Boris found by extension; Vera has none.
    browser.find_element(By.CSS_SELECTOR, "button[value=syncTelephony]").click()
    WebDriverWait(browser, 20).until(lambda d: "сопоставлены по внутренним номерам (2)" in d.page_source)
    assert Select(browser.find_element(By.ID, "map.1000001")).first_selected_option.text == "Анна Смирнова (anna, 101)"
    assert Select(browser.find_element(By.ID, "map.1000002")).first_selected_option.text == "Борис Иванов (boris, 102)"
    assert Select(browser.find_element(By.ID, "map.1000003")).first_selected_option.text == "—"
    shot(browser, "mp-03-synced")

    # Settings open under their toggles.
    numbers = browser.find_element(By.ID, "lineFilter.numbers")
    assert not numbers.is_displayed()
    browser.find_element(By.ID, "lineFilter.enabled").click()
    assert numbers.is_displayed()
    numbers.send_keys("+7 495 123-45-67")
    browser.find_element(By.ID, "active").click()
    Select(browser.find_element(By.ID, "defaultResponsible")).select_by_visible_text("Вера Петрова")
    Select(browser.find_element(By.ID, "createClient.responsibleTalker")).select_by_value("last")
    browser.find_element(By.ID, "communication.enabled").click()
    browser.find_element(By.ID, "communication.kind.incoming.missed").click()  # all four are on by default
    minutes = browser.find_element(By.ID, "communication.minutes")
    assert minutes.get_attribute("value") == "120"
    minutes.clear()
    minutes.send_keys("60")
    browser.find_element(By.ID, "process.enabled").click()
    Select(browser.find_element(By.ID, "process.responsible")).select_by_visible_text("Борис Иванов (102)")
    browser.find_element(By.ID, "personalManager").click()
    browser.find_element(By.ID, "clickToCall.callerId").send_keys("+74950000000")
    click_last_submit(browser)
    problem = "выберите схему процессов Мегаплан"
    WebDriverWait(browser, 20).until(lambda d: problem in d.page_source)
    html = browser.page_source
    assert html.index('id="process.programId"') < html.index(problem) < html.index("<h2>Звонки по клику из CRM")
    assert browser.find_element(By.ID, "process.programId").is_displayed()
    assert Select(browser.find_element(By.ID, "map.1000001")).first_selected_option.text == "Анна Смирнова (anna, 101)"
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", browser.find_element(By.ID, "process.programId"))
    shot(browser, "mp-04-problem")

    browser.find_element(By.ID, "process.programId").send_keys("8")
    click_last_submit(browser)
    WebDriverWait(browser, 20).until(lambda d: "Сохранено" in d.page_source)

    # The saved values, read back from a fresh page.
    browser.get(browser.current_url)
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "defaultResponsible"))
    shot(browser, "mp-05-saved")
    assert browser.find_element(By.ID, "active").is_selected()
    assert browser.find_element(By.ID, "lineFilter.enabled").is_selected()
    assert browser.find_element(By.ID, "lineFilter.numbers").get_attribute("value") == "+7 495 123-45-67"
    assert Select(browser.find_element(By.ID, "defaultResponsible")).first_selected_option.text == "Вера Петрова"
    assert Select(browser.find_element(By.ID, "createClient.responsibleTalker")).first_selected_option.get_attribute("value") == "last"
    assert browser.find_element(By.ID, "communication.enabled").is_selected()
    assert not browser.find_element(By.ID, "communication.kind.incoming.missed").is_selected()
    assert browser.find_element(By.ID, "communication.kind.outgoing.missed").is_selected()
    assert browser.find_element(By.ID, "communication.minutes").get_attribute("value") == "60"
    assert Select(browser.find_element(By.ID, "process.responsible")).first_selected_option.text == "Борис Иванов (102)"
    assert browser.find_element(By.ID, "process.programId").get_attribute("value") == "8"
    assert not browser.find_element(By.ID, "todo.responsible").is_displayed()  # the todo stays off, its settings shut
    assert browser.find_element(By.ID, "personalManager").is_selected()
    assert Select(browser.find_element(By.ID, "map.1000001")).first_selected_option.text == "Анна Смирнова (anna, 101)"
    assert Select(browser.find_element(By.ID, "map.1000002")).first_selected_option.text == "Борис Иванов (boris, 102)"

    # Guide 001's text communications (MP-10) and the deals address (MP-11), under the call settings.
    in_order(browser.page_source, ["<h2>Звонки по клику из CRM", "<h2>Текстовые коммуникации", "<h2>Передача сделок"])
    assert browser.find_element(By.CSS_SELECTOR, "code[data-link=dealsURL]").text.endswith("/deals")
    scheme = browser.find_element(By.ID, "texts.requests.process.programId")
    assert not scheme.is_displayed()
    browser.find_element(By.ID, "texts.requests.enabled").click()
    assert scheme.is_displayed()  # «Создавать процесс» is on by default
    Select(browser.find_element(By.ID, "texts.requests.defaultResponsible")).select_by_visible_text("Вера Петрова")
    browser.find_element(By.ID, "texts.chats.enabled").click()
    Select(browser.find_element(By.ID, "texts.chats.defaultResponsible")).select_by_visible_text("Анна Смирнова (101)")
    click_last_submit(browser)
    WebDriverWait(browser, 20).until(lambda d: problem in d.page_source and 'id="texts.requests.process.programId"' in d.page_source)
    html = browser.page_source
    assert html.index('id="texts.requests.process.programId"') < html.rindex(problem)
    browser.find_element(By.ID, "texts.requests.process.programId").send_keys("8")
    click_last_submit(browser)
    WebDriverWait(browser, 20).until(lambda d: "Сохранено" in d.page_source)
    browser.get(browser.current_url)
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "texts.requests.enabled"))
    assert browser.find_element(By.ID, "texts.requests.enabled").is_selected()
    assert browser.find_element(By.ID, "texts.requests.process.programId").get_attribute("value") == "8"
    assert Select(browser.find_element(By.ID, "texts.chats.defaultResponsible")).first_selected_option.text == "Анна Смирнова (101)"
    shot(browser, "mp-06-texts")
    browser.get(base + "/cabinet")
    card = browser.find_element(By.XPATH, "//section[@class='card'][.//a[contains(@href, '/cabinet/integrations/')]][contains(., 'megaplan')]")
    assert "активна" in card.text
