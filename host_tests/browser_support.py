"""A real headless Chromium for the portal tests: Debian's /usr/bin/chromium driven by
Selenium through Debian's /usr/bin/chromedriver (both from the system, so Selenium never
downloads a browser), in a fresh profile, with a phone-sized screen.
"""

import os
import shutil

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

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
