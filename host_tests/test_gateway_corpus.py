"""The whole gateway against every real capture of ../shared/vectors/corpus.json.

For each capture the real parts run: a TCP meter port in a thread sends the
capture's bytes twice in a row, in small uneven pieces (so frames are cut
anywhere and a telegram also arrives after a good one); ``firmware/main.py``
runs under the MicroPython unix port with the capture's keys in its
configuration (profile "auto", as test_corpus.py decodes them); mosquitto
brokers; paho subscribes; http.client reads the REST API.

What the gateway shows is checked against the decoder library run on CPython
over the same bytes (the decoder CLI's output, telegram by telegram), merged
the way the store documents it: every code seen, its latest value; the last
meter_time, system_title and frame_counter that were not null.

- state topic (retained) = that merged snapshot, value for value;
- one Home Assistant discovery config per reading, with a unit, device class
  and state class that fit the reading (Home Assistant's unit table per
  device class; nothing numeric-only on text);
- the VSE topic (``mqtt.layout`` "vse") carries the numeric readings;
- ``/api/v1/readings`` = the state; ``/metrics`` parses as Prometheus text
  with one sample per numeric reading and none for text; ``/api/v1/status``
  counts the telegrams and exactly the errors the library counts;
- captures the decoder cannot read (no key published, corrupt on purpose)
  count their error and publish no state and no discovery.

Two streams no capture has are run the same way: a DSMR telegram with units
in other spellings, unknown and escape-worthy units and a text value with a
unit; an HDLC push of float registers holding NaN and infinities. So are nine
public captures of kinds the corpus lacks (PUBLIC: IEC 62056-21 readouts, DSMR 2.2,
LLC, a wrapper, a profile set in the configuration, 13 months of peaks). Every
capture runs a second time from the .mpy build at the captures' measured
heap floor (CORPUS_FLOOR_KB, plus test_gateway_heap.py's headroom), and a third
time from a ROMFS image at the floor beside it (ROM_CORPUS_FLOOR_KB, the same
headroom), and must lose nothing.

One gateway per capture and setting, run once and shared by the checks of that
capture (about half a second each; the module takes ~80 s). The fixes these
runs led to (discovery units, NaN in VSE and /metrics, /metrics in pieces, the
lent request head buffer) each have a focused test at the end.
"""

import json
import math
import os
import re
import socket
import threading
import time

import pytest

import decoder
import decoder_support as enc
from decoder_support import decode_all, dsmr_telegram
from gateway_support import MOSQUITTO, Broker, Gateway, Subscriber, compiled_code, free_port, wait_until
from test_corpus import EXPECT, UNDECODABLE


# The gateway from source, with room to compile: the compiler's heap comes on top of the
# gateway's (at 256k the Smarty capture's first /metrics, compiling metrics.py beside a
# DSMR parser compiled from source, ran out; 264k held; at 288k the 146-code DSMR telegram's
# first /metrics ran out once in a fresh clone on 2026-11-26, after the DSMR and framer
# fixes of that noon grew the code compiled beside it). What the device loads, .mpy
# files, is held to its floor by test_every_capture_runs_at_the_documented_heap_floor.
HEAP = "320k"
# Piece sizes the meter port cycles through: 1 byte, odd primes and one larger than
# a HDLC header, so over a capture every frame boundary falls inside some piece.
PIECES = (1, 7, 3, 13, 2, 29, 5, 64, 11)
PAUSE = 0.001  # seconds between pieces (TCP_NODELAY): the gateway reads them apart
# Seconds between status reads while a capture is fed; a floor is bisected at 0.005.
POLL_S = float(os.environ.get("CORPUS_POLL_S", "0.2"))
COPIES = 2  # the capture is sent this many times back to back
SETTLE = 0.5  # seconds to wait for a publish that must not come
TIMEOUT = 20  # seconds for a run; one takes about half a second

# Home Assistant's accepted units per sensor device class (homeassistant.const
# Unit* enums and sensor/const.py DEVICE_CLASS_UNITS), for the classes a meter can use.
HA_UNITS = {
    "energy": {"Wh", "kWh", "MWh", "GWh", "TWh", "MJ", "GJ"},
    "reactive_energy": {"varh", "kvarh"},
    "power": {"W", "kW", "MW", "GW", "TW", "mW"},
    "reactive_power": {"var", "kvar", "mvar"},
    "apparent_power": {"VA", "kVA", "mVA"},
    "voltage": {"V", "mV", "kV", "MV"},
    "current": {"A", "mA"},
    "frequency": {"Hz", "kHz", "MHz", "GHz"},
    "power_factor": {None, "%"},
    "gas": {"m\u00b3", "ft\u00b3", "CCF"},  # an M-Bus channel's register, by its device type
    "water": {"m\u00b3", "ft\u00b3", "CCF", "L", "gal"},
}
# Classes whose values only grow (meter registers): the only ones given total_increasing.
TOTALS = {"energy", "reactive_energy"}
STATE_CLASSES = {"measurement", "total", "total_increasing"}
VOLUMES = {"m\u00b3"}  # gas or water registers: growing totals (class gas or water by device type)
APPARENT_ENERGY = {"VAh", "kVAh"}  # growing totals too, of no class (Home Assistant has none)

PROM_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*$")
PROM_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*$")
PROM_FLOAT = re.compile(r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|Inf|NaN)$")


def capture_bytes(entry):
    return bytes.fromhex(entry["hex"]) if entry.get("hex") else entry["text"].encode("latin-1")


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- what the decoder library says ------------------------------------------------


class Expected:
    """The decoder library's reading of the bytes the gateway gets."""

    def __init__(self, entry):
        self.data = capture_bytes(entry) * COPIES
        self.key = entry.get("key_hex") or ""
        self.auth_key = entry.get("auth_key_hex") or ""
        self.profile = entry.get("profile", "auto")  # a public capture's (meter.profile)
        telegrams, dec = decode_all(self.data, key=self.key or None, auth_key=self.auth_key or None,
                                    profile=self.profile)
        self.telegrams = len(telegrams)
        self.errors = dict(dec.errors.counts)
        self.state = merged(telegrams)
        self.raw = {}  # code -> (value, unit) as the decoder holds it (NaN stays NaN)
        for t in telegrams:
            self.raw.update(t.readings)


def merged(telegrams):
    """The store's contract, written out: latest value per code, latest non-null header."""
    doc = {"meter_time": None, "system_title": None, "frame_counter": None, "readings": {}}
    for t in telegrams:
        one = json.loads(decoder.telegram_json(t))
        doc["readings"].update(one["readings"])
        for field in ("meter_time", "system_title", "frame_counter"):
            if one[field] is not None:
                doc[field] = one[field]
    return doc


def differences(got, want, where="state"):
    """Human-readable differences between two JSON documents (floats to 1e-9)."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = ["%s: missing %s" % (where, k) for k in want if k not in got]
        out += ["%s: unexpected %s" % (where, k) for k in got if k not in want]
        for k in want:
            if k in got:
                out += differences(got[k], want[k], "%s.%s" % (where, k))
        return out
    if isinstance(want, list) and isinstance(got, list) and len(got) == len(want):
        return sum([differences(g, w, "%s[%d]" % (where, i)) for i, (g, w) in enumerate(zip(got, want))], [])
    if is_number(want) and is_number(got) and (isinstance(want, float) or isinstance(got, float)):
        # JSON writers may spell 1.0 as 1 (the decoder's %.15g) or 1.0 (json.dumps).
        return [] if math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12) else ["%s: got %r, want %r" % (where, got, want)]
    if type(got) is type(want) and got == want:
        return []
    return ["%s: got %r, want %r" % (where, got, want)]


# --- the rig -------------------------------------------------------------------------


class MeterPort:
    """A one-client TCP meter port that sends ``data`` in PIECES and then stays quiet."""

    def __init__(self, data):
        self.data = data
        self.sent = 0
        self._stop = threading.Event()
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        self._listener.close()

    def _run(self):
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            with client:
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._send(client)
                self._stop.wait()  # a meter between pushes: connected, silent
            return

    def _send(self, client):
        pos = index = 0
        while pos < len(self.data) and not self._stop.is_set():
            size = PIECES[index % len(PIECES)]
            client.sendall(self.data[pos : pos + size])
            pos += size
            index += 1
            self.sent = min(pos, len(self.data))
            time.sleep(PAUSE)


class Run:
    """Everything one gateway published and served for one capture."""

    def __init__(self, cid, device, expected):
        self.cid = cid
        self.device = device
        self.expected = expected
        self.state_topic = "meterlink/%s/state" % device
        self.states = []
        self.discovery = {}
        self.vse = {}
        self.availability = None
        self.retained = {}  # topic -> payload, as a client connecting afterwards gets them
        self.readings = self.metrics = self.status = None
        self.log = ""


@pytest.fixture(scope="module")
def mqtt(tmp_path_factory):
    # Part of `make test` on purpose, never skipped: without a broker it fails and says why.
    assert os.path.exists(MOSQUITTO), "mosquitto is needed (.ci/run installs it: apt-get install mosquitto)"
    broker = Broker(tmp_path_factory.mktemp("broker")).start()
    sub = Subscriber(broker.port)
    yield broker, sub
    sub.close()
    broker.stop()


@pytest.fixture(scope="module")
def runs(mqtt, corpus, tmp_path_factory):
    """cid -> Run, each capture's gateway run once on first use."""
    broker, sub = mqtt
    done = {}
    entries = _every_capture(corpus)
    order = sorted(entries)

    def get(cid):
        if cid not in done:
            device = "cap%02d" % order.index(cid)
            done[cid] = run_capture(cid, device, Expected(entries[cid]), broker, sub,
                                    tmp_path_factory.mktemp(device))
        return done[cid]

    return get


def gateway_config(expected, meter_port, broker_port, device):
    return {
        "meter": {"source": "tcp://127.0.0.1:%d" % meter_port, "key": expected.key,
                  "auth_key": expected.auth_key, "profile": expected.profile},
        "mqtt": {"host": "127.0.0.1", "port": broker_port, "layout": "vse", "vse_group": device},
        "http": {"port": free_port()},
        "device_id": device,
    }


def run_capture(cid, device, expected, broker, sub, tmpdir, heap=HEAP, code=(None, None), settled=None):
    """One gateway fed one capture; ``code`` = (firmware, library) .mpy trees or sources;
    ``settled(state)`` says when the last state is the final one (default: = expected)."""
    if settled is None:
        settled = lambda state: not differences(state, expected.state)  # noqa: E731
    run = Run(cid, device, expected)
    port = MeterPort(expected.data).start()
    gw = Gateway(tmpdir, gateway_config(expected, port.port, broker.port, device), heap, *code).start()
    try:
        _wait_for_all_bytes(gw, expected)
        if expected.telegrams:
            # The last state published is the merged snapshot once the gateway is done.
            wait_until(lambda: sub.on(run.state_topic) and settled(json.loads(sub.last(run.state_topic))),
                       TIMEOUT, what=lambda: "the final state of %s\n%s" % (cid, gw.log()))
            # The VSE form follows each state: wait for the one after the last state.
            wait_until(lambda: len(_vse_messages(sub, device)) >= len(sub.on(run.state_topic)), TIMEOUT,
                       what=lambda: "the VSE message after the last state\n" + gw.log())
        else:
            time.sleep(SETTLE)  # a state or config would have gone out by now
        _collect(run, gw, sub)
    finally:
        gw.stop()
        port.stop()
        run.log = gw.log()
    return run


def _wait_for_all_bytes(gw, expected):
    def consumed():
        try:
            status = gw.status()
        except OSError:
            return None  # not listening yet
        return status["meter"]["bytes"] == len(expected.data) and status["telegrams"] >= expected.telegrams

    # Polled gently: each status request costs the gateway heap while it decodes.
    wait_until(consumed, TIMEOUT, step=POLL_S, what=lambda: "the gateway to read every byte\n" + gw.log())


def strict_json(data):
    """json.loads that refuses NaN and Infinity, which are not JSON (RFC 8259)."""
    def refuse(name):
        raise ValueError("%s is not JSON" % name)

    return json.loads(data, parse_constant=refuse)


def retained_messages(port, device, count):
    """What a client subscribing now gets of this device's topics: the retained messages
    (``count`` of them are awaited). Its own client id: paho's Subscriber id is per process."""
    import paho.mqtt.client as paho

    got, lock = {}, threading.Lock()

    def on_message(client, userdata, msg):
        with lock:
            got[msg.topic] = (bytes(msg.payload), msg.retain)

    topics = ["meterlink/%s/#" % device, "homeassistant/sensor/%s/#" % device, "dt/%s/#" % device]
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="retained-%s-%d" % (device, os.getpid()))
    client.on_message = on_message
    client.on_connect = lambda c, u, f, rc, p=None: [c.subscribe(t) for t in topics]
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        wait_until(lambda: len(got) >= count, 10, what=lambda: "%d retained messages, got %s" % (count, sorted(got)))
        time.sleep(0.05)  # one more would be a surprise: give it the chance to show
    finally:
        client.disconnect()  # first: the loop thread then ends at once, not after its 1 s select
        client.loop_stop()
    with lock:
        assert all(flag for _, flag in got.values()), got
        return {topic: payload for topic, (payload, _) in got.items()}


def _vse_messages(sub, device):
    with sub.lock:
        return [m for m in sub.messages if m[0].startswith("dt/%s/" % device)]


def _collect(run, gw, sub):
    run.states = [strict_json(m[1]) for m in sub.on(run.state_topic)]
    for topic in sub.topics():
        if topic.startswith("homeassistant/sensor/%s/" % run.device):
            run.discovery[topic] = strict_json(sub.last(topic))
        elif topic.startswith("dt/%s/" % run.device):
            run.vse[topic] = strict_json(sub.last(topic))
    run.availability = sub.last("meterlink/%s/availability" % run.device)
    run.retained = retained_messages(sub.client.port, run.device, len(run.discovery) + 2
                                     if run.states else 1)
    run.readings = _http(gw, "/api/v1/readings", "application/json")
    run.metrics = _http(gw, "/metrics", "text/plain").decode("utf-8")
    run.status = strict_json(_http(gw, "/api/v1/status", "application/json"))


def _http(gw, path, content_type):
    status, headers, body = gw.http(path)
    assert status == 200, (path, body)
    assert headers["Content-Type"].startswith(content_type), (path, headers)
    return body


# Meter text no capture has: units in other spellings, unknown units, a unit with
# the characters Prometheus labels must escape, and a text value with an energy unit.
ODD_UNITS = [
    "0-0:1.0.0(251124120000W)", "1-0:3.8.0(000123.456*kVArh)", "1-0:3.7.0(00.120*kVAr)",
    '1-0:99.1.0(12.5*a"b\\c)', "1-0:99.2.0(7*furlong)", "1-0:99.3.0(abc*kWh)",
    "0-1:24.2.1(251124120000W)(00012.345*m3)", "0-0:96.13.0(48656c6c6f)",
]


def float_specials():
    """A plain HDLC push of float registers holding NaN and infinities (IEEE 754 values a
    float32 register can carry) next to text that JSON and Prometheus must escape."""
    body = enc.tagged_body([
        ("1-0:13.7.0", enc.float32(float("nan")), None),
        ("1-0:1.7.0", enc.float32(float("inf")), (0, 27)),  # unit 27: W
        ("1-0:2.7.0", enc.float64(float("-inf")), (0, 27)),
        ("1-0:1.8.0", enc.float64(1234.5), (0, 30)),  # unit 30: Wh
        ("0-0:96.1.0", enc.visible('m"e\\ter'), None),
        ("0-0:96.1.1", enc.octets(b"ABC\x00\x01"), None),
    ])
    when = enc.cosem_datetime(2026, 1, 2, 3, 4, 5, deviation=-60)
    return enc.hdlc_segmented(enc.data_notification(body, when=when))


# DSMR 5.0.2's longest text message, 1024 characters as 2048 hex digits: a 2.4 kB
# telegram, more than the HDLC-sized frame buffer the gateway starts with.
LONG_MESSAGE = ["1-3:0.2.8(50)", "0-0:1.0.0(251124120000W)", "1-0:1.8.1(001234.567*kWh)",
                "1-0:1.7.0(01.193*kW)", "0-0:96.13.0(" + "4d65746572206d657373616765210a" * 68 + "4f4b" * 2 + ")"]



def _public_capture(cid):
    with open(os.path.join(os.path.dirname(__file__), "public_captures.json")) as f:
        return capture_bytes(next(entry for entry in json.load(f) if entry["id"] == cid))


# Beyond the corpus: built telegrams, and the largest DSMR telegram public (Lithuanian ESO's
# "max" set, 2.4 kB and 100 values), which needed a 240 kB heap until a snapshot too big
# for its buffer went out in pieces (pass 30; measured in pass 31 to hold from 192 kB).
SYNTHETIC = {"synthetic-dsmr-odd-units": dsmr_telegram(ODD_UNITS), "synthetic-hdlc-float-specials": float_specials(),
             "synthetic-dsmr-long-message": dsmr_telegram(LONG_MESSAGE) * 2,
             "lt-eso-setp1-max-1ph": _public_capture("lt-eso-setp1-max-1ph")}

# Public captures (host_tests/public_captures.json) of kinds the corpus has none of, run as
# its captures are, with their keys and profile. All 107 went through the gateway once, in
# both layouts, two and three copies, at this floor and the ROMFS one (pass 39): these
# differ in framing or were the ones that showed something (the UH50's number, the VSE
# topic of a readout); the E.ON telegram, the longest, ran out at 200 + 8 kB as the IE.5 does.
PUBLIC = (
    "de-lgz-zmr120-readout-letter-codes",  # IEC 62056-21 readout: letter codes, no "A-B:"
    "xx-lgz-uh50-heat-readout-several-sets-per-line",  # a heat meter's, several data sets a line
    "nl-dsmr22-iskra-gas-on-channel-2",  # DSMR 2.2: the gas value on a line of its own
    "hu-eon-sagemcom-dsmr5",  # the longest DSMR telegram of them, 1.4 kB
    "no-kamstrup-1phase-null-pairs",  # LLC before a bare APDU; null-data values
    "dk-kamstrup-ct-milliamps",  # meter.profile kamstrup-ct from the configuration
    "xx-eict-wrapper-ciphered-push",  # an IEC 62056-47 wrapper before a ciphered push
    "be-fluvius-thirteen-full-month-peaks",  # 13 months of peaks (1.3 kB), a byte after the CRC
    "xx-lgz-zmf100-readout-status-word",  # a readout's hex status word, as text
)


def _public_entries():
    with open(os.path.join(os.path.dirname(__file__), "public_captures.json")) as f:
        return dict((entry["id"], entry) for entry in json.load(f) if entry["id"] in PUBLIC)

DECODABLE = sorted(EXPECT) + sorted(SYNTHETIC) + sorted(PUBLIC)
NO_STATE = sorted(UNDECODABLE)


def test_every_capture_is_run(corpus):
    assert set(DECODABLE) | set(NO_STATE) == set(corpus) | set(SYNTHETIC) | set(PUBLIC)
    assert sorted(_public_entries()) == sorted(PUBLIC)


# --- MQTT ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cid", DECODABLE)
def test_state_topic_holds_what_the_decoder_reads(runs, cid):
    run = runs(cid)
    assert run.states, run.log
    assert differences(run.states[-1], run.expected.state) == []
    # Nothing else was ever published: every state is a prefix of the stream's merge.
    for state in run.states:
        assert set(state["readings"]) <= set(run.expected.state["readings"])
    assert run.availability == b"online"


@pytest.mark.parametrize("cid", DECODABLE)
def test_state_and_discovery_are_retained_as_last_published(runs, cid):
    run = runs(cid)
    retained = {topic: strict_json(payload) for topic, payload in run.retained.items()
                if not topic.endswith("/availability")}
    published = dict(run.discovery)  # the VSE form is not retained: a data stream
    published[run.state_topic] = run.states[-1]
    assert differences(retained, published, "retained") == []
    assert run.retained["meterlink/%s/availability" % run.device] == b"online"


@pytest.mark.parametrize("cid", DECODABLE)
def test_every_reading_has_a_sane_discovery_config(runs, cid):
    run = runs(cid)
    readings = run.expected.state["readings"]
    by_code = {}
    for topic, doc in run.discovery.items():
        # The value, or text cut to 255 characters (a list reading as its text first).
        code = re.match(r"\{\{ (?:\(\(\[)?value_json\.readings\['([^']+)'\]\.value"
                        r"(?:, ''\] \| reject\('none'\) \| first\) \| string\)\[:255\])?"
                        r" if '([^']+)' in value_json\.readings else '' \}\}$", doc["value_template"])
        assert code.group(1) == code.group(2), doc["value_template"]
        code = code.group(1)
        assert code not in by_code, "two configs for %s" % code
        by_code[code] = (topic, doc)
    assert sorted(by_code) == sorted(readings)
    unique_ids = set()
    for code, (topic, doc) in by_code.items():
        assert_sane_config(code, topic, doc, run.expected.raw[code], run)
        unique_ids.add(doc["unique_id"])
    assert len(unique_ids) == len(by_code)


def assert_sane_config(code, topic, doc, reading, run):
    value, unit = reading  # as decoded: a float register holding NaN is still a number
    assert re.match(r"homeassistant/sensor/%s/[a-zA-Z0-9_-]+/config$" % run.device, topic), topic
    assert doc["unique_id"] == "%s_%s" % (run.device, topic.split("/")[3])
    assert doc["state_topic"] == run.state_topic
    assert doc["availability_topic"] == "meterlink/%s/availability" % run.device
    assert isinstance(doc["name"], str) and doc["name"], code
    assert doc["device"]["identifiers"] == ["meterlink_%s" % run.device]
    cls, state_class = doc.get("device_class"), doc.get("state_class")
    if not is_number(value):
        # Text, lists, booleans: Home Assistant rejects a numeric class on them.
        assert cls is None and state_class is None and "unit_of_measurement" not in doc, (code, doc)
        return
    assert same_unit(doc.get("unit_of_measurement"), unit), (code, unit, doc)
    if cls is not None:
        assert doc.get("unit_of_measurement") in HA_UNITS[cls], (code, doc)
    if state_class is not None:
        assert state_class in STATE_CLASSES, (code, doc)
        growing = cls in TOTALS or doc.get("unit_of_measurement") in VOLUMES | APPARENT_ENERGY
        assert (state_class == "total_increasing") == growing, (code, doc)


def same_unit(shown, sent):
    """The config may spell a unit as Home Assistant does (kvarh for kVArh, m³ for m3),
    never change it."""
    spelled = {"m3": "m\u00b3"}
    return (shown or "").lower() == spelled.get(sent, sent or "").lower()


# The VSE form's units (smartmeter-datacollector 2.0 writes W, Wh, var, varh, V, A,
# Hz and unitless power factors), and what a meter's prefixed unit is in them.
VSE_UNITS = {"w", "wh", "var", "varh", "va", "vah", "v", "a", "hz"}
VSE_PREFIX = {"k": 1000, "K": 1000, "M": 1000000, "m": 0.001}


def vse_value(value, unit):
    """The reading as the VSE form carries it, or None when it carries no such reading."""
    if not is_number(value):
        return None
    if unit is None or unit.lower() in VSE_UNITS:
        return value
    if unit[0] in VSE_PREFIX and unit[1:].lower() in VSE_UNITS:
        return value * VSE_PREFIX[unit[0]]
    return None


# C of the codes the VSE form leaves out: ids and constants (0), service entries, error
# registers and profiles (93-99, or the letters C, F, L, P), as smartmeter-datacollector
# publishes none of them.
NOT_MEASURED = {0, -1} | set(range(93, 100))


# The codes that name the meter in the VSE topic, README's order: 96.1.4 is a P1 version,
# a readout's serial and meter number come with and without E.
VSE_IDS = (["0-0:42.0.0", "0-0:96.1.0", "0-0:96.1.1", "0-0:0.0.0"] + ["0-0:96.1.%d" % e for e in (2, 3, 5, 6, 7, 8, 9)]
           + ["C.1.0", "0.0.0", "C.1", "0.0"])


def quantity(short):
    c = short.split(".")[0]
    return int(c) if c.isdigit() else -1


def vse_time(meter_time):
    """The meter's time in UTC; one without an offset is Swiss local time."""
    import datetime
    import zoneinfo

    t = datetime.datetime.fromisoformat(meter_time.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=zoneinfo.ZoneInfo("Europe/Zurich"))
    return t.astimezone(datetime.timezone.utc).isoformat()


@pytest.mark.parametrize("cid", DECODABLE)
def test_vse_topic_carries_the_electricity_readings_in_base_units_and_utc(runs, cid):
    run = runs(cid)
    state = run.expected.state
    assert len(run.vse) == 1, sorted(run.vse)
    (topic, doc), = run.vse.items()
    if state["meter_time"] is None:  # a meter without a clock: the gateway's UTC time
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$", doc["meter"]["ts"]), doc["meter"]["ts"]
        want = {"ts": doc["meter"]["ts"]}
    else:
        want = {"ts": vse_time(state["meter_time"])}
    for code in sorted(state["readings"]):
        rest = code.split(":")[-1]
        short = ".".join(rest.split(".")[:3])
        readout = ":" not in code and code[:1].isdigit()  # IEC 62056-21: an electricity meter's
        if not (code.startswith("1-") or readout) or "/" in code or short in want or quantity(short) in NOT_MEASURED:
            continue  # gas, water, ids, texts, versions, positional "#n" and attribute readings
        if rest.count(".") > 2 or "*" in rest or "&" in rest:
            continue  # value group F: a past billing period's value (1.8.0*01, 6.8*01, 1.8.0&01)
        value = vse_value(state["readings"][code]["value"], state["readings"][code].get("unit"))
        if value is not None:  # null (NaN, infinities) is no reading
            want[short] = value
    assert differences(doc, {"meter": want}, "vse") == []
    codes = [c for c in VSE_IDS if c in state["readings"]]
    codes += [c for c in sorted(state["readings"]) if re.match(r"1-\d+:0\.0\.\d$", c)]
    ids = [re.sub(r"[^A-Za-z0-9_-]", "", str(state["readings"][c]["value"]))[:32] for c in codes
           if type(state["readings"][c]["value"]) in (str, int)]
    ids = [i for i in ids if i]
    level = topic.split("/")[2]
    assert re.match(r"[A-Za-z0-9_-]{1,32}$", level), topic
    assert level == (ids[0] if ids else run.device)


# --- HTTP ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cid", DECODABLE)
def test_api_readings_equal_the_state(runs, cid):
    run = runs(cid)
    assert differences(strict_json(run.readings), run.states[-1], "api") == []


@pytest.mark.parametrize("cid", DECODABLE + NO_STATE)
def test_metrics_are_valid_prometheus_text_with_every_numeric_reading(runs, cid):
    run = runs(cid)
    samples = parse_prometheus(run.metrics)
    readings = {}
    for name, labels, value in samples:
        if name == "meterlink_reading":
            assert set(labels) == {"obis", "unit"}, labels
            assert labels["obis"] not in readings, "two samples for %s" % labels["obis"]
            readings[labels["obis"]] = (value, labels["unit"])
    want = {code: pair for code, pair in run.expected.raw.items() if is_number(pair[0])}
    assert sorted(readings) == sorted(want)
    for code, (value, unit) in want.items():
        got, got_unit = readings[code]
        assert got == pytest.approx(value, rel=1e-12, nan_ok=True), code
        assert got_unit == (unit or ""), code
    counts = {labels["kind"]: value for name, labels, value in samples if name == "meterlink_decode_errors_total"}
    assert counts == run.expected.errors
    total = [value for name, _, value in samples if name == "meterlink_telegrams_total"]
    assert total == [run.expected.telegrams]


@pytest.mark.parametrize("cid", DECODABLE + NO_STATE)
def test_metrics_read_the_same_through_the_prometheus_projects_own_parser(runs, cid):
    # A second reader of the text, not ours: prometheus_client's exposition parser.
    from prometheus_client.parser import text_string_to_metric_families

    text = runs(cid).metrics
    theirs = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            theirs.append((sample.name, sample.labels, sample.value))
    ours = parse_prometheus(text)
    assert len(theirs) == len(ours)
    for (name, labels, value), want in zip(theirs, ours):
        assert (name, labels) == want[:2]
        assert value == pytest.approx(want[2], rel=1e-15, nan_ok=True), name


def parse_prometheus(text):
    """Text exposition format 0.0.4, strictly: -> [(name, {label: value}, float)].

    Names match [a-zA-Z_:][a-zA-Z0-9_:]*, label values use only the escapes
    \\\\ \\" \\n, a TYPE line comes once per family and before its samples,
    values are Go floats, the text ends with a newline.
    """
    assert text.endswith("\n")
    typed, samples, seen = {}, [], set()
    for line in text[:-1].split("\n"):
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                assert PROM_NAME.match(parts[2]), line
                if parts[1] == "TYPE":
                    assert parts[2] not in typed and parts[2] not in seen, line
                    assert parts[3] in ("counter", "gauge", "histogram", "summary", "untyped"), line
                    typed[parts[2]] = parts[3]
            continue
        assert line, "blank line inside the exposition"
        name, labels, rest = _sample(line)
        assert PROM_NAME.match(name), line
        assert name in typed, "sample before its TYPE: " + line
        value = rest.split(" ")[0]
        assert PROM_FLOAT.match(value), line
        seen.add(name)
        samples.append((name, labels, float(value)))
    return samples


def _sample(line):
    match = re.match(r"([^{ ]+)(\{|\s)", line)
    assert match, line
    name, pos = match.group(1), match.end()
    labels = {}
    if match.group(2) == "{":
        while line[pos] != "}":
            eq = line.index("=", pos)
            label = line[pos:eq]
            assert PROM_LABEL_NAME.match(label) and label not in labels, line
            assert line[eq + 1] == '"', line
            value, pos = _label_value(line, eq + 2)
            labels[label] = value
            if line[pos] == ",":
                pos += 1
        pos += 1
        assert line[pos] == " ", line
        pos += 1
    return name, labels, line[pos:]


def _label_value(line, pos):
    out = []
    while line[pos] != '"':
        if line[pos] == "\\":
            escaped = line[pos + 1]
            assert escaped in '\\"n', "bad escape in " + line
            out.append("\n" if escaped == "n" else escaped)
            pos += 2
        else:
            assert line[pos] != "\n"
            out.append(line[pos])
            pos += 1
    return "".join(out), pos + 1


@pytest.mark.parametrize("cid", DECODABLE)
def test_status_counts_the_telegrams_and_exactly_the_decoders_errors(runs, cid):
    run = runs(cid)
    status = run.status
    assert status["telegrams"] == run.expected.telegrams
    assert status["errors"] == run.expected.errors
    assert status["meter"]["bytes"] == len(run.expected.data)
    assert status["meter"]["readings"] == len(run.expected.state["readings"])
    assert status["meter"]["memory_errors"] == 0
    assert status["meter"]["connects"] == 1 and status["meter"]["connected"] is True
    assert status["mqtt"]["connected"] is True and status["mqtt"]["last_error"] is None
    if not any(run.expected.errors.values()):
        assert status["last_error"] is None


# --- captures the decoder cannot read -----------------------------------------------------


@pytest.mark.parametrize("cid", NO_STATE)
def test_an_unreadable_capture_is_counted_and_publishes_no_state(runs, cid):
    run = runs(cid)
    _, kind = UNDECODABLE[cid]
    assert run.expected.telegrams == 0
    assert run.status["telegrams"] == 0
    assert run.status["errors"] == run.expected.errors and run.status["errors"][kind] >= 1
    assert run.status["last_error"]
    assert run.states == [] and run.discovery == {} and run.vse == {}
    assert list(run.retained) == ["meterlink/%s/availability" % run.device]
    assert json.loads(run.readings)["readings"] == {}
    assert run.availability == b"online"


# Decoder behaviour found by these runs, as strict xfails until the decoder is fixed: none
# open. (The XT211's bare APDUs were counted once and later copies skipped as noise, until
# apdu_parse measured their vendor shape.)
DECODER_ISSUES = {}


@pytest.mark.parametrize("cid", NO_STATE)
def test_every_copy_of_an_unreadable_capture_is_counted(runs, cid, request):
    if cid in DECODER_ISSUES:
        request.node.add_marker(pytest.mark.xfail(reason=DECODER_ISSUES[cid], strict=True))
    _, kind = UNDECODABLE[cid]
    assert runs(cid).status["errors"][kind] >= COPIES


# --- the discovery fixes these runs led to -----------------------------------------------


def discovery_docs(cid, runs):
    run = runs(cid)
    return {doc["value_template"].split("'")[1]: doc for doc in run.discovery.values()}


def test_units_in_another_spelling_get_home_assistants_spelling_and_class(runs):
    docs = discovery_docs("synthetic-dsmr-odd-units", runs)
    energy, power = docs["1-0:3.8.0"], docs["1-0:3.7.0"]
    assert (energy["unit_of_measurement"], energy["device_class"], energy["state_class"]) == \
        ("kvarh", "reactive_energy", "total_increasing")
    assert (power["unit_of_measurement"], power["device_class"], power["state_class"]) == \
        ("kvar", "reactive_power", "measurement")
    # The real LG E360 P1 capture spells them the same way.
    e360 = discovery_docs("dsmr-lg-e360-se", runs)
    assert e360["1-0:3.8.0"]["device_class"] == "reactive_energy"


def test_a_text_value_with_an_energy_unit_gets_no_unit_or_class(runs):
    doc = discovery_docs("synthetic-dsmr-odd-units", runs)["1-0:99.3.0"]
    assert not {"unit_of_measurement", "device_class", "state_class"} & set(doc)


def test_an_unknown_unit_is_shown_as_sent_without_a_class(runs):
    docs = discovery_docs("synthetic-dsmr-odd-units", runs)
    assert docs["1-0:99.2.0"]["unit_of_measurement"] == "furlong"
    assert docs["1-0:99.1.0"]["unit_of_measurement"] == 'a"b\\c'
    for code in ("1-0:99.1.0", "1-0:99.2.0"):
        assert "device_class" not in docs[code] and "state_class" not in docs[code]


def test_a_gas_or_water_register_is_a_growing_total_in_cubic_metres(runs):
    doc = discovery_docs("synthetic-dsmr-odd-units", runs)["0-1:24.2.1"]
    assert (doc["unit_of_measurement"], doc["state_class"]) == ("m\u00b3", "total_increasing")
    assert "device_class" not in doc  # gas or water: only the M-Bus device type says


class PacedMeter(MeterPort):
    """A meter port that sends its telegrams ``gap`` seconds apart, as a meter does."""

    def __init__(self, telegrams, gap=1.5):
        MeterPort.__init__(self, b"".join(telegrams))
        self.telegrams, self.gap = telegrams, gap

    def _send(self, client):
        for telegram in self.telegrams:
            if self._stop.is_set():
                return
            client.sendall(telegram)
            self.sent += len(telegram)
            time.sleep(self.gap)


class _Keys:
    key = auth_key = ""
    profile = "auto"


def test_a_reading_first_announced_without_a_number_is_announced_again_with_its_unit(mqtt, tmp_path):
    # The config follows the first value seen: a DSMR "()" later filled in, a register null
    # before it counts, went without unit and classes (no statistics, no Energy dashboard)
    # until the next connection. Once a number, it is announced again, once.
    broker, sub = mqtt
    lines = ["0-0:1.0.0(231121153012W)", "1-0:1.8.1(000123.456*kWh)"]
    telegrams = [dsmr_telegram(lines + ["1-0:1.7.0()"]), dsmr_telegram(lines + ["1-0:1.7.0(01.500*kW)"]),
                 dsmr_telegram(lines + ["1-0:1.7.0(01.750*kW)"])]
    device = "reannounce"
    topic = "homeassistant/sensor/%s/obis_1_0_1_7_0/config" % device
    port = PacedMeter(telegrams).start()
    gw = Gateway(tmp_path, gateway_config(_Keys(), port.port, broker.port, device), HEAP).start()
    try:
        wait_until(lambda: len(sub.on("meterlink/%s/state" % device)) >= 3, TIMEOUT,
                   what=lambda: "three states\n" + gw.log())
    finally:
        gw.stop()
        port.stop()
    configs = [json.loads(payload) for _, payload, _, _ in sub.on(topic)]
    assert len(configs) == 2, configs
    assert "unit_of_measurement" not in configs[0]
    assert (configs[1]["unit_of_measurement"], configs[1]["device_class"], configs[1]["state_class"]) == \
        ("kW", "power", "measurement")
    energy = sub.on("homeassistant/sensor/%s/obis_1_0_1_8_1/config" % device)
    assert len(energy) == 1  # a number from the start: announced once


def test_metrics_escape_a_unit_with_quotes_and_backslashes(runs):
    text = runs("synthetic-dsmr-odd-units").metrics
    assert 'meterlink_reading{obis="1-0:99.1.0",unit="a\\"b\\\\c"} 12.5' in text


# --- the /metrics fix: found at 196 kB (.mpy), where the joined text (2.7 kB for the
# DSMR Iskra AM550 capture) failed to allocate and the scrape got a 500 ----------------


class _Routes:
    def __init__(self):
        self.handlers = {}

    def route(self, path, handler, methods=("GET",)):
        self.handlers[path] = handler


def _fake_app(readings):
    from types import SimpleNamespace as NS

    from app.store import Store
    from decoder.errors import ErrorLog

    store = Store()
    store.readings.update(readings)
    return NS(decoder=NS(errors=ErrorLog(), telegrams=1), store=store, uptime_s=lambda: 0, healthy=lambda: True,
              config_path=None,
              cfg={"device_id": "d", "meter": {"source": "tcp://x:1"}, "mqtt": {"host": "h"}},
              board=NS(name="unix", network_up=lambda: True, rssi=lambda: None, mem_free=lambda: 1000,
                       device_id=lambda: "d"),
              reader=NS(connected=True, connects=1, bytes_read=9, memory_errors=0),
              mqtt=NS(connected=True, connects=1, published=2, last_error=None, last_error_time=None,
                      memory_streak=0))


def test_metrics_go_out_in_small_pieces_never_one_block_of_the_whole_text():
    from app import api, metrics
    from web.message import JSON_PIECE

    readings = {"1-0:%d.8.%d" % (c, e): (123456.789 + c, "kWh") for c in range(1, 9) for e in range(5)}
    app = _fake_app(readings)
    routes = _Routes()
    api.register(routes, app)
    resp = routes.handlers["/metrics"](None)
    assert isinstance(resp.body, tuple) and len(resp.body) > 1
    longest_line = max(len(line) for line in metrics.lines(api.status(app), readings))
    assert max(len(piece) for piece in resp.body) < JSON_PIECE + longest_line
    text = b"".join(resp.body).decode()
    assert resp.content_type == metrics.CONTENT_TYPE
    assert len(text) > 3000  # more than one piece's worth, as on a real meter
    samples = parse_prometheus(text)
    assert len([s for s in samples if s[0] == "meterlink_reading"]) == len(readings)


# --- NaN and infinities from float registers: found with float_specials() ---------------
# The VSE payload went out as json.dumps text, which MicroPython writes as nan/inf (not
# JSON: Home Assistant and every strict parser refuse the whole message); /metrics wrote
# nan/inf where the Prometheus format spells NaN, +Inf, -Inf.


def test_the_vse_payload_leaves_out_nan_and_infinities_and_stays_json(runs):
    run = runs("synthetic-hdlc-float-specials")
    (topic, doc), = run.vse.items()  # strict_json parsed it
    assert topic == "dt/%s/meter/ds" % run.device  # the id 'm"e\\ter' made topic-safe
    assert doc["meter"] == {"ts": "2026-01-02T02:04:05+00:00", "1.8.0": 1234.5}


def test_metrics_spell_nan_and_infinities_as_prometheus_does(runs):
    lines = runs("synthetic-hdlc-float-specials").metrics.splitlines()
    assert 'meterlink_reading{obis="1-0:13.7.0",unit=""} NaN' in lines
    assert 'meterlink_reading{obis="1-0:1.7.0",unit="W"} +Inf' in lines
    assert 'meterlink_reading{obis="1-0:2.7.0",unit="W"} -Inf' in lines


def test_the_state_holds_null_for_nan_and_the_texts_escaped(runs):
    readings = runs("synthetic-hdlc-float-specials").states[-1]["readings"]
    assert readings["1-0:13.7.0"] == {"value": None}
    assert readings["1-0:1.7.0"] == {"value": None, "unit": "W"}
    assert readings["0-0:96.1.0"] == {"value": 'm"e\\ter'}
    assert readings["0-0:96.1.1"] == {"value": "4142430001"}  # octet-string id: hex


# --- every capture at the documented heap floor -------------------------------------------
# test_gateway_heap.py holds the gateway's floor with SiL pushes only (160 kB from .mpy);
# real meters load other parts (DSMR parser, M-Bus, untagged lists, GBT and segment
# buffers) and bigger snapshots, so the captures have a floor of their own: 188 kB from the
# .mpy build, set by hr-ie5-raw-untagged (then every other capture held at 176 kB; bisection
# in 4 kB steps). It was 180 kB until the untagged value lists grew from 4 to 16 (decoder/
# lists.py, ~2.5 kB of code and table that a meter of values only loads), then 184 kB until
# the eighth pass's decoder fixes (~1 kB of code): at 184 kB hr-ie5 then failed 2 runs of 8
# with both cores busy (as on the CI machine, where it failed once), at 188 kB none of 10;
# at 172 kB four other captures failed. Measured again in the twelfth pass (quiet machine):
# at 184 kB the IE.5, the Luxembourg Smarty and the synthetic long DSMR message fail, every
# other capture holds; at 176 kB 22 fail. 188 kB held every quiet run, but once, with two
# more gateways and a benchmark running beside the suite, the long DSMR message (a 4 kB
# buffer it grows into, ~7 kB of parse) ran out at 188 + 8 kB: the floor is set one step
# up. In the nineteenth pass the IE.5 ran out of memory at 192 + 8 kB in about one run of
# ten, for the tree the pass started from as for its own (1 of 10, and 3 of 19: the
# rig's step that moved the gateway's own floor from 172 to 176 kB the pass before);
# at 196 + 8 kB none of 15 runs of the IE.5, the Smarty and the long message failed.
# In pass 31 the IE.5 ran out at 196 + 8 kB in the full suite once, and in 7 of 15 runs
# with a busy loop on the second core, at 0854385 as at that pass's end; at 200 + 8 kB in
# none of 15 that way. CI then failed it at 200 + 8 kB. Pass 32 found the variable part: a
# status request in flight while a push is decoded. Polled every 5 ms instead of 0.2 s, the
# IE.5 ran out at 200 + 8 kB in 5 runs of 6 and the long DSMR message at 204 + 8 kB in one
# of 3 runs of every capture; at 208 + 8 kB all captures held in 6 such runs with the second
# core busy. The floor is set under that load, not under the suite's gentle poll
# (_wait_for_all_bytes); CORPUS_POLL_S=0.005 runs the floor tests that way again.
# Every capture runs at that floor plus test_gateway_heap.py's headroom and must
# decode, publish and serve all it does at 256 kB.
# Pass 39 added seven public captures (PUBLIC): under that load, with the second core busy,
# E.ON Hungary's DSMR telegram ran out at 208 + 8 kB in 2 runs of 20 and the UH50 readout's
# /metrics answered 503 there once in a CI run; at 212 + 8 kB they, the IE.5, the Smarty and
# the long DSMR message held 20 runs of 20.
CORPUS_FLOOR_KB = 212


def _every_capture(corpus):
    entries = dict(corpus)
    entries.update((cid, {"hex": data.hex()}) for cid, data in SYNTHETIC.items())
    entries.update(_public_entries())
    return entries


def _runner(mqtt, entries, tmp_path_factory, prefix, heap, code):
    # get(cid): one gateway run of the capture entries[cid] in ``heap``.
    broker, sub = mqtt
    order = sorted(entries)

    def get(cid):
        device = "%s%02d" % (prefix, order.index(cid))
        return run_capture(cid, device, Expected(entries[cid]), broker, sub, tmp_path_factory.mktemp(device),
                           heap, code)

    return get


@pytest.fixture(scope="module")
def floor_runs(mqtt, corpus, tmp_path_factory):
    from test_gateway_heap import HEADROOM_KB

    return _runner(mqtt, _every_capture(corpus), tmp_path_factory, "floor", "%dk" % (CORPUS_FLOOR_KB + HEADROOM_KB),
                   compiled_code())


@pytest.mark.parametrize("cid", DECODABLE + NO_STATE)
def test_every_capture_runs_at_the_documented_heap_floor(floor_runs, cid):
    _assert_all_a_roomy_heap_gives(floor_runs(cid))


def _assert_all_a_roomy_heap_gives(run):
    # every byte read, the final state published, HTTP 200s: all a roomy heap gives
    assert "MemoryError" not in run.log and "out of memory" not in run.log, run.log
    assert run.status["meter"]["memory_errors"] == 0
    assert run.status["telegrams"] == run.expected.telegrams
    assert run.status["errors"] == run.expected.errors
    if run.expected.telegrams:
        assert differences(run.states[-1], run.expected.state) == []
        assert differences(strict_json(run.readings), run.expected.state, "api") == []


# --- every capture beside a ROMFS image, as a device with a ROMFS partition runs ------------
# The .mpy floor above is mostly bytecode in the heap; from a ROMFS image (tools/romfs.py,
# test_romfs_gateway.py: SiL pushes hold from 120 kB beside it) the bytecode stays in the
# stand-in flash and what a meter's own code paths cost in RAM shows. Bisected as the floor
# above, with a status read every 5 ms (CORPUS_POLL_S=0.005) in pass 32: at 124 + 8 kB the
# L+G E360 DSMR, the IE.5 and the long DSMR message ran out (2 runs of 2), at 128 + 8 kB the
# IE.5 in 2 of 2 (the long message too in one), at 132 + 8 kB the long message in 1 of 2;
# at 136 + 8 and 140 + 8 kB every capture held 3 runs of 3 with the second core busy. The
# floor is the second of those: a step above what so few runs showed. Gently polled,
# 120 + 8 kB lost five captures, 128 + 8 none. In pass 39 the public captures run here
# (PUBLIC) brought E.ON Hungary's DSMR telegram, whose VSE message at 140 + 8 kB lost the
# broker in 2 runs of 8 (MemoryError allocating 752 bytes: the payload's dict of 38 keys
# growing from 37 slots to 47 while the old block is held); at 144 + 8 kB it held 10 runs
# of 10, and 6 of 6 with a status request every 5 ms. One step up, as the corpus's own.
ROM_CORPUS_FLOOR_KB = 144


@pytest.fixture(scope="module")
def rom_floor_runs(mqtt, corpus, tmp_path_factory):
    import bench_gateway
    from test_gateway_heap import HEADROOM_KB

    import romfs

    launcher, _, image = bench_gateway.rom_code()  # the image comes on top of the heap
    return _runner(mqtt, _every_capture(corpus), tmp_path_factory, "rom",
                   romfs.heap_beside(ROM_CORPUS_FLOOR_KB + HEADROOM_KB, image), (launcher, None))


@pytest.mark.parametrize("cid", DECODABLE + NO_STATE)
def test_every_capture_runs_beside_a_romfs_image_at_its_floor(rom_floor_runs, cid):
    _assert_all_a_roomy_heap_gives(rom_floor_runs(cid))


# --- the request head buffer: found at 196 kB (.mpy), where /api/v1/status answered 503
# on DSMR captures because a fresh 2 kB block for the request head was not to be had ----

HEAD_APP = """
import asyncio
from web.server import HttpServer, response
srv = HttpServer(%d, "127.0.0.1")
srv.route("/heads", lambda req: response(200, {"heads": [id(b) for b in srv._heads]}))
"""


@pytest.mark.parametrize("interpreter", ["micropython", "cpython"])
def test_requests_borrow_the_one_head_buffer_allocated_at_start(interpreter):
    from web_support import SERVE, Child, compiled_env, request

    port = free_port()
    # The .mpy build, as the device loads it: compiling the server from source takes a
    # few kB the device never spends, and left 64k short once the server grew.
    child = Child(interpreter, HEAD_APP % port + SERVE, heapsize="64k", env=compiled_env())
    try:
        child.wait_for("READY")
        first = json.loads(request(port, "GET", "/heads")[2])["heads"]
        assert len(first) == 1  # back in the pool before the handler runs
        for _ in range(3):
            assert json.loads(request(port, "GET", "/heads")[2])["heads"] == first
        # A client stalled mid-head holds the buffer: the next request gets its own, and
        # the one buffer is back (nothing else pooled) once the stalled one gives up.
        with socket.create_connection(("127.0.0.1", port), 5) as stalled:
            stalled.sendall(b"GET /heads HTTP/1.1\r\n")
            wait_until(lambda: json.loads(request(port, "GET", "/heads")[2])["heads"] == [], 5,
                       what="the stalled client to hold the buffer")
        wait_until(lambda: json.loads(request(port, "GET", "/heads")[2])["heads"] == first, 15,
                   what="the buffer to come back")
    finally:
        output = child.stop()
    assert "Traceback" not in output, output


# --- more codes than the store keeps: counted where the user looks ------------------------
# The store keeps at most MAX_CODES codes and counted the rest in a field nothing showed:
# a meter past the bound lost readings with /api/v1/status saying all was well.


def test_readings_past_the_store_bound_are_dropped_and_shown_in_status(mqtt, tmp_path):
    from app.store import MAX_CODES

    broker, sub = mqtt
    lines = ["1-0:%d.%d.0(%d*W)" % (1 + i // 10, 7 + i % 10, i) for i in range(MAX_CODES + 15)]
    expected = Expected({"hex": dsmr_telegram(["0-0:1.0.0(251124120000W)"] + lines).hex()})
    assert len(expected.raw) == MAX_CODES + 16
    run = run_capture("too-many-codes", "many", expected, broker, sub, tmp_path,
                      settled=lambda state: state["meter_time"] is not None)
    kept = run.states[-1]["readings"]
    # Which codes make it depends on dict order (MicroPython's is not insertion order).
    assert len(kept) == MAX_CODES
    for code, reading in kept.items():
        assert reading == expected.state["readings"][code], code
    assert run.status["meter"]["readings"] == MAX_CODES
    assert run.status["meter"]["dropped_readings"] == COPIES * (len(expected.raw) - MAX_CODES)
    assert len(run.discovery) == MAX_CODES


# --- a dongle started in the middle of a frame, at the same floor --------------------------
# The runs above start on a frame's first byte. A real dongle mostly starts inside a push, and
# the framer's hunt through that piece may load the code of a framing the line does not speak
# (bare.py for an E450, mbus.py for a DSMR meter, whose "kWh" holds a 68), which the first good
# frame unloads again (decoder/stream.py). The capture here opens a third of the way in.
MID_FRAME = ("ch-e450-vse2026", "ch-am550-ekz-2020", "at-kaifa-netznoe-doc", "dsmr-iskra-am550-v5")


@pytest.fixture(scope="module")
def mid_frame_runs(mqtt, corpus, tmp_path_factory):
    from test_gateway_heap import HEADROOM_KB

    entries = {}
    for cid in MID_FRAME:
        data = capture_bytes(corpus[cid])
        entries[cid] = dict(corpus[cid], hex=(data[len(data) // 3:] + data).hex())
    return _runner(mqtt, entries, tmp_path_factory, "mid", "%dk" % (CORPUS_FLOOR_KB + HEADROOM_KB), compiled_code())


@pytest.mark.parametrize("cid", MID_FRAME)
def test_a_gateway_started_in_the_middle_of_a_frame_runs_at_the_capture_floor(mid_frame_runs, cid):
    run = mid_frame_runs(cid)
    assert run.expected.telegrams >= 1
    _assert_all_a_roomy_heap_gives(run)
