"""Browser test of the cabinet's «Сайты», «Заявки и чаты» and «Чаты» (issue 14), as a newcomer on `switchboard demo`.

Signed in, the newcomer sees the demo's sample site, adds a site of their own, copies its form snippet with the copy
button, sets the amoCRM integration's rules (a rule without a responsible is refused beside its field, then fixed),
and opens the operator workspace from the menu without any API token, where a chat sent from the new site waits.
Screenshots go to test-artifacts/screenshots/.
"""
import json
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from test_cabinet import browser, demo, shot, sign_in  # noqa: F401 (fixtures)
from test_texts_form import api, eventually


def post(url, body, origin):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Origin": origin})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def save_rules(browser):
    browser.find_elements(By.CSS_SELECTOR, "form.settings button[type=submit]")[-1].click()


def test_newcomer_adds_a_site_sets_rules_and_opens_the_workspace(demo, browser):
    sign_in(browser, demo)
    browser.find_element(By.LINK_TEXT, "Сайты").click()
    WebDriverWait(browser, 20).until(lambda d: "/cabinet/sites" in d.current_url)
    # The demo's sample site is there with its snippets.
    assert "Демо-магазин" in browser.find_element(By.CSS_SELECTOR, "section.card").text
    shot(browser, "sites-01-demo-site")

    # Add a site.
    browser.find_element(By.XPATH, "//summary[contains(., 'Добавить сайт')]").click()
    browser.find_element(By.ID, "new-name").send_keys("Мой сайт")
    browser.find_element(By.ID, "new-origins").send_keys("my-shop.example")
    browser.find_element(By.CSS_SELECTOR, "form[action='/cabinet/sites'] button[type=submit]").click()
    # Not an origin: said beside the field, what was typed kept.
    alert = WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "form[action='/cabinet/sites'] .error"))[0]
    assert "не адрес сайта" in alert.text
    shot(browser, "sites-02-bad-origin")
    origins = browser.find_element(By.ID, "new-origins")
    origins.clear()
    origins.send_keys("https://my-shop.example")
    browser.find_element(By.ID, "new-requestTypes").send_keys("Заказ")
    browser.find_element(By.CSS_SELECTOR, "form[action='/cabinet/sites'] button[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: "Сайт добавлен" in d.page_source)
    card = [c for c in browser.find_elements(By.CSS_SELECTOR, "section.card") if "Мой сайт" in c.text][0]
    site = [s for s in api(demo, "/api/v1/sites") if s["name"] == "Мой сайт"][0]
    assert site["origins"] == ["https://my-shop.example"]

    # Copy the form's snippet.
    browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": demo["base"],
                                                         "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    snippet = card.find_element(By.CSS_SELECTOR, "textarea.snippet").get_attribute("value")
    assert snippet == f'<script src="{demo["base"]}/public/v1/sites/{site["key"]}/form.js" async></script>'
    button = card.find_element(By.CSS_SELECTOR, "button[data-copy$='-form']")
    button.click()
    WebDriverWait(browser, 10).until(lambda d: button.text == "Скопировано")
    copied = browser.execute_async_script("navigator.clipboard.readText().then(arguments[0], function () { arguments[0](null); });")
    assert copied == snippet
    shot(browser, "sites-03-added-copied")
    with urllib.request.urlopen(f"{demo['base']}/public/v1/sites/{site['key']}/form.js", timeout=10) as r:
        assert r.status == 200

    # The amoCRM integration's rules: the demo's are on; take requests from the new site only.
    browser.find_element(By.LINK_TEXT, "Интеграции").click()
    amo = [c for c in browser.find_elements(By.CSS_SELECTOR, "section.card") if "amocrm" in c.text.lower() and c.find_elements(By.LINK_TEXT, "Заявки и чаты")][0]
    amo.find_element(By.LINK_TEXT, "Заявки и чаты").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "texts.requests.enabled"))
    assert browser.find_element(By.ID, "texts.requests.enabled").is_selected()
    shot(browser, "sites-04-rules")
    mine = browser.find_element(By.XPATH, "//fieldset[legend[contains(., 'Только заявки с сайтов')]]//label[contains(., 'Мой сайт')]//input")
    mine.click()
    responsible = Select(browser.find_element(By.ID, "texts.chats.defaultResponsible"))
    chosen = responsible.first_selected_option.text
    responsible.select_by_visible_text("—")
    save_rules(browser)
    alert = WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.XPATH, "//select[@id='texts.chats.defaultResponsible']/../following-sibling::*[1][self::span]"))[0]
    assert "ответственного за то, что создают чаты" in alert.text
    shot(browser, "sites-05-rule-refused")
    Select(browser.find_element(By.ID, "texts.chats.defaultResponsible")).select_by_visible_text(chosen)
    save_rules(browser)
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".badge.ok[role=status]"))
    integration = [i for i in api(demo, "/api/v1/integrations") if i["crm"] == "amocrm"][0]
    texts = api(demo, f"/api/v1/integrations/{integration['id']}")["settings"]["texts"]
    assert texts["requests"]["sites"] == ["Мой сайт"] and texts["chats"]["defaultResponsible"]

    # A visitor of the new site starts a chat; the newcomer opens «Чаты» from the menu and sees it waiting.
    post(f"{demo['base']}/public/v1/sites/{site['key']}/widget/chats", {"text": "Вопрос с моего сайта", "name": "Ольга Новикова"},
         "https://my-shop.example")
    cabinet = browser.current_window_handle
    browser.find_element(By.LINK_TEXT, "Чаты").click()
    WebDriverWait(browser, 10).until(lambda d: len(d.window_handles) == 2)
    browser.switch_to.window([h for h in browser.window_handles if h != cabinet][0])
    item = WebDriverWait(browser, 20).until(
        lambda d: [b for b in d.find_elements(By.CSS_SELECTOR, "button.chat-item") if "Ольга Новикова" in b.text])[0]
    assert "token" not in browser.current_url
    item.click()
    WebDriverWait(browser, 10).until(lambda d: "Вопрос с моего сайта" in d.find_element(By.ID, "log").text)
    shot(browser, "sites-06-workspace")
    browser.close()
    browser.switch_to.window(cabinet)
    eventually("the chat in the API", lambda: [c for c in api(demo, "/api/v1/chats") if c.get("name") == "Ольга Новикова"])
