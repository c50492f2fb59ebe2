"""MQTT options end to end: the VSE layout, discovery off, a custom prefix, broker credentials refused."""

import datetime
import json
import time

import pytest

import simulate
from gateway_support import Broker, Gateway, Subscriber, free_port, wait_until
from test_gateway_e2e import assert_snapshot, pytestmark  # noqa: F401  (same skip rule)

HEAP = "256k"


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path).start()
    yield b
    b.stop()


def run(tmp_path, broker, mqtt):
    sim = simulate.Simulator(0, "hdlc", interval=0.2, minute_every=3).start()
    cfg = {"meter": {"source": "tcp://127.0.0.1:%d" % sim.port, "key": simulate.DEFAULT_KEY,
                     "auth_key": simulate.DEFAULT_AUTH_KEY},
           "mqtt": dict({"host": "127.0.0.1", "port": broker.port}, **mqtt),
           "http": {"port": free_port()}, "device_id": "lay1"}
    return sim, Gateway(tmp_path, cfg, HEAP).start()


def test_vse_layout_publishes_dt_group_meter_ds_with_short_obis_keys(tmp_path, broker):
    sub = Subscriber(broker.port)
    sim, gw = run(tmp_path, broker, {"layout": "vse", "vse_group": "home", "discovery": False})
    try:
        topic = "dt/home/%s/ds" % simulate.METER_ID
        wait_until(lambda: len(sub.on(topic)) >= 6, 30, what=lambda: "VSE messages\n" + gw.log())
        with sub.lock:
            messages = list(sub.messages)
        last_vse = max(i for i, m in enumerate(messages) if m[0] == topic)
        # The state published just before that VSE message is the same snapshot.
        state = json.loads([m for m in messages[:last_vse] if m[0] == "meterlink/lay1/state"][-1][1])
        assert_snapshot(state)
        doc = json.loads(messages[last_vse][1])["meter"]
        n = (state["frame_counter"] - 1) // 2
        # The form's time is UTC, as smartmeter-datacollector writes it.
        meter_time = datetime.datetime.fromisoformat(simulate.iso_time(n))
        assert doc["ts"] == meter_time.astimezone(datetime.timezone.utc).isoformat()
        for code, item in state["readings"].items():
            short = code.split(":")[1]
            if code.startswith("1-") and isinstance(item["value"], (int, float)):
                assert doc[short] == pytest.approx(item["value"]), short
            else:  # the meter's id and message text: no electricity readings
                assert short not in doc
        # Discovery off: its topics get only empty messages, which remove what a broker kept.
        assert not [m for m in sub.messages if m[0].startswith("homeassistant/") and m[1]]
        gw.stop()
        sub.close()
        # A data stream, not a state: the broker keeps none of it (the reference's way).
        sub = Subscriber(broker.port, topics=(topic, "meterlink/lay1/state"))
        wait_until(lambda: sub.on("meterlink/lay1/state"), 10, what="the retained state")
        time.sleep(0.2)
        assert sub.on(topic) == []
    finally:
        gw.stop()
        sim.stop()
        sub.close()


def test_custom_prefix_moves_state_and_availability(tmp_path, broker):
    sub = Subscriber(broker.port)
    sim, gw = run(tmp_path, broker, {"prefix": "home/energy"})
    try:
        wait_until(lambda: sub.last("home/energy/lay1/state"), 30, what=lambda: "state\n" + gw.log())
        assert sub.last("home/energy/lay1/availability") == b"online"
        config = json.loads(sub.last("homeassistant/sensor/lay1/obis_1_0_1_7_0/config"))
        assert config["state_topic"] == "home/energy/lay1/state"
    finally:
        gw.stop()
        sim.stop()
        sub.close()


def test_turning_discovery_off_removes_the_configs_the_broker_kept(tmp_path, broker):
    sim, gw = run(tmp_path, broker, {})
    config = "homeassistant/sensor/lay1/obis_1_0_1_7_0/config"
    sub = Subscriber(broker.port)
    try:
        wait_until(lambda: sub.last(config), 30, what=lambda: "discovery\n" + gw.log())
        kept = set(t for t in sub.topics() if t.startswith("homeassistant/"))
        gw.stop()
        sim.stop()
        sub.close()
        sim, gw = run(tmp_path, broker, {"discovery": False})
        # Every config the first run published is emptied once its reading comes again
        # (the minute list's within 3 pushes here); Home Assistant then drops the entity.
        sub = Subscriber(broker.port, topics=("homeassistant/#",))
        wait_until(lambda: all(sub.last(t) == b"" for t in kept), 30,
                   what=lambda: "empty configs\n" + gw.log())
        late = Subscriber(broker.port, topics=("homeassistant/#",), name="late-sub")
        try:
            time.sleep(0.5)
            assert late.topics() == set()  # nothing retained under discovery any more
        finally:
            late.close()
    finally:
        gw.stop()
        sim.stop()
        sub.close()


def test_last_will_marks_the_gateway_offline_when_it_dies(tmp_path, broker):
    sub = Subscriber(broker.port)
    sim, gw = run(tmp_path, broker, {})
    try:
        wait_until(lambda: sub.last("meterlink/lay1/availability") == b"online", 30, what=lambda: gw.log())
        gw.proc.kill()  # no DISCONNECT: the broker must publish the will
        gw.proc.wait(5)
        wait_until(lambda: sub.last("meterlink/lay1/availability") == b"offline", 10, what="the last will")
    finally:
        gw.stop()
        sim.stop()
        sub.close()


@pytest.mark.parametrize("password, connects", [("s3cret!", True), ("wrong", False)])
def test_broker_credentials(tmp_path, password, connects):
    secured = Broker(tmp_path, users={"meter": "s3cret!"}).start()
    sim, gw = run(tmp_path, secured, {"user": "meter", "password": password})
    try:
        def status():
            try:
                return json.loads(gw.http("/api/v1/status")[2])
            except OSError:  # not listening yet
                return {"mqtt": {"connected": False, "last_error": None}}

        if connects:
            wait_until(lambda: status()["mqtt"]["connected"], 20, what=lambda: gw.log())
        else:
            wait_until(lambda: status()["mqtt"]["last_error"], 20, what=lambda: gw.log())
            assert status()["mqtt"]["connected"] is False
            assert "connect to 127.0.0.1" in status()["mqtt"]["last_error"]
            assert status()["telegrams"] > 0  # the meter side is unaffected
    finally:
        gw.stop()
        sim.stop()
        secured.stop()
