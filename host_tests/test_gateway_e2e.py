"""End to end: simulator (TCP) -> gateway on the MicroPython unix port -> real mosquitto.

Every test runs the real parts: tools/simulate.py sends ciphered SiL pushes
over TCP, firmware/main.py runs under ``micropython -X heapsize=…`` as its own
process, /usr/sbin/mosquitto brokers, paho-mqtt subscribes, http.client reads
the REST API. Values are checked one by one against what the simulator sent.
"""

import json
import os
import subprocess

import pytest

import simulate
from net_support import FakeNameServer
from gateway_support import Broker, Gateway, Subscriber, free_port, wait_until
from mp import MICROPYTHON, ROOT, micropython_env

pytestmark = pytest.mark.skipif(not os.path.exists(Broker.__init__.__globals__["MOSQUITTO"]),
                                reason="mosquitto not installed (.ci/run installs it)")

INTERVAL = 0.2  # seconds between simulated pushes
MINUTE_EVERY = 3  # the minute list with every 3rd push
HEAP = "256k"
DEVICE = "testdongle"


def gateway_config(sim_port, broker_port, http_port, **meter):
    m = {"source": "tcp://127.0.0.1:%d" % sim_port, "key": simulate.DEFAULT_KEY,
         "auth_key": simulate.DEFAULT_AUTH_KEY}
    m.update(meter)
    return {"meter": m, "mqtt": {"host": "127.0.0.1", "port": broker_port, "prefix": "meterlink"},
            "http": {"port": http_port}, "device_id": DEVICE}


def merged_expected(frame_counter):
    """The snapshot the gateway must hold after the telegram with this frame counter."""
    n, index = (frame_counter - 1) // 2, (frame_counter - 1) % 2
    out = dict(simulate.info_values(n))
    last_minute = n - n % MINUTE_EVERY
    if index == 0 and n % MINUTE_EVERY == 0:
        last_minute -= MINUTE_EVERY  # push n's minute list comes after its 5 s list
    if last_minute >= 0:
        out.update(simulate.energies(last_minute))
        out["0-0:1.0.0"] = (simulate.iso_time(last_minute), None)
        out["0-0:96.13.0"] = (simulate.MESSAGE, None)
    out["0-0:96.1.1"] = (simulate.METER_ID, None)
    return out


def assert_snapshot(doc):
    want = merged_expected(doc["frame_counter"])
    assert set(doc["readings"]) == set(want)
    for code, (value, unit) in want.items():
        got = doc["readings"][code]
        assert got["value"] == pytest.approx(value), code
        assert got.get("unit") == unit, code


@pytest.fixture
def rig(tmp_path):
    """Broker + subscriber + simulator; gateways are started by the tests."""
    parts = {}
    broker = Broker(tmp_path).start()
    parts["broker"] = broker
    sub = Subscriber(broker.port)
    started = []

    def start(framing="hdlc", heap=HEAP, resume=False, mqtt=None, env=None, **meter):
        sim = simulate.Simulator(0, framing, interval=INTERVAL, minute_every=MINUTE_EVERY, resume=resume).start()
        started.append(sim)
        cfg = gateway_config(sim.port, broker.port, free_port(), **meter)
        cfg["mqtt"].update(mqtt or {})
        gw = Gateway(tmp_path, cfg, heap, env=env).start()
        started.append(gw)
        return sim, gw

    yield broker, sub, start
    for part in reversed(started):
        part.stop()
    sub.close()
    broker.stop()


def state_topic():
    return "meterlink/%s/state" % DEVICE


@pytest.mark.parametrize("framing", ["hdlc", "mbus"])
def test_state_availability_and_discovery_carry_what_the_meter_sent(rig, framing):
    broker, sub, start = rig
    sim, gw = start(framing)
    wait_until(lambda: len(sub.on(state_topic())) >= 8, 30, what=lambda: "8 state messages\n" + gw.log())
    for _, payload, _, _ in sub.on(state_topic()):
        assert_snapshot(json.loads(payload))
    last = sub.last_json(state_topic())
    assert last["meter_time"] == simulate.iso_time((last["frame_counter"] - 1) // 2)
    assert last["system_title"] == simulate.SYSTEM_TITLE.hex()
    assert sub.last("meterlink/%s/availability" % DEVICE) == b"online"

    configs = {t: json.loads(sub.last(t)) for t in sub.topics() if t.startswith("homeassistant/")}
    assert len(configs) == len(last["readings"])
    energy = configs["homeassistant/sensor/%s/obis_1_0_1_8_0/config" % DEVICE]
    assert energy["unique_id"] == "%s_obis_1_0_1_8_0" % DEVICE
    assert energy["state_topic"] == state_topic()
    assert energy["device_class"] == "energy" and energy["state_class"] == "total_increasing"
    assert energy["unit_of_measurement"] == "Wh"
    assert energy["value_template"] == "{{ value_json.readings['1-0:1.8.0'].value if '1-0:1.8.0' in value_json.readings else '' }}"
    assert energy["device"]["identifiers"] == ["meterlink_%s" % DEVICE]
    assert all(doc["expire_after"] == 300 for doc in configs.values())  # mqtt.expire_after's default
    assert energy["device"]["configuration_url"] == "http://127.0.0.1:%d/config" % gw.cfg["http"]["port"]
    for code, cls in (("1_0_1_7_0", "power"), ("1_0_32_7_0", "voltage"), ("1_0_31_7_0", "current")):
        doc = configs["homeassistant/sensor/%s/obis_%s/config" % (DEVICE, code)]
        assert (doc["device_class"], doc["state_class"]) == (cls, "measurement")
    # Retained: a subscriber that comes later gets the state, availability and every config
    # at once, flagged retained (to this one, there from the start, none is).
    late = Subscriber(broker.port, name="late-sub")
    try:
        wanted = set(configs) | {state_topic(), "meterlink/%s/availability" % DEVICE}
        wait_until(lambda: wanted <= late.topics(), 10, what="the retained messages")
        first = {}
        for topic, _, retain, _ in list(late.messages):
            first.setdefault(topic, retain)
        assert all(first[t] is True for t in wanted)
    finally:
        late.close()


def test_a_broker_named_by_host_name_is_reached_through_the_boards_name_server(rig):
    # The unix board asks METERLINK_DNS as the ESP32 asks the name server DHCP gave it.
    broker, sub, start = rig
    name_server = FakeNameServer({"mqtt.meterlink.test": "127.0.0.1"}, delay=0.3)
    try:
        sim, gw = start("hdlc", mqtt={"host": "mqtt.meterlink.test"}, env={"METERLINK_DNS": name_server.address()})
        wait_until(lambda: len(sub.on(state_topic())) >= 2, 30, what=lambda: "2 state messages\n" + gw.log())
    finally:
        name_server.close()
    assert_snapshot(sub.last_json(state_topic()))
    assert name_server.queries[0][:2] == ("mqtt.meterlink.test", 1)


def test_http_endpoints_serve_snapshot_status_and_metrics(rig):
    broker, sub, start = rig
    sim, gw = start("hdlc")
    wait_until(lambda: len(sub.on(state_topic())) >= 4, 30, what=lambda: "state\n" + gw.log())
    status, headers, body = gw.http("/api/v1/readings")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert_snapshot(json.loads(body))

    status, _, body = gw.http("/api/v1/status")
    doc = json.loads(body)
    assert status == 200
    assert doc["telegrams"] >= 4
    assert doc["errors"] == {"checksum": 0, "authentication": 0, "malformed": 0, "overflow": 0, "sequence": 0}
    assert doc["mqtt"]["connected"] is True and doc["meter"]["connected"] is True
    assert doc["version"] and doc["uptime_s"] >= 0 and doc["free_heap"] > 0
    assert doc["last_error"] is None
    assert doc["healthy"] is True and doc["mqtt"]["memory_streak"] == 0

    status, headers, body = gw.http("/metrics")
    text = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert '# TYPE meterlink_reading gauge' in text
    assert 'meterlink_reading{obis="1-0:1.8.0",unit="Wh"}' in text
    assert 'meterlink_decode_errors_total{kind="authentication"} 0' in text
    assert "meterlink_mqtt_connected 1" in text and "meterlink_healthy 1" in text

    status, _, body = gw.http("/nope")
    assert status == 404 and "error" in json.loads(body)
    status, headers, _ = gw.http("/api/v1/readings", method="POST")
    assert status == 405 and headers.get("Allow") == "GET"



def test_the_dongles_address_in_a_browser_is_a_page_that_shows_the_readings(rig):
    # make run prints http://127.0.0.1:PORT/ and a router lists the dongle by address:
    # that address answered 404 in JSON. It is a page that draws the readings from the
    # API in the browser (test_page_browser.py), and links it and the setup page.
    broker, sub, start = rig
    sim, gw = start("hdlc")
    wait_until(lambda: len(sub.on(state_topic())) >= 1, 30, what=lambda: "state\n" + gw.log())
    status, headers, body = gw.http("/")
    page = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert '<a href="/config">' in page and "<script>" in page
    for path in ("/api/v1/readings", "/api/v1/status", "/metrics"):
        assert '"%s"' % path in page
        assert gw.http(path)[0] == 200
    assert gw.http("/")[2] == body  # the module's constant again, after it was dropped


def test_broker_outage_reconnects_and_republishes_the_whole_snapshot(rig):
    broker, sub, start = rig
    sim, gw = start("mbus")
    wait_until(lambda: len(sub.on(state_topic())) >= 3, 30, what=lambda: "state\n" + gw.log())
    sub.close()
    broker.stop()
    before = sim.sent
    wait_until(lambda: sim.sent >= before + 6, 10, what="pushes during the outage")
    status = json.loads(gw.http("/api/v1/status")[2])
    assert status["mqtt"]["connected"] is False and status["mqtt"]["last_error"]
    lost_at = status["mqtt"]["last_error_time"]
    assert status["time"] - 30 <= lost_at <= status["time"]
    assert status["telegrams"] >= before + 6  # decoding went on without the broker
    broker.start()
    sub2 = Subscriber(broker.port)
    try:
        wait_until(lambda: sub2.last(state_topic()), 30, what=lambda: "state after the broker came back\n" + gw.log())
        first = json.loads(sub2.on(state_topic())[0][1])
        assert first["frame_counter"] > 2 * before  # sent while the broker was down
        assert_snapshot(first)
        assert sub2.last("meterlink/%s/availability" % DEVICE) == b"online"
        mqtt = json.loads(gw.http("/api/v1/status")[2])["mqtt"]
        assert mqtt["connects"] == 2
        # The outage's last error stays, with its time: older than the connection now up.
        assert mqtt["connected"] is True and mqtt["last_error"] and mqtt["last_error_time"] >= lost_at
    finally:
        sub2.close()


def test_keepalive_pings_answered_by_mosquitto_keep_the_one_connection(rig):
    # mqtt.keepalive 2: a ping every second. Each PINGRESP used to stall the gateway
    # for 2 s and drop the connection, and mosquitto then published the last will.
    broker, sub, start = rig
    sim, gw = start("hdlc", mqtt={"keepalive": 2})
    wait_until(lambda: len(sub.on(state_topic())) >= 3, 30, what=lambda: "state\n" + gw.log())
    before = sim.sent
    wait_until(lambda: sim.sent >= before + 25, 15, what="five seconds of pushes")  # INTERVAL 0.2 s
    status = json.loads(gw.http("/api/v1/status")[2])
    assert status["mqtt"]["connects"] == 1 and status["mqtt"]["last_error"] is None, gw.log()
    assert [m[1] for m in sub.on("meterlink/%s/availability" % DEVICE)] == [b"online"]
    assert "connection lost" not in gw.log()


def test_meter_connection_dropped_and_restored(rig):
    broker, sub, start = rig
    sim, gw = start("hdlc", resume=True)
    wait_until(lambda: len(sub.on(state_topic())) >= 3, 30, what=lambda: "state\n" + gw.log())
    sim.drop()
    wait_until(lambda: sim.connections >= 2, 15, what="the gateway to reconnect to the meter")
    seen = len(sub.on(state_topic()))
    wait_until(lambda: len(sub.on(state_topic())) >= seen + 3, 15, what="state after the meter came back")
    assert_snapshot(sub.last_json(state_topic()))
    status = json.loads(gw.http("/api/v1/status")[2])
    assert status["meter"]["connects"] >= 2 and status["meter"]["connected"] is True


def _tcp_timers(remote_port):
    """(state, timer kind, seconds left) of this host's IPv4 sockets connected to ``remote_port``
    (/proc/net/tcp, proc(5): timer 2 is the keepalive timer, its time in 1/100 s)."""
    rows = []
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if int(fields[2].split(":")[1], 16) == remote_port:
                kind, left = fields[5].split(":")
                rows.append((fields[3], int(kind, 16), int(left, 16) / 100))
    return rows


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="Linux only")
def test_the_meter_connection_sends_keepalive_probes_so_a_half_open_ser2net_link_ends(rig):
    # The dongle never sends to a ser2net port: without keepalive, a server host that
    # reboots or drops off the network leaves the reader waiting on a dead connection.
    broker, sub, start = rig
    sim, gw = start("hdlc")
    wait_until(lambda: sub.on(state_topic()), 30, what=lambda: "state\n" + gw.log())
    established = [row for row in _tcp_timers(sim.port) if row[0] == "01"]
    assert len(established) == 1, _tcp_timers(sim.port)
    _, kind, left = established[0]
    assert kind == 2 and 0 < left <= 30  # the keepalive timer, the first probe within 30 s


def test_wrong_key_counts_authentication_errors_and_publishes_no_state(rig):
    broker, sub, start = rig
    sim, gw = start("hdlc", key="00112233445566778899aabbccddeeff")
    wait_until(lambda: sim.sent >= 5, 15, what="pushes")
    status = wait_until(lambda: (lambda s: s if s["errors"]["authentication"] >= 4 else None)(
        json.loads(gw.http("/api/v1/status")[2])), 15, what="authentication errors")
    assert status["telegrams"] == 0
    assert "authentication failed" in status["last_error"]
    assert status["last_error_time"] is not None
    assert sub.on(state_topic()) == []
    assert not [t for t in sub.topics() if t.startswith("homeassistant/")]
    assert sub.last("meterlink/%s/availability" % DEVICE) == b"online"
    assert json.loads(gw.http("/api/v1/readings")[2])["readings"] == {}
    assert 'meterlink_decode_errors_total{kind="authentication"}' in gw.http("/metrics")[2].decode()


@pytest.mark.parametrize("doc, key", [
    ({"mqtt": {"port": 99999}}, b"mqtt.port"),
    ({"meter": {"source": "tcp://127.0.0.1:9", "profile": "no-such-meter"}}, b"meter.profile"),
    ({"meter": {"source": "tcp://127.0.0.1:9", "lists": ["no-such-list"]}}, b"meter.lists"),
    # The default source, the device's UART: on unix it served HTTP with no meter, retrying.
    ({"http": {"port": 0}}, b"meter.source"),
])
def test_an_invalid_config_refuses_to_start_naming_the_key(tmp_path, doc, key):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    env = micropython_env()
    env["METERLINK_DIR"] = str(tmp_path)
    out = subprocess.run([MICROPYTHON, "-X", "heapsize=%s" % HEAP, os.path.join(ROOT, "firmware", "main.py"),
                          "--config", str(path)], capture_output=True, env=env, cwd=ROOT, timeout=30)
    assert out.returncode == 2, out.stdout + out.stderr
    assert b"refused: " + key in out.stdout


def test_a_config_file_named_on_the_command_line_that_is_missing_refuses_to_start(tmp_path):
    # A typo in --config used to start the gateway on every default (the uart source, HTTP
    # on port 80, no MQTT) and exit 0 later, never saying the file was not there.
    path = tmp_path / "no-such.json"
    env = micropython_env()
    env["METERLINK_DIR"] = str(tmp_path)
    out = subprocess.run([MICROPYTHON, "-X", "heapsize=%s" % HEAP, os.path.join(ROOT, "firmware", "main.py"),
                          "--config", str(path)], capture_output=True, env=env, cwd=ROOT, timeout=30)
    assert out.returncode == 2, out.stdout + out.stderr
    assert b"refused: (file): " in out.stdout and b"no such file" in out.stdout


@pytest.mark.parametrize("args, said", [
    (["--conf", "x.json"], b"meterlink: --conf: not an option (options: --config "),
    (["--config"], b"meterlink: --config needs a value"),
    (["x.json"], b"meterlink: x.json: not an option"),
])
def test_a_mistyped_command_line_refuses_to_start(tmp_path, args, said):
    # Both ran the gateway on every default, HTTP on port 80 (found by a black-box test).
    env = micropython_env()
    env["METERLINK_DIR"] = str(tmp_path)
    out = subprocess.run([MICROPYTHON, "-X", "heapsize=%s" % HEAP, os.path.join(ROOT, "firmware", "main.py")]
                         + args, capture_output=True, env=env, cwd=ROOT, timeout=30)
    assert out.returncode == 2, out.stdout + out.stderr
    assert said in out.stdout


def test_a_stalled_http_client_does_not_hold_up_the_meter_reader(rig):
    import socket

    broker, sub, start = rig
    sim, gw = start("hdlc")
    wait_until(lambda: len(sub.on(state_topic())) >= 2, 30, what=lambda: "state\n" + gw.log())
    stalled = [socket.create_connection(("127.0.0.1", gw.cfg["http"]["port"]), 5) for _ in range(3)]
    try:
        stalled[0].sendall(b"GET /api/v1/status HTTP/1.1\r\n")  # and never finishes
        seen = len(sub.on(state_topic()))
        wait_until(lambda: len(sub.on(state_topic())) >= seen + 5, 10, what="state while clients stall")
        assert gw.http("/api/v1/status")[0] == 200
    finally:
        for s in stalled:
            s.close()


def test_a_capture_file_source_is_replayed_once(tmp_path):
    capture = tmp_path / "capture.bin"
    capture.write_bytes(b"".join(simulate.push_bytes(n, "mbus", minute_every=MINUTE_EVERY) for n in range(4)))
    broker = Broker(tmp_path).start()
    sub = Subscriber(broker.port)
    cfg = gateway_config(1, broker.port, free_port())
    cfg["meter"]["source"] = str(capture)
    gw = Gateway(tmp_path, cfg, HEAP).start()
    try:
        wait_until(lambda: (sub.last_json(state_topic()) or {}).get("frame_counter") == 8, 30,
                   what=lambda: "the last telegram of the capture\n" + gw.log())
        assert_snapshot(sub.last_json(state_topic()))
        assert json.loads(gw.http("/api/v1/status")[2])["telegrams"] == 6
    finally:
        gw.stop()
        sub.close()
        broker.stop()


def test_an_http_port_held_by_another_program_costs_the_api_only_until_it_is_free(rig, tmp_path):
    # `make run` while something else serves the port: the gateway died with an
    # EADDRINUSE traceback, taking the meter reader and MQTT with it.
    import socket

    broker, sub, _ = rig
    holder = socket.socket()
    holder.bind(("0.0.0.0", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    sim = simulate.Simulator(0, "hdlc", interval=INTERVAL, minute_every=MINUTE_EVERY).start()
    gw = Gateway(tmp_path, gateway_config(sim.port, broker.port, port), HEAP).start()
    try:
        wait_until(lambda: len(sub.on(state_topic())) >= 3, 30, what=lambda: "state\n" + gw.log())
        assert gw.alive() and "cannot listen on port %d (http.port): EADDRINUSE;" % port in gw.log()
        holder.close()
        wait_until(lambda: "http: listening on" in gw.log(), 15, what=lambda: gw.log())
        assert gw.http("/api/v1/status")[0] == 200
    finally:
        holder.close()
        gw.stop()
        sim.stop()


@pytest.mark.parametrize("linked", [False, True])
def test_a_serial_device_source_hands_over_what_arrived_without_waiting_for_a_full_read(tmp_path, linked):
    # A USB adapter on a Raspberry Pi: the unix board reads the tty (here a pty, a real tty
    # to the kernel). A blocking tty read waits for the whole 256-byte buffer, so the last
    # telegram before a pause stayed in the kernel and HTTP and MQTT stalled with it.
    # ``linked``: socat's pty,link=/tmp/... form, a tty outside /dev, was read as a
    # capture file and stalled the gateway the same way.
    master, slave = os.openpty()
    broker = Broker(tmp_path).start()
    sub = Subscriber(broker.port)
    cfg = gateway_config(1, broker.port, free_port())
    cfg["meter"]["source"] = os.ttyname(slave)
    if linked:
        os.symlink(os.ttyname(slave), str(tmp_path / "meter-tty"))
        cfg["meter"]["source"] = str(tmp_path / "meter-tty")
    gw = Gateway(tmp_path, cfg, HEAP).start()
    try:
        online = "meterlink/%s/availability" % DEVICE
        wait_until(lambda: sub.last(online) == b"online", 30, what=gw.log)
        # Bytes written before the reader has set the tty raw are cooked by the line discipline.
        wait_until(lambda: gw.status()["meter"]["connected"], 10, what=gw.log)
        for n in range(2):
            os.write(master, simulate.push_bytes(n, "hdlc", minute_every=MINUTE_EVERY))
            counter = 2 * n + 2 if n % MINUTE_EVERY == 0 else 2 * n + 1
            wait_until(lambda: (sub.last_json(state_topic()) or {}).get("frame_counter") == counter, 10,
                       what=lambda: "push %d from the tty\n%s" % (n, gw.log()))
            assert_snapshot(sub.last_json(state_topic()))
            assert gw.http("/api/v1/status")[0] == 200  # the loop runs while the line is quiet
    finally:
        gw.stop()
        sub.close()
        broker.stop()
        os.close(master)
        os.close(slave)


def test_a_value_list_defined_in_the_configuration_names_an_untagged_meter(tmp_path, corpus):
    # A Thurgau E450 pushes values only, a list no table of ours has: "#1", "#2" until the
    # user types the utility's list into meter.lists (decoder/lists_user.py).
    capture = tmp_path / "tg.bin"
    capture.write_bytes(bytes.fromhex(corpus["ch-e450-tg-3apdus-one-frame"]["hex"]))
    broker = Broker(tmp_path).start()
    sub = Subscriber(broker.port)
    cfg = gateway_config(1, broker.port, free_port(), key="", auth_key="",
                         lists=["tg-e450 e450 1-0:1.8.0 1-0:2.8.0"])
    cfg["meter"]["source"] = str(capture)
    gw = Gateway(tmp_path, cfg, HEAP).start()
    try:
        last = lambda: ((sub.last_json(state_topic()) or {}).get("readings") or {}).get("1-0:1.8.0")  # noqa: E731
        wait_until(lambda: (last() or {}).get("value") == 21040203, 30, what=gw.log)
        assert json.loads(gw.http("/api/v1/status")[2])["telegrams"] == 3
        readings = json.loads(gw.http("/api/v1/readings")[2])["readings"]
        assert readings == {"1-0:1.8.0": {"value": 21040203, "unit": "Wh"}, "1-0:2.8.0": {"value": 0, "unit": "Wh"}}
        discovered = "homeassistant/sensor/%s/obis_1_0_1_8_0/config" % DEVICE
        wait_until(lambda: sub.last_json(discovered), 10, what="discovery of the named register")
        assert sub.last_json(discovered)["device_class"] == "energy"
    finally:
        gw.stop()
        sub.close()
        broker.stop()


def test_ctrl_c_on_a_gateway_run_by_hand_stops_it_without_a_traceback(tmp_path):
    # `micropython firmware/main.py --config FILE` in a terminal, as README shows it.
    import signal

    broker = Broker(tmp_path).start()
    gw = Gateway(tmp_path, gateway_config(1, broker.port, free_port()), HEAP).start()
    try:
        wait_until(lambda: "mqtt: connected" in gw.log(), 30, what=gw.log)
        gw.proc.send_signal(signal.SIGINT)
        assert gw.proc.wait(10) == 130
        assert "Traceback" not in gw.log() and gw.log().rstrip().endswith("meterlink: stopped")
    finally:
        gw.stop()
        broker.stop()
