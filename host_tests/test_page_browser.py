"""The dongle's page (GET /, app/page.py) in a real browser: headless Chromium on a phone-sized
screen opens the gateway's address while the simulated meter pushes, and reads the table the
page draws from /api/v1/readings and /api/v1/status. The names it writes are the ones Home
Assistant shows (app/discovery.py): the page's own copy of that rule is run against the
Python one over every code the corpus decodes to and a grid of codes besides."""

import json
import os
import shutil

import pytest

browser_support = pytest.importorskip("browser_support")
from selenium.webdriver.common.by import By  # noqa: E402

import simulate  # noqa: E402
from app.discovery import friendly_name  # noqa: E402
from browser_support import full_page_screenshot, phone_browser, wait_until  # noqa: E402
from gateway_support import Gateway, free_port  # noqa: E402

pytestmark = pytest.mark.skipif(not browser_support.available(), reason="no chromium")

DEVICE = "kitchen-dongle"
SCREENSHOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "home.png")
# [name, value, code] of each row: the code is set under the name, small, for a phone's width.
ROWS = ("return [...document.querySelectorAll('#t tr')].slice(1).map(r => [r.cells[0].firstChild.textContent, "
        "r.cells[1].textContent, r.cells[0].lastChild.textContent])")


@pytest.fixture
def page(tmp_path):
    sim = simulate.Simulator(0, "hdlc", interval=0.2, minute_every=2).start()
    cfg = {"meter": {"source": "tcp://127.0.0.1:%d" % sim.port, "key": simulate.DEFAULT_KEY,
                     "auth_key": simulate.DEFAULT_AUTH_KEY},
           "mqtt": {"host": ""}, "http": {"port": free_port()}, "device_id": DEVICE}
    gw = Gateway(tmp_path, cfg, "256k").start()
    driver = phone_browser(str(tmp_path / "profile"))
    yield sim, gw, driver
    driver.quit()
    gw.stop()
    sim.stop()
    assert "Traceback" not in gw.log(), gw.log()


def address(gw):
    """The dongle's address, as a person types it into the browser."""
    return "http://127.0.0.1:%d/" % gw.cfg["http"]["port"]


def obis_order(code):
    # The order the page sorts by: numbers of the code, numerically; anything else after.
    parts = code.lstrip("#").replace("-", ".").replace(":", ".").replace("/", ".").split(".")
    return (0, [int(p) for p in parts]) if all(p.isdigit() for p in parts) else (1, code)


def shown(reading):
    value = reading.get("value")
    if value is None:
        return ""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return "%s %s" % (value, reading["unit"]) if reading.get("unit") else str(value)


def test_the_page_shows_each_reading_with_its_name_value_and_code_in_obis_order(page, tmp_path):
    sim, gw, driver = page
    wait_until(lambda: gw.status()["telegrams"] >= 4, 30, what=lambda: gw.log())
    sim.stop()  # values hold still from here: the table and the JSON must agree exactly
    driver.get(address(gw))
    rows = wait_until(lambda: driver.execute_script(ROWS), 15, what=lambda: driver.page_source[:600])
    snapshot = json.loads(gw.http("/api/v1/readings")[2])
    codes = sorted(snapshot["readings"], key=obis_order)
    assert [r[2] for r in rows] == codes
    assert [r[0] for r in rows] == [friendly_name(c) for c in codes]
    assert [r[1] for r in rows] == [shown(snapshot["readings"][c]) for c in codes]
    assert rows[codes.index("1-0:32.7.0")][:2] == ["Voltage L1", "%s V" % snapshot["readings"]["1-0:32.7.0"]["value"]]
    assert driver.title == "meterlink " + DEVICE
    status = gw.status()
    line = driver.find_element(By.ID, "s").text
    assert line.startswith("Meter time %s. %d telegrams decoded, 0 errors." % (snapshot["meter_time"], status["telegrams"]))
    width = driver.execute_script("return [document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], "the page scrolls sideways on a phone"
    if not os.path.exists(SCREENSHOT) or os.environ.get("METERLINK_SCREENSHOT"):
        shot = str(tmp_path / "home.png")
        full_page_screenshot(driver, shot)
        shutil.copyfile(shot, SCREENSHOT)


def test_a_dongle_that_stops_answering_is_said_on_the_page_and_the_table_stays(page):
    sim, gw, driver = page
    wait_until(lambda: gw.status()["telegrams"] >= 1, 30, what=lambda: gw.log())
    driver.get(address(gw))
    rows = wait_until(lambda: driver.execute_script(ROWS), 15, what=lambda: driver.page_source[:600])
    gw.stop()
    driver.execute_script("load()")  # what the 10 s timer calls
    wait_until(lambda: "Could not load the readings" in driver.find_element(By.ID, "s").text, 10,
               what=lambda: driver.find_element(By.ID, "s").text)
    assert driver.execute_script(ROWS) == rows


def test_odd_values_and_a_status_without_its_fields_are_drawn_not_thrown(page):
    # The decoder sends lists (a DSMR history); a value of another shape, or a status
    # that lacks a field, must not stop the table half drawn (found by a review).
    sim, gw, driver = page
    driver.get(address(gw))
    readings = {"1-0:99.97.0": {"value": [1, [2, "x"], None]}, "0-0:96.13.0": {"value": {"a": 1}},
                "0-0:96.3.10": {"value": True}, "1-0:1.8.0": {"value": 5, "unit": "Wh"}, "#2": {"value": None}}
    driver.execute_script("draw({readings: arguments[0]}, {})", readings)
    rows = driver.execute_script(ROWS)
    assert rows == [["0-0:96.3.10", "true", "0-0:96.3.10"], ["Message", '{"a":1}', "0-0:96.13.0"],
                    ["Energy import", "5 Wh", "1-0:1.8.0"], ["1-0:99.97.0", '1, [2,"x"], null', "1-0:99.97.0"],
                    ["#2", "", "#2"]]
    assert driver.find_element(By.ID, "s").text.startswith("Meter time not sent. 0 telegrams decoded, 0 errors.")


@pytest.mark.parametrize("cid", ["xx-lgz-uh50-heat-readout-several-sets-per-line", "de-lgz-zmr120-readout-letter-codes"])
def test_a_readouts_names_are_the_ones_home_assistant_shows(page, cid):
    # A heat meter's readout (a Landis+Gyr UH50's) is named by its codes in Home Assistant,
    # where its 6.8 in GJ was "Energy reactive Q2"; an electricity meter's by its quantities.
    from app import discovery
    from decoder import dsmr
    from test_gateway_units import capture_text

    sim, gw, driver = page
    driver.get(address(gw))
    wait_until(lambda: driver.execute_script(ROWS), 15, what=lambda: driver.page_source[:600])
    readings = dsmr.parse(capture_text(cid))[0]
    doc = {code: {"value": value, "unit": unit} for code, (value, unit) in readings.items()}
    driver.execute_script("draw({readings: arguments[0]}, {})", doc)
    names = {code: name for name, _, code in driver.execute_script(ROWS)}
    assert names == {code: discovery.config(code, value, unit, "d", "s", "a", "v", None, readings)["name"]
                     for code, (value, unit) in readings.items()}


def test_the_last_error_is_on_the_page_where_a_wrong_key_shows(page):
    # A wrong key is the likeliest first-setup fault: the page said only "5 errors", and
    # what they were was in /api/v1/status alone (a newcomer's review).
    sim, gw, driver = page
    driver.get(address(gw))
    wait_until(lambda: driver.execute_script(ROWS), 15, what=lambda: driver.page_source[:600])
    wrong = "authentication failed \u2014 check the key"
    driver.execute_script("draw({readings: {}}, arguments[0])", {"telegrams": 0, "errors": {"authentication": 5},
                                                                 "last_error": wrong})
    assert driver.find_element(By.ID, "s").text == (
        "No reading yet: the meter has sent nothing this dongle could decode. 0 telegrams decoded, "
        "5 errors (the last: %s). Updated every 10 s." % wrong)


def test_a_browser_without_fetch_is_told_where_the_readings_are(page):
    sim, gw, driver = page
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": "delete window.fetch"})
    driver.get(address(gw))
    assert driver.find_element(By.ID, "s").text == "This browser cannot load the readings: open /api/v1/readings."


def grid_codes():
    codes = set()
    for a in ("0", "1"):
        for b in ("0", "1", "2"):
            for c in range(0, 100):
                for d in (0, 1, 2, 4, 6, 7, 8, 24, 32, 36):
                    for e in (0, 1, 2, 3):
                        codes.add("%s-%s:%d.%d.%d" % (a, b, c, d, e))
    codes.update(["#1", "#12", "0-0:96.3.10/3", "1-0:1.8.1*255", "1.8.1", "1-0:32.7.0 ", "1-0:1.8",
                  "1-0:1.8.0.255", "0-0:96.1.0.255", "1-0:091.7.0", "1-0:31.07.0", "a-b:c.d.e", "1-0-0:1.8.0",
                  "1-0:1.8.x", "0-1:24.2.1", "0-2:96.1.0", ":", "",
                  # IEC 62056-21 readouts: codes without "A-B:", letter codes
                  "33.7.0", "32.7", "1.8.0*255", "0.0.0", "C.1.0", "F.F", "FF", "C.7.1", "96.1.0", " 1.8.0",
                  # billing periods (value group F), also of unknown codes and empty ones
                  "1-0:1.8.0.96", "1-1:1.6.0.01", "1.8.2.1", "1-0:99.99.0.1", "0-0:96.1.0.3", "1-0:1.8.0.",
                  "1-0:1.8.0.1.2",
                  # E beside D 6 and 8 (tariffs), and other media than electricity
                  "1.6.2", "1-1:1.6.1", "1-0:2.6.3.01", "1-0:32.7.3", "1-0:1.7.1", "6-0:1.8.0", "7-1:3.8.0",
                  "6-0:1.8.0.1", "9-0:1.6.1",
                  # phase angles (C 81, E: from and to): every E a two-digit place pair can make
                  ] + ["1-0:81.7.%d" % e for e in range(0, 100)] + ["81.7.4", "81.7.26", "81.8.4", "81.7.100",
                                                                    "1-0:81.7.4.1"])
    return codes


def corpus_codes():
    import conftest
    import test_parity

    codes = set()
    for result in test_parity.cpython(test_parity.corpus_jobs(conftest.load_corpus())):
        for telegram in result["telegrams"]:
            codes.update(telegram["readings"])
    return codes


def test_the_pages_names_are_the_ones_home_assistant_shows_for_every_code(page):
    sim, gw, driver = page
    driver.get(address(gw))
    codes = sorted(corpus_codes() | grid_codes())
    assert len(codes) > 24000
    names = driver.execute_script("return arguments[0].map(nm)", codes)
    assert {c: n for c, n in zip(codes, names) if n != friendly_name(c)} == {}
    order = driver.execute_script("return arguments[0].slice().sort(cmp)", codes)
    assert order == sorted(codes, key=obis_order)
