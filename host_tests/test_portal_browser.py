"""First boot in a real browser: headless Chromium on a phone-sized screen opens the portal
served by the firmware on the MicroPython unix port, is refused on wrong input (by the page,
then by the device), fills the form, saves, and the gateway comes up with the new settings
and connects to the MQTT broker typed into the form. Then what a person sees of the rest:
notes that are no errors, the VSE layout's group, two tabs on /config, a lockout."""

import base64
import json
import os
import shutil
import time

import pytest

browser_support = pytest.importorskip("browser_support")
from selenium.webdriver.common.by import By  # noqa: E402

from browser_support import (  # noqa: E402
    Mosquitto,
    choose,
    fill,
    full_page_screenshot,
    phone_browser,
    wait_until,
)
from portal_support import LanRun, PortalRun  # noqa: E402
from web_support import request  # noqa: E402

pytestmark = pytest.mark.skipif(not browser_support.available(), reason="no chromium")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCREENSHOT = os.path.join(ROOT, "docs", "portal.png")
KEY = "0F1E2D3C4B5A69788796A5B4C3D2E1F0"
AUTH = "00112233445566778899AABBCCDDEEFF"
SECRETS = ("wifi-Secret-881", KEY, AUTH, "mqtt-Secret-882", "admin-Secret-883")


@pytest.fixture
def setup(tmp_path):
    broker = Mosquitto(tmp_path)
    run = PortalRun(tmp_path)
    driver = phone_browser(str(tmp_path / "profile"))
    yield run, driver, broker
    driver.quit()
    output = run.stop()
    broker.stop()
    assert "Traceback" not in output, output


def error_text(driver, field):
    return driver.find_element(By.ID, "err-" + field).text


def fill_everything(driver, broker_port):
    choose(driver, "wifi.ssid", "Other / hidden network...")
    fill(driver, "wifi.ssid_other", "Home Net")
    fill(driver, "wifi.password", SECRETS[0])
    choose(driver, "meter", "Landis+Gyr E450 S4/S5, 9600 baud (SiL; M-Bus port)")
    fill(driver, "meter.key", KEY)
    fill(driver, "meter.auth_key", AUTH)
    fill(driver, "mqtt.host", "127.0.0.1")
    fill(driver, "mqtt.port", str(broker_port))
    fill(driver, "mqtt.user", "meter")
    fill(driver, "mqtt.password", SECRETS[3])
    fill(driver, "mqtt.prefix", "home/meter")
    fill(driver, "admin.password", SECRETS[4])


def test_first_boot_from_a_phone(setup, tmp_path):
    run, driver, broker = setup

    # The phone's connectivity probe leads to the page.
    driver.get(run.portal_url + "generate_204")
    assert driver.title == "meterlink setup"
    assert driver.current_url == run.portal_url
    width = driver.execute_script("return [document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], "the page scrolls sideways on a phone"

    # The device refuses and marks each field (a key has no pattern in the page: the
    # browser's "match the requested format" did not say what was wrong with a paste;
    # the port's range the page checks too, so its checks are switched off here).
    fill_everything(driver, broker.port)
    fill(driver, "meter.key", "12345")
    fill(driver, "mqtt.port", "70000")
    driver.execute_script("document.querySelector('form').noValidate = true")
    driver.find_element(By.ID, "save").click()
    wait_until(lambda: driver.find_elements(By.ID, "err-meter.key"), 10, what="field errors")
    assert "32 hex digits" in error_text(driver, "meter.key")
    assert "65535" in error_text(driver, "mqtt.port")
    shot = str(tmp_path / "portal.png")
    full_page_screenshot(driver, shot)
    if not os.path.exists(SCREENSHOT) or os.environ.get("METERLINK_SCREENSHOT"):
        shutil.copyfile(shot, SCREENSHOT)
    assert "wifi" not in run.stored()  # nothing saved
    page = driver.page_source
    assert not [s for s in SECRETS if s in page or s.lower() in page]

    # Correct input: saved, and the gateway starts with it.
    fill_everything(driver, broker.port)
    driver.find_element(By.ID, "save").click()
    wait_until(lambda: driver.find_elements(By.ID, "saved"), 10, what="the saved page")
    assert "Home Net" in driver.find_element(By.TAG_NAME, "main").text

    run.child.wait_for("restarting into station mode")
    stored = run.stored()
    assert stored["wifi"] == {"ssid": "Home Net", "password": SECRETS[0], "txpower": None}
    assert stored["meter"]["key"] == KEY.lower() and stored["meter"]["auth_key"] == AUTH.lower()
    assert stored["meter"]["profile"] == "e450"
    assert stored["mqtt"]["host"] == "127.0.0.1" and stored["mqtt"]["port"] == broker.port
    assert stored["mqtt"]["discovery"] is True
    assert stored["admin"]["password"] == SECRETS[4]

    def mqtt_connected():
        try:
            status, _, body = request(stored["http"]["port"], "GET", "/api/v1/status")
        except OSError:
            return None
        return json.loads(body)["mqtt"]["connected"] and body

    body = wait_until(mqtt_connected, 30, step=0.3, what="the gateway's MQTT connection")
    assert not [s for s in SECRETS if s.encode() in body or s.lower().encode() in body]

    # The dongle's address, as the phone reaches it on the home network now: the readings
    # page (it was a 404 in JSON), here before any telegram, and the JSON it links.
    driver.get("http://127.0.0.1:%d/" % stored["http"]["port"])
    wait_until(lambda: "No reading yet" in driver.find_element(By.ID, "s").text, 10,
               what=lambda: driver.find_element(By.ID, "s").text)
    assert driver.title.startswith("meterlink ")
    width = driver.execute_script("return [document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], "the gateway's page scrolls sideways on a phone"
    driver.find_element(By.LINK_TEXT, "Readings").click()
    wait_until(lambda: driver.current_url.endswith("/api/v1/readings"), 10, what="the readings")
    assert "readings" in json.loads(driver.find_element(By.TAG_NAME, "pre").text)


def style_of(driver, element_id, prop):
    return driver.execute_script(
        "return getComputedStyle(document.getElementById(arguments[0]))[arguments[1]]",
        element_id, prop)


def test_a_secret_to_type_again_is_a_note_beside_its_field_not_an_error(setup):
    run, driver, broker = setup
    driver.get(run.portal_url)
    fill_everything(driver, broker.port)
    fill(driver, "mqtt.port", "70000")  # refused by the device: the page is shown again
    driver.execute_script("document.querySelector('form').noValidate = true")
    driver.find_element(By.ID, "save").click()
    wait_until(lambda: driver.find_elements(By.ID, "err-mqtt.port"), 10, what="the refusal")

    error = driver.find_element(By.ID, "err-mqtt.port")
    note = driver.find_element(By.ID, "attn-wifi.password")
    assert error.get_attribute("class") == "err" and note.get_attribute("class") == "attn"
    assert note.text.startswith("type it again")
    red = "rgb(192, 57, 43)"
    assert style_of(driver, "err-mqtt.port", "color") == red
    assert style_of(driver, "attn-wifi.password", "color") != red
    assert style_of(driver, "attn-wifi.password", "backgroundColor") != "rgba(0, 0, 0, 0)"
    # Beside its field, and read with it by a screen reader; only the error makes it invalid.
    field = driver.find_element(By.ID, "wifi.password")
    assert field.get_attribute("aria-describedby") == "attn-wifi.password"
    assert field.get_attribute("aria-invalid") is None
    assert driver.find_element(By.ID, "mqtt.port").get_attribute("aria-invalid") == "true"
    assert driver.execute_script("return arguments[0].previousElementSibling.id", note) == "wifi.password"
    assert style_of(driver, "wifi.password", "borderTopColor") != red
    assert style_of(driver, "mqtt.port", "borderTopColor") == red


def test_the_vse_group_is_asked_for_only_with_the_vse_layout(setup):
    run, driver, broker = setup
    driver.get(run.portal_url)
    group = driver.find_element(By.ID, "mqtt.vse_group")
    assert not group.is_displayed()  # the meterlink layout: no group to ask for
    choose(driver, "mqtt.layout", "meterlink + Swiss VSE topic")
    assert group.is_displayed()
    fill_everything(driver, broker.port)
    fill(driver, "mqtt.vse_group", "haus-7")
    driver.find_element(By.ID, "save").click()
    wait_until(lambda: driver.find_elements(By.ID, "saved"), 10, what="the saved page")
    run.child.wait_for("restarting into station mode")
    assert (run.stored()["mqtt"]["layout"], run.stored()["mqtt"]["vse_group"]) == ("vse", "haus-7")


ADMIN = "admin-Secret-884"


@pytest.fixture
def lan_browser(tmp_path):
    """/config on the LAN (portal/lan.py) and a browser that sends the admin password: a
    headless Chromium shows no password dialog, so the header is set for every request."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"wifi": {"ssid": "Home Net", "password": "wifi-Secret-885"},
                                "mqtt": {"host": "broker.lan"}, "admin": {"password": ADMIN}}))
    # Chromium keeps spare connections open, each with its own request buffer: at the HTTP
    # tests' 128 kB a re-shown form (422, 409) was refused with 503 now and then, before
    # this pass's changes too.
    lan = LanRun(str(path), "160k")
    lan.path = str(path)
    driver = phone_browser(str(tmp_path / "profile"))
    yield lan, driver
    driver.quit()
    output = lan.stop()
    assert "Traceback" not in output, output


def send_password(driver, password):
    token = base64.b64encode(("admin:%s" % password).encode()).decode()
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": "Basic " + token}})


def test_a_save_from_a_second_tab_does_not_undo_the_first_unseen(lan_browser):
    lan, driver = lan_browser
    url = "http://127.0.0.1:%d/config" % lan.port
    send_password(driver, ADMIN)
    driver.get(url)
    tab_a = driver.current_window_handle
    driver.switch_to.new_window("tab")
    send_password(driver, ADMIN)
    driver.get(url)
    fill(driver, "mqtt.host", "mqtt.lan")
    driver.find_element(By.ID, "save").click()
    wait_until(lambda: driver.find_elements(By.ID, "saved"), 10, what="tab B's save")

    driver.switch_to.window(tab_a)  # still showing broker.lan
    fill(driver, "mqtt.prefix", "home/meter")
    driver.find_element(By.ID, "save").click()
    wait_until(lambda: driver.find_elements(By.ID, "notice"), 10,
               what=lambda: "tab A's refusal: " + driver.page_source[:400])
    assert "changed in another tab or by another device" in driver.find_element(By.ID, "notice").text
    assert driver.find_element(By.ID, "mqtt.host").get_attribute("value") == "mqtt.lan"
    assert driver.find_element(By.ID, "attn-mqtt.host").text == 'this tab had "broker.lan", not saved'
    assert driver.find_element(By.ID, "attn-mqtt.prefix").text == 'this tab had "home/meter", not saved'
    assert json.loads(open(lan.path).read())["mqtt"]["host"] == "mqtt.lan"

    fill(driver, "mqtt.prefix", "home/meter")  # seen, and typed again
    driver.find_element(By.ID, "save").click()
    wait_until(lambda: driver.find_elements(By.ID, "saved"), 10, what="tab A's second save")
    stored = json.loads(open(lan.path).read())
    assert (stored["mqtt"]["host"], stored["mqtt"]["prefix"]) == ("mqtt.lan", "home/meter")


def test_a_locked_out_browser_sees_a_page_that_says_to_wait(lan_browser):
    lan, driver = lan_browser
    send_password(driver, "a-wrong-guess")
    for _ in range(5):  # each a 401, which a headless browser shows as an empty page
        driver.get("http://127.0.0.1:%d/config" % lan.port)
    driver.get("http://127.0.0.1:%d/config" % lan.port)
    assert driver.find_element(By.ID, "refused").text == "Please wait"
    text = driver.find_element(By.TAG_NAME, "main").text
    assert text.startswith("Please wait\nToo many wrong passwords: wait ") and "then reload this page" in text
    assert "{" not in text  # not the JSON
    link = driver.find_element(By.LINK_TEXT, "Back to the settings")
    assert link.get_attribute("href") == "http://127.0.0.1:%d/config" % lan.port
