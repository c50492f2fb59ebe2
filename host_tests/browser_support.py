"""A real headless Chromium for the portal tests: Debian's /usr/bin/chromium driven by
Selenium through Debian's /usr/bin/chromedriver (both from the system, so Selenium never
downloads a browser), in a fresh profile, with a phone-sized screen.
"""

import os
import shutil
import socket
import subprocess
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from gateway_support import wait_until  # noqa: F401  (re-exported for the browser tests)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")
PHONE = {"width": 390, "height": 844, "pixelRatio": 2}  # a common 6.1-inch phone in CSS px


def available():
    return os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)


def phone_browser(profile_dir):
    """A headless Chromium emulating a phone screen, with its own empty profile."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument("--user-data-dir=%s" % profile_dir)
    options.add_experimental_option("mobileEmulation", {"deviceMetrics": PHONE})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


def fill(driver, field_id, text):
    element = driver.find_element(By.ID, field_id)
    element.clear()
    element.send_keys(text)
    return element


def choose(driver, field_id, visible_text):
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, field_id)).select_by_visible_text(visible_text)


def full_page_screenshot(driver, path):
    """The whole page, not just the first screen (Chrome DevTools captureBeyondViewport)."""
    import base64

    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
    })
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


class Mosquitto:
    """A throw-away broker on a free loopback port (the MQTT host typed into the form)."""

    def __init__(self, folder):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        conf = os.path.join(str(folder), "mosquitto.conf")
        with open(conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n" % self.port)
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen([binary, "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise AssertionError("mosquitto did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)
