"""The captive portal over HTTP, served by the firmware on the MicroPython unix port:
probe redirects, the save, the switch to station mode, /config behind the admin password,
and no secret in any response."""

import base64
import json
import os
import re
import time
import urllib.parse

import pytest

from portal_support import Bodies, LanRun, PortalRun
from web_support import request

KEY = "00112233445566778899aabbccddeeff"
AUTH_KEY = "ffeeddccbbaa99887766554433221100"
SECRETS = {
    "wifi.password": "wifi-Secret-771",
    "meter.key": KEY,
    "meter.auth_key": AUTH_KEY,
    "mqtt.password": "mqtt-Secret-772",
    "admin.password": "admin-Secret-773",
}
FORM = dict(SECRETS, **{
    "wifi.ssid": "",
    "wifi.ssid_other": "Home Net",
    "meter": "e450",
    "mqtt.host": "",
    "mqtt.port": "1883",
    "mqtt.user": "meter",
    "mqtt.prefix": "home/meter",
    "mqtt.discovery": "on",
})
FORM_TYPE = {"Content-Type": "application/x-www-form-urlencoded"}
PROBES = ["/generate_204", "/hotspot-detect.html", "/connecttest.txt", "/ncsi.txt",
          "/canonical.html"]


def post(bodies, port, path, fields, headers=None):
    return bodies.request(port, "POST", path, body=urllib.parse.urlencode(fields),
                          headers=dict(FORM_TYPE, **(headers or {})))


@pytest.fixture
def run(tmp_path):
    run = PortalRun(tmp_path)
    yield run
    output = run.stop()
    assert "Traceback" not in output, output
    assert not run.bodies.leaks(SECRETS.values())


def wait_for_gateway(port, deadline=20):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            return request(port, "GET", "/api/v1/status")
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the gateway did not come up on port %d" % port)


class TestCaptive:
    @pytest.mark.parametrize("path", PROBES + ["/some/page.html", "/favicon.ico"])
    def test_probes_and_every_other_path_redirect_to_the_page(self, run, path):
        status, headers, _ = run.bodies.request(run.portal_port, "GET", path)
        assert status == 302
        assert headers["location"] == run.portal_url

    def test_the_page_is_served_at_the_root(self, run):
        status, headers, body = run.bodies.request(run.portal_port, "GET", "/")
        assert status == 200
        assert headers["content-type"].startswith("text/html")
        assert b'<form method="post"' in body

    def test_wrong_input_is_refused_with_a_message_per_field_and_nothing_is_saved(self, run):
        before = run.stored()
        bad = dict(FORM, **{"mqtt.port": "0", "meter.key": "abc", "admin.password": "short"})
        status, _, body = post(run.bodies, run.portal_port, "/", bad)
        assert status == 422
        for field in ("mqtt.port", "meter.key", "admin.password"):
            assert b'id="err-%s"' % field.encode() in body
        assert run.stored() == before
        assert b'value="Home Net"' in body  # what was typed stays, secrets excepted
        # A secret typed with no fault of its own is not sent back either: a note beside its
        # field (no error) says to type it again, or the next save would keep none (an open
        # network, no key).
        assert b'id="attn-wifi.password">type it again' in body
        assert b'id="err-wifi.password"' not in body
        assert SECRETS["wifi.password"].encode() not in body

    def test_a_second_tap_on_save_or_back_shows_saved_again(self, run):
        # Found in a browser: a double tap (or Back) in the seconds before the restart got
        # the form again, now asking for the admin password the save had just set, with
        # four "type it again" errors, and counted a wrong guess.
        assert post(run.bodies, run.portal_port, "/", FORM)[0] == 200
        status, _, body = post(run.bodies, run.portal_port, "/", FORM)
        assert status == 200 and b'id="saved"' in body and b"admin.current" not in body
        status, _, body = run.bodies.request(run.portal_port, "GET", "/")
        assert status == 200 and b'id="saved"' in body and b"Reconnect this phone" in body
        run.child.wait_for("restarting into station mode")

    def test_saving_writes_the_file_and_the_gateway_comes_up_with_it(self, run):
        status, _, body = post(run.bodies, run.portal_port, "/", FORM)
        assert status == 200 and b'id="saved"' in body
        run.child.wait_for("restarting into station mode")
        stored = run.stored()
        assert stored["wifi"] == {"ssid": "Home Net", "password": SECRETS["wifi.password"], "txpower": None}
        assert stored["meter"]["key"] == KEY and stored["meter"]["profile"] == "e450"
        assert stored["mqtt"]["prefix"] == "home/meter"
        assert not os.path.exists(run.config_path + ".tmp")
        status, _, body = wait_for_gateway(stored["http"]["port"])
        run.bodies.seen.append(("GET", "/api/v1/status", status, body))
        assert status == 200
        assert json.loads(body)["meter"]["source"] == stored["meter"]["source"]
        for path in ("/api/v1/readings", "/metrics"):
            run.bodies.request(stored["http"]["port"], "GET", path)
        assert os.path.exists(run.config_path + ".joined")


def basic(password, user="admin"):
    token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    return {"Authorization": "Basic " + token}


@pytest.fixture
def lan(tmp_path):
    path = str(tmp_path / "config.json")
    cfg = {"wifi": {"ssid": "Home Net", "password": SECRETS["wifi.password"]},
           "meter": {"key": KEY, "auth_key": AUTH_KEY, "profile": "am550"},
           "mqtt": {"host": "broker.lan", "password": SECRETS["mqtt.password"]},
           "admin": {"password": SECRETS["admin.password"]}}
    with open(path, "w") as f:
        json.dump(cfg, f)
    run = LanRun(path)
    run.path = path
    yield run
    output = run.stop()
    assert "Traceback" not in output, output
    assert not run.bodies.leaks(SECRETS.values())


class TestConfigOnTheLan:
    def test_without_the_password_it_is_401_with_a_basic_challenge(self, lan):
        status, headers, body = lan.bodies.request(lan.port, "GET", "/config")
        assert status == 401
        assert headers["www-authenticate"].startswith("Basic ")
        assert json.loads(body)["status"] == 401

    def test_with_the_password_the_page_shows_no_secret(self, lan):
        status, _, body = lan.bodies.request(lan.port, "GET", "/config",
                                             headers=basic(SECRETS["admin.password"]))
        assert status == 200
        assert body.count(b'placeholder="unchanged"') == len(SECRETS)
        assert b'value="broker.lan"' in body

    def test_the_heading_names_the_configured_device_and_the_setup_ap_keeps_the_boards_id(
            self, tmp_path):
        # MQTT topics and Home Assistant name the device by device_id; the setup access
        # point is named from the board's id (portal/ap.py), whatever device_id says.
        path = str(tmp_path / "config.json")
        with open(path, "w") as f:
            json.dump({"device_id": "garage-meter", "admin": {"password": SECRETS["admin.password"]}}, f)
        run = LanRun(path)
        try:
            status, _, body = run.bodies.request(run.port, "GET", "/config",
                                                 headers=basic(SECRETS["admin.password"]))
        finally:
            run.stop()
        assert status == 200
        assert b'<p class="hint">Device garage-meter</p>' in body
        assert re.search(rb'id="setup-ap">Setup access point <b>meterlink-[0-9A-F]+</b>', body)

    def test_a_change_keeps_every_secret_left_empty(self, lan):
        fields = dict(FORM, **{k: "" for k in SECRETS})
        fields.update({"wifi.ssid": "Home Net", "wifi.ssid_other": "", "meter": "am550",
                       "mqtt.host": "mqtt.lan"})
        status, _, body = post(lan.bodies, lan.port, "/config", fields,
                               basic(SECRETS["admin.password"]))
        assert status == 200
        # Already on the home network: no "reconnect this phone", but when to reload.
        assert b"back in about 10 seconds" in body and b"Reconnect" not in body
        with open(lan.path) as f:
            stored = json.load(f)
        assert stored["mqtt"]["host"] == "mqtt.lan"
        assert stored["meter"]["key"] == KEY and stored["meter"]["auth_key"] == AUTH_KEY
        assert stored["wifi"]["password"] == SECRETS["wifi.password"]
        assert stored["admin"]["password"] == SECRETS["admin.password"]
        lan.child.wait_for("RESTART")  # the gateway restarts with the new settings

    def test_a_post_without_the_password_changes_nothing(self, lan):
        with open(lan.path) as f:
            before = f.read()
        status, _, _ = post(lan.bodies, lan.port, "/config", dict(FORM, **{"mqtt.host": "evil"}))
        assert status == 401
        with open(lan.path) as f:
            assert f.read() == before

    def test_after_five_wrong_passwords_even_the_right_one_waits(self, lan):
        for _ in range(5):
            status, _, _ = lan.bodies.request(lan.port, "GET", "/config", headers=basic("guess"))
            assert status == 401
        status, headers, body = lan.bodies.request(lan.port, "GET", "/config",
                                                   headers=basic(SECRETS["admin.password"]))
        assert status == 429
        assert int(headers["retry-after"]) > 0
        assert b"too many wrong passwords" in body


def test_a_cross_site_post_is_refused_even_with_the_password(lan):
    with open(lan.path) as f:
        before = f.read()
    fields = dict(FORM, **{"mqtt.host": "attacker.example"})
    headers = dict(basic(SECRETS["admin.password"]), Origin="http://attacker.example")
    status, _, _ = post(lan.bodies, lan.port, "/config", fields, headers)
    assert status == 403
    with open(lan.path) as f:
        assert f.read() == before


def test_the_own_origin_may_post(lan):
    headers = dict(basic(SECRETS["admin.password"]), Origin="http://127.0.0.1:%d" % lan.port)
    fields = dict(FORM, **{k: "" for k in SECRETS})
    fields.update({"wifi.ssid": "Home Net", "wifi.ssid_other": "", "mqtt.host": "mqtt.lan"})
    status, _, _ = post(lan.bodies, lan.port, "/config", fields, headers)
    assert status == 200


BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


class TestRefusalsSeenInABrowser:
    """A person in a browser who is refused gets a page saying what happened and what to do,
    with a link back to the form; scripts keep their JSON; status and header fields are the
    same for both."""

    def test_without_the_password(self, lan):
        status, headers, body = lan.bodies.request(lan.port, "GET", "/config", headers=BROWSER)
        assert status == 401
        assert headers["www-authenticate"] == 'Basic realm="meterlink", charset="UTF-8"'
        assert headers["content-type"] == "text/html; charset=utf-8"
        assert b'<h1 id="refused">Admin password required</h1>' in body
        assert b'<a href="/config">Back to the settings</a>' in body
        status, headers, body = lan.bodies.request(lan.port, "GET", "/config")
        assert status == 401 and headers["content-type"] == "application/json"
        assert headers["www-authenticate"] == 'Basic realm="meterlink", charset="UTF-8"'

    def test_locked_out(self, lan):
        for _ in range(5):
            lan.bodies.request(lan.port, "GET", "/config", headers=basic("guess"))
        status, headers, body = lan.bodies.request(lan.port, "GET", "/config",
                                                   headers=dict(BROWSER, **basic("guess")))
        assert status == 429 and int(headers["retry-after"]) > 0
        assert headers["content-type"].startswith("text/html")
        assert b"Too many wrong passwords: wait %s s, then reload this page." % (
            headers["retry-after"].encode()) in body
        status, headers, body = lan.bodies.request(lan.port, "GET", "/config")
        assert status == 429 and int(headers["retry-after"]) > 0
        assert json.loads(body)["error"].startswith("too many wrong passwords")

    def test_a_cross_site_post(self, lan):
        headers = dict(BROWSER, **basic(SECRETS["admin.password"]))
        headers["Origin"] = "http://attacker.example"
        status, headers, body = post(lan.bodies, lan.port, "/config", FORM, headers)
        assert status == 403 and headers["content-type"].startswith("text/html")
        assert b"The form must be sent from this device&#39;s own page" in body


def revision_of(body):
    return re.search(rb'name="revision" value="([0-9a-f]+)"', body).group(1).decode()


class TestTwoTabsOnConfig:
    """Two tabs (or two devices) on /config: a save over settings saved since the page was
    loaded is refused, and the page shows the stored settings with what this tab had."""

    def load(self, lan):
        status, _, body = lan.bodies.request(lan.port, "GET", "/config",
                                             headers=basic(SECRETS["admin.password"]))
        assert status == 200
        fields = dict(FORM, **{k: "" for k in SECRETS})
        fields.update({"wifi.ssid": "Home Net", "wifi.ssid_other": "", "meter": "am550",
                       "mqtt.host": "broker.lan", "mqtt.user": "", "mqtt.prefix": "meterlink",
                       "revision": revision_of(body)})
        return fields

    def save(self, lan, fields):
        return post(lan.bodies, lan.port, "/config", fields, basic(SECRETS["admin.password"]))

    def test_the_second_save_is_refused_until_it_was_seen(self, lan):
        tab_a, tab_b = self.load(lan), self.load(lan)
        tab_b["mqtt.host"] = "mqtt.lan"
        assert self.save(lan, tab_b)[0] == 200
        with open(lan.path) as f:
            saved_by_b = f.read()

        tab_a["mqtt.prefix"] = "home/meter"
        status, _, body = self.save(lan, tab_a)
        assert status == 409
        with open(lan.path) as f:
            assert f.read() == saved_by_b
        assert b"changed in another tab or by another device since this page was loaded" in body
        assert b'id="mqtt.host" name="mqtt.host" type="text" value="mqtt.lan"' in body
        assert b'id="attn-mqtt.host">this tab had &quot;broker.lan&quot;, not saved' in body
        assert b'id="attn-mqtt.prefix">this tab had &quot;home/meter&quot;, not saved' in body

        tab_a.update({"mqtt.host": "mqtt.lan", "revision": revision_of(body)})
        assert self.save(lan, tab_a)[0] == 200
        with open(lan.path) as f:
            stored = json.load(f)
        assert (stored["mqtt"]["host"], stored["mqtt"]["prefix"]) == ("mqtt.lan", "home/meter")


def test_the_vse_layout_is_saved_from_the_setup_page(run):
    fields = dict(FORM, **{"mqtt.layout": "vse", "mqtt.vse_group": "Haus 7"})
    status, _, body = post(run.bodies, run.portal_port, "/", fields)
    assert status == 422
    assert b'id="err-mqtt.vse_group">only letters, digits, &#39;-&#39; and &#39;_&#39; are allowed' in body
    assert b'<option value="vse" selected>' in body
    fields["mqtt.vse_group"] = "haus-7"
    assert post(run.bodies, run.portal_port, "/", fields)[0] == 200
    run.child.wait_for("restarting into station mode")
    assert (run.stored()["mqtt"]["layout"], run.stored()["mqtt"]["vse_group"]) == ("vse", "haus-7")


# A unix gateway names its meter (the device's default "uart" is refused there): nothing
# listens on this port, and the gateway retries it while the test looks at the boot.
CONFIGURED = {"wifi": {"ssid": "Home Net", "password": SECRETS["wifi.password"]},
              "meter": {"key": KEY, "source": "tcp://127.0.0.1:9"},
              "admin": {"password": SECRETS["admin.password"]}}


class TestBootDecision:
    def test_a_configured_dongle_boots_straight_into_the_gateway(self, tmp_path):
        run = PortalRun(tmp_path, CONFIGURED, expect="http: listening")
        output = run.stop()
        assert "portal:" not in output and "Traceback" not in output

    def test_the_button_opens_the_portal_over_a_valid_configuration(self, tmp_path):
        run = PortalRun(tmp_path, CONFIGURED, env={"METERLINK_BUTTON": "1",
                                                   "METERLINK_SCAN": "Home Net,Other"})
        status, _, body = run.bodies.request(run.portal_port, "GET", "/")
        output = run.stop()
        assert "button held" in output
        assert status == 200
        assert b'<option value="Home Net" selected>' in body
        assert body.count(b'placeholder="unchanged"') == 3  # wifi, key, admin are set
        assert not run.bodies.leaks(SECRETS.values())

    def test_a_portal_request_from_the_station_opens_it_once(self, tmp_path):
        run = PortalRun(tmp_path, CONFIGURED, files={".portal": "1"})
        run.stop()
        assert not os.path.exists(run.config_path + ".portal")


class TestPortalOverStoredSettings:
    """The portal opened by itself (new settings never joined) over a stored admin password:
    the AP password is public, so changing anything needs the current admin password."""

    def test_without_the_current_admin_password_nothing_changes(self, tmp_path):
        run = PortalRun(tmp_path, CONFIGURED, files={".portal": "1"})
        before = run.stored()
        status, _, body = run.bodies.request(run.portal_port, "GET", "/")
        assert b'id="admin.current"' in body
        fields = dict(FORM, **{"mqtt.host": "attacker.example", "admin.current": "guess"})
        status, _, body = post(run.bodies, run.portal_port, "/", fields)
        assert status == 422 and b'id="err-admin.current"' in body
        assert run.stored() == before
        fields["admin.current"] = SECRETS["admin.password"]
        status, _, _ = post(run.bodies, run.portal_port, "/", fields)
        assert status == 200
        assert run.stored()["mqtt"]["host"] == "attacker.example"
        output = run.stop()
        assert "Traceback" not in output
        assert not run.bodies.leaks(SECRETS.values())

    def test_once_locked_out_even_the_right_password_says_to_wait(self, tmp_path):
        # It used to say "wrong password" to the right one, with no word of the lockout.
        run = PortalRun(tmp_path, CONFIGURED, files={".portal": "1"})
        fields = dict(FORM, **{"admin.current": "guess"})
        for _ in range(5):
            assert post(run.bodies, run.portal_port, "/", fields)[0] == 422
        fields["admin.current"] = SECRETS["admin.password"]
        status, _, body = post(run.bodies, run.portal_port, "/", fields)
        run.stop()
        assert status == 422 and b"too many wrong passwords: wait" in body

    def test_the_button_is_proof_enough(self, tmp_path):
        run = PortalRun(tmp_path, CONFIGURED, env={"METERLINK_BUTTON": "1"})
        status, _, body = run.bodies.request(run.portal_port, "GET", "/")
        run.stop()
        assert status == 200 and b'id="admin.current"' not in body
