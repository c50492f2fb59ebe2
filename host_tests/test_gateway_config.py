"""/config on the running gateway (issue 4 on the LAN), end to end on the MicroPython unix port.

The gateway (firmware/main.py) runs with a real mosquitto and the meter simulator. Its HTTP
server carries /config behind the admin password: 401 without it, the page with it, 429
after five wrong ones. A saved change takes effect at once: the gateway restarts into the
new settings (the ESP32 by a reset, the unix port in the same process) and publishes under
the new prefix. /api/v1/status names the setup access point and its public passphrase. No
response body ever carries a secret of the configuration.
"""

import base64
import json
import os
import urllib.parse

import pytest

import simulate
from mp import compiled_tree
from gateway_support import Broker, Gateway, Subscriber, free_port, wait_until
from web_support import request

pytestmark = pytest.mark.skipif(not os.path.exists(Broker.__init__.__globals__["MOSQUITTO"]),
                                reason="mosquitto not installed (.ci/run installs it)")

DEVICE = "cfgdongle-3fa2"
ADMIN = "admin-Secret-881"
SECRETS = {
    "wifi.password": "wifi-Secret-882",
    "mqtt.password": "mqtt-Secret-883",
    "admin.password": ADMIN,
    "meter.key": simulate.DEFAULT_KEY,
    "meter.auth_key": simulate.DEFAULT_AUTH_KEY,
}
FORM_TYPE = {"Content-Type": "application/x-www-form-urlencoded"}


def basic(password):
    return {"Authorization": "Basic " + base64.b64encode(("admin:" + password).encode()).decode()}


class Client:
    """HTTP to the gateway, keeping every body for the secret check at the end."""

    def __init__(self, port):
        self.port = port
        self.bodies = []

    def __call__(self, method, path, **kw):
        status, headers, body = request(self.port, method, path, **kw)
        self.bodies.append(("%s %s -> %d" % (method, path, status), body))
        return status, headers, body

    def leaks(self):
        found = []
        for what, body in self.bodies:
            for secret in SECRETS.values():
                for form in (secret, secret.lower(), secret.upper()):
                    if form.encode() in body:
                        found.append("%s carries %r" % (what, secret))
        return found


@pytest.fixture
def running(tmp_path):
    broker = Broker(tmp_path).start()
    sub = Subscriber(broker.port)
    sim = simulate.Simulator(0, "hdlc", interval=0.2, minute_every=3).start()
    http_port = free_port()
    cfg = {"device_id": DEVICE,
           "meter": {"source": "tcp://127.0.0.1:%d" % sim.port, "key": SECRETS["meter.key"],
                     "auth_key": SECRETS["meter.auth_key"]},
           "mqtt": {"host": "127.0.0.1", "port": broker.port, "prefix": "meterlink",
                    "user": "meter", "password": SECRETS["mqtt.password"]},
           "wifi": {"ssid": "Home Net", "password": SECRETS["wifi.password"]},
           "admin": {"password": ADMIN},
           "http": {"port": http_port}}
    # The .mpy build, as the device loads it: compiling the portal from source on the
    # first /config request would measure the compiler's heap, not the gateway's.
    gw = Gateway(tmp_path, cfg, "256k", compiled_tree()).start()
    client = Client(http_port)
    wait_until(lambda: sub.on("meterlink/%s/state" % DEVICE), 30,
               what=lambda: "a first state message\n" + gw.log())
    yield gw, sub, client
    gw.stop()
    sim.stop()
    sub.close()
    broker.stop()
    log = gw.log()
    assert "Traceback" not in log, log
    assert not client.leaks()


def change(fields):
    form = {"wifi.ssid": "Home Net", "wifi.ssid_other": "", "meter": "current",
            "mqtt.host": "127.0.0.1", "mqtt.user": "meter", "mqtt.prefix": "meterlink",
            "mqtt.discovery": "on"}
    form.update({key: "" for key in SECRETS})  # empty secret fields keep the stored ones
    form.update(fields)
    return urllib.parse.urlencode(form)


def test_config_asks_for_the_admin_password(running):
    gw, _, client = running
    status, headers, body = client("GET", "/config")
    assert status == 401
    assert headers["www-authenticate"].startswith("Basic ")
    assert json.loads(body)["status"] == 401


def test_with_the_password_the_page_shows_the_settings_but_no_secret(running):
    gw, _, client = running
    status, headers, body = client("GET", "/config", headers=basic(ADMIN))
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b'value="meterlink"' in body  # the stored prefix
    assert body.count(b'placeholder="unchanged"') == len(SECRETS)
    from board.unix import _host_name
    from portal.ap import ap_ssid

    ssid = ap_ssid(_host_name()).encode()  # the AP the board opens, whatever device_id says
    assert b"<b>" + ssid + b"</b>" in body and b"<b>meterlink-setup</b>" in body  # the footer


def test_a_saved_prefix_is_stored_and_the_gateway_restarts_into_it(running):
    gw, sub, client = running
    port = gw.cfg["mqtt"]["port"]
    status, _, body = client("POST", "/config", body=change({"mqtt.prefix": "home/meter",
                                                             "mqtt.port": str(port)}),
                             headers=dict(FORM_TYPE, **basic(ADMIN)))
    assert status == 200 and b'id="saved"' in body
    with open(gw.config_path) as f:
        stored = json.load(f)
    assert stored["mqtt"]["prefix"] == "home/meter"
    for dotted, secret in SECRETS.items():  # nothing typed: every secret kept
        section, name = dotted.split(".")
        assert stored[section][name].lower() == secret.lower()  # keys are stored normalised

    new_topic = "home/meter/%s/state" % DEVICE
    wait_until(lambda: sub.on(new_topic), 30, what=lambda: new_topic + "\n" + gw.log())
    assert gw.alive()
    # The topics the gateway moved away from are emptied on the broker (an empty retained
    # message deletes the retained one), not left with a snapshot nobody updates any more.
    for old in ("meterlink/%s/state" % DEVICE, "meterlink/%s/availability" % DEVICE):
        assert sub.last(old) == b""
    assert sub.on("home/meter/%s/availability" % DEVICE)[-1][1] == b"online"
    late = Subscriber(port, name="late-sub")  # what a client connecting now is handed
    try:
        wait_until(lambda: late.on(new_topic), 10, what="the new retained state")
        assert not [t for t in late.topics() if t.startswith("meterlink/")]
    finally:
        late.close()
    assert "restarting" in gw.log()
    status, _, body = client("GET", "/api/v1/status")
    assert status == 200 and json.loads(body)["telegrams"] >= 1  # a fresh gateway decoding
    assert client("GET", "/config")[0] == 401  # and /config still guarded after the restart


def test_a_unix_gateway_saves_without_a_wifi_network(running):
    # The unix port has no radio: /config there refused every save until a network was
    # made up ("choose a network or type its name"), and that name went into the file.
    gw, _, client = running
    port = gw.cfg["mqtt"]["port"]
    status, _, body = client("POST", "/config", body=change({"wifi.ssid": "", "mqtt.port": str(port),
                                                             "mqtt.prefix": "nowifi"}),
                             headers=dict(FORM_TYPE, **basic(ADMIN)))
    assert status == 200 and b'id="saved"' in body, body[-400:]
    with open(gw.config_path) as f:
        stored = json.load(f)
    assert stored["wifi"]["ssid"] == "" and stored["mqtt"]["prefix"] == "nowifi"


def test_five_wrong_passwords_lock_even_the_right_one_out(running):
    gw, _, client = running
    for _ in range(5):
        assert client("GET", "/config", headers=basic("guess-guess"))[0] == 401
    status, headers, body = client("GET", "/config", headers=basic(ADMIN))
    assert status == 429
    assert int(headers["retry-after"]) > 0
    assert client("GET", "/api/v1/readings")[0] == 200  # the API itself is not locked


def test_status_names_the_setup_access_point_and_its_public_passphrase(running):
    # The access point is named from the board's own id (portal/boot.py), not from a
    # configured device_id ("cfgdongle-3fa2" here): status named one the dongle never opens.
    from board.unix import _host_name  # the unix board's id, as the gateway's child reads it
    from portal.ap import ap_ssid

    gw, _, client = running
    status, _, body = client("GET", "/api/v1/status")
    assert status == 200
    assert json.loads(body)["setup_access_point"] == {"ssid": ap_ssid(_host_name()),
                                                     "password": "meterlink-setup"}



@pytest.mark.parametrize("meter", ["sil-hdlc", "dsmr"])
def test_a_gateway_replaying_a_capture_file_saves_in_the_same_heap(tmp_path, corpus, meter):
    # A capture file as the meter loads board/unix_local.py, whose names took a gateway
    # saving /config one past its name pool (1,267 names on this port): the next pool is
    # 14 kB in one piece, and the save answered 503 "out of memory" at 256 kB while the
    # TCP meter's gateway saved. Constants of the /config modules are now compile-time.
    # A DSMR meter's parser brings more names, and its gateway passed the pool's edge
    # while saving: the page that confirms the save found no room, after the file was
    # written, and the 503 "try again" had the person save again (now a short "Saved"
    # page, should it happen). Private literal constants are now compile-time too.
    broker = Broker(tmp_path).start()
    sub = Subscriber(broker.port)
    capture = tmp_path / "capture.bin"
    if meter == "dsmr":
        capture.write_bytes(corpus["dsmr-iskra-am550-v5"]["text"].encode() * 3)
        keys = {}
    else:
        capture.write_bytes(b"".join(simulate.push_bytes(n, minute_every=3) for n in range(12)))
        keys = {"key": SECRETS["meter.key"], "auth_key": SECRETS["meter.auth_key"]}
    http_port = free_port()
    cfg = {"device_id": DEVICE,
           "meter": dict(keys, source=str(capture)),
           "mqtt": {"host": "127.0.0.1", "port": broker.port},
           "admin": {"password": ADMIN},
           "http": {"port": http_port}}
    gw = Gateway(tmp_path, cfg, "256k", compiled_tree()).start()
    try:
        wait_until(lambda: sub.on("meterlink/%s/state" % DEVICE), 30,
                   what=lambda: "a first state message\n" + gw.log())
        status, _, body = request(http_port, "POST", "/config",
                                  body=change({"wifi.ssid": "", "mqtt.port": str(broker.port),
                                               "mqtt.prefix": "replayed", "mqtt.user": ""}),
                                  headers=dict(FORM_TYPE, **basic(ADMIN)))
        assert status == 200 and b'id="saved"' in body, body[-400:]
        with open(gw.config_path) as f:
            assert json.load(f)["mqtt"]["prefix"] == "replayed"
        wait_until(lambda: sub.on("replayed/%s/state" % DEVICE), 30,
                   what=lambda: "the restarted gateway's state\n" + gw.log())
        # And the page comes back. With DSMR the portal's names took the gateway past the
        # pool's next block: that block stayed in the middle of the heap, which no restart
        # in the same process moves, and every later GET /config answered 503.
        for _ in range(2):
            status, _, body = request(http_port, "GET", "/config", headers=basic(ADMIN))
            assert status == 200 and b'value="replayed"' in body, body[-400:]
    finally:
        gw.stop()
        sub.close()
        broker.stop()
    assert "Traceback" not in gw.log(), gw.log()
