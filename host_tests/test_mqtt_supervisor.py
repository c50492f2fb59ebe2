"""The MQTT supervisor (app/mqtt.py) against brokers that misbehave, under MicroPython.

A broker that accepts and then goes silent (a dead link that TCP does not
notice) must be given up after one keepalive and reconnected; a broker that
refuses the CONNECT must be retried with backoff; neither may end the task.
A broker that answers every ping keeps its one connection. Run with
umqtt.simple from .venv/mplib and a keepalive of 2 s (a ping every second).
"""

import json
import socket
import threading
import time

import pytest

from net_support import FakeNameServer, silent_host
from mp import run_micropython

# A publisher on an empty store, against a broker on the port given, backing off 0.2 s.
PUBLISHER = """
import asyncio, time
from app import mqtt
from app.store import Store
mqtt.BACKOFF_FIRST = 0.2
cfg = {"device_id": "sup", "mqtt": {"host": "127.0.0.1", "port": %d, "user": "", "password": "",
       "prefix": "meterlink", "discovery": True, "discovery_prefix": "homeassistant",
       "layout": "meterlink", "vse_group": "g", "keepalive": 2, "expire_after": 300}}
pub = mqtt.MqttPublisher(cfg, Store(), "t", None, log=lambda m: None)
"""

SCRIPT = PUBLISHER + """
async def main():
    task = asyncio.create_task(pub.run())
    await asyncio.sleep(%f)
    print(pub.connects, task.done(), pub.last_error)
asyncio.run(main())
"""


def _packet(client):
    # One whole MQTT packet: umqtt writes a CONNECT in several small writes, so one
    # recv() may hold only its first bytes. Remaining length: one byte here (< 128).
    data = b""
    while len(data) < 2 or len(data) < 2 + data[1]:
        more = client.recv(1024)
        if not more:
            break
        data += more
    return data


class FakeBroker:
    """Accepts every connection; answers CONNECT with ``connack`` (None: closes the
    connection), then PINGREQs with a PINGRESP when ``pong``, and otherwise says nothing."""

    def __init__(self, connack, pong=False, host="127.0.0.1", hang_up=False):
        self.connack = connack
        self.pong = pong
        self.hang_up = hang_up  # closes each connection 0.1 s after its CONNACK
        self.pings = 0
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.bind((host, 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.clients = []
        self.connect_packets = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.clients.append(client)
            self.connect_packets.append(_packet(client))
            if self.connack is None:  # hangs up instead of answering
                client.close()
                continue
            client.sendall(self.connack)
            if self.hang_up:
                time.sleep(0.1)  # the handshake is done: the session starts, then ends
                client.close()
                continue
            if self.pong:
                threading.Thread(target=self._answer_pings, args=(client,), daemon=True).start()

    def _answer_pings(self, client):
        # The gateway sends PUBLISH packets too; only whole PINGREQs (C0 00) are answered.
        seen = b""
        while True:
            try:
                data = client.recv(4096)
            except OSError:
                return
            if not data:
                return
            seen = (seen + data)[-4096:]
            while b"\xc0\x00" in seen:
                seen = seen[seen.index(b"\xc0\x00") + 2:]
                self.pings += 1
                client.sendall(b"\xd0\x00")

    def close(self):
        for c in self.clients:
            c.close()
        self.sock.close()


@pytest.mark.parametrize("connack, seconds, error", [
    (b"\x20\x02\x00\x00", 5.5, "no reply from the broker"),
    (b"\x20\x02\x00\x05", 1.5, "connect to 127.0.0.1"),  # 5 = not authorised
    # CONNACK codes in words (MQTT 3.1.1 3.2.2.3), with what to check: they used to read
    # "MQTTException(5,)".
    (b"\x20\x02\x00\x05", 1.5, "broker refused: not authorized (check mqtt.user and mqtt.password)"),
    (b"\x20\x02\x00\x04", 1.5, "broker refused: bad user name or password (check mqtt.user and mqtt.password)"),
    (b"\x20\x02\x00\x02", 1.5, "broker refused: client identifier rejected"),
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", 1.5, "the server did not answer as an MQTT broker"),
])
def test_supervisor_gives_up_bad_connections_and_keeps_retrying(connack, seconds, error):
    broker = FakeBroker(connack)
    try:
        out = run_micropython(["-c", SCRIPT % (broker.port, seconds)])
    finally:
        broker.close()
    assert out.returncode == 0, out.stderr.decode() + out.stdout.decode()
    connects, done, last_error = out.stdout.decode().strip().split(" ", 2)
    assert done == "False"  # the task is still running
    assert error in last_error
    if connack[3] == 0:
        assert int(connects) >= 2  # reconnected after the silence


def test_a_refused_tcp_connection_is_named_not_numbered():
    # OSError(111,) said nothing to a user; the errno's name does.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    out = run_micropython(["-c", SCRIPT % (port, 0.5)])
    assert out.returncode == 0, out.stderr.decode()
    assert "failed: ECONNREFUSED" in out.stdout.decode()


def test_a_broker_given_by_its_ipv6_address_is_reached():
    # socket() is IPv4: "::1" failed with EAFNOSUPPORT at every try (a black-box test).
    broker = FakeBroker(b"\x20\x02\x00\x00", host="::1")
    try:
        out = run_micropython(["-c", (SCRIPT % (broker.port, 1.0)).replace('"127.0.0.1"', '"::1"')])
    finally:
        broker.close()
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().split()[:2] == ["1", "False"], out.stdout.decode()


def test_an_ipv6_broker_is_named_in_brackets():
    # "connect to ::1:1883 failed" reads as the address ::1:1883 on the default port.
    closed = socket.socket(socket.AF_INET6)
    closed.bind(("::1", 0))
    port = closed.getsockname()[1]
    closed.close()
    out = run_micropython(["-c", (SCRIPT % (port, 0.5)).replace('"127.0.0.1"', '"::1"')])
    assert out.returncode == 0, out.stderr.decode()
    assert "connect to [::1]:%d failed: ECONNREFUSED" % port in out.stdout.decode()


def test_sessions_that_end_at_once_back_off_like_failed_connects():
    # A broker that takes each connection and drops it (another client with our id, a
    # heap too short to publish) was retried every second for good: 44 reconnects in
    # 40 s in a black-box test. Backoff 0.2 s here, doubling: 0.2, 0.4, 0.8, 1.6 s.
    broker = FakeBroker(b"\x20\x02\x00\x00", hang_up=True)
    try:
        script = (SCRIPT % (broker.port, 4.0)).replace("mqtt.BACKOFF_FIRST = 0.2",
                                                       "mqtt.BACKOFF_FIRST = 0.2\nmqtt.CHECK_EVERY = 0.05")
        out = run_micropython(["-c", script])
    finally:
        broker.close()
    assert out.returncode == 0, out.stderr.decode()
    connects = int(out.stdout.decode().split()[0])
    assert 3 <= connects <= 6, out.stdout.decode()  # every 0.25 s without backoff: ~16


def test_a_session_longer_than_half_the_tick_period_counts_as_long():
    # ticks_ms wraps every 2**30 ms on the ESP32: a session of 6.2 to 12.4 days measured
    # negative, and the reconnect after it waited the grown backoff. Here every session
    # measures -1 ms, as such a one does: each reconnect starts over at the first delay.
    broker = FakeBroker(b"\x20\x02\x00\x00", hang_up=True)
    try:
        script = (SCRIPT % (broker.port, 4.0)).replace(
            "mqtt.BACKOFF_FIRST = 0.2", "mqtt.BACKOFF_FIRST = 0.2\nmqtt.CHECK_EVERY = 0.05\nmqtt.since_ms = lambda t: -1")
        out = run_micropython(["-c", script])
    finally:
        broker.close()
    assert out.returncode == 0, out.stderr.decode()
    assert int(out.stdout.decode().split()[0]) >= 10, out.stdout.decode()  # with backoff: 3-6


FAILING_IMPORT = '''
import builtins
_import = builtins.__import__
_failed = []
def _short_of_memory(name, *args):
    # The first import of the connect helper finds no heap, as in a soak at the floor.
    if name == "app" and args and args[2] and "mqtt_connect" in args[2] and not _failed:
        _failed.append(1)
        raise MemoryError("memory allocation failed, allocating 640 bytes")
    return _import(name, *args)
builtins.__import__ = _short_of_memory
'''


def test_no_heap_to_load_the_connect_helper_is_one_failed_connect():
    # It ended the MQTT task for good (a soak at 176k): the import stood above the try.
    broker = FakeBroker(b"\x20\x02\x00\x00")
    try:
        out = run_micropython(["-c", FAILING_IMPORT + SCRIPT % (broker.port, 1.5)])
    finally:
        broker.close()
    assert out.returncode == 0, out.stderr.decode()
    connects, done, _ = out.stdout.decode().split(" ", 2)
    assert done == "False" and int(connects) >= 1, out.stdout.decode()


def test_without_a_host_mqtt_is_off_but_the_task_stays_alive():
    out = run_micropython(["-c", (SCRIPT % (1, 0.3)).replace('"host": "127.0.0.1"', '"host": ""')])
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().split(" ", 2)[:2] == ["0", "False"]


def test_a_broker_that_answers_every_ping_keeps_its_one_connection():
    # The PINGRESP used to be drained with sock.read(64), which waits for all 64 bytes:
    # each ping stalled the loop for the socket timeout, then raised ETIMEDOUT and
    # dropped the connection (the broker then published the last will "offline").
    broker = FakeBroker(b"\x20\x02\x00\x00", pong=True)
    try:
        out = run_micropython(["-c", SCRIPT % (broker.port, 4.5)])
    finally:
        broker.close()
    assert out.returncode == 0, out.stderr.decode() + out.stdout.decode()
    assert out.stdout.decode().strip().split(" ", 2) == ["1", "False", "None"]
    assert broker.pings >= 3


# The same, printing first the longest stall of its event loop over the milliseconds given.
TICKER = PUBLISHER + """
async def main():
    task = asyncio.create_task(pub.run())
    worst, last, end = 0, time.ticks_ms(), time.ticks_add(time.ticks_ms(), %d)
    while time.ticks_diff(end, time.ticks_ms()) > 0:
        await asyncio.sleep(0.05)
        now = time.ticks_ms()
        worst, last = max(worst, time.ticks_diff(now, last)), now
    print(worst, pub.connects, task.done(), pub.last_error)
asyncio.run(main())
"""


def test_a_broker_that_never_answers_connect_does_not_stall_the_loop():
    # A frozen broker: the TCP connection is accepted, no CONNACK ever comes. umqtt's
    # connect() waits for it: the loop (meter reader, HTTP) was blocked for the 5 s
    # connect timeout on every attempt (before that, on the unix port's umqtt, for as
    # long as the broker stayed silent). The loop now waits for the reply itself.
    broker = FakeBroker(connack=b"")
    try:
        out = run_micropython(["-c", TICKER % (broker.port, 7000)])
    finally:
        broker.close()
    assert out.returncode == 0, out.stderr.decode() + out.stdout.decode()
    worst, connects, done, last_error = out.stdout.decode().strip().split(" ", 3)
    assert int(worst) < 500, worst
    assert (connects, done) == ("0", "False") and "failed: ETIMEDOUT" in last_error
    assert len(broker.connect_packets) >= 1 and broker.connect_packets[0][0] == 0x10  # CONNECT went out once


def test_a_broker_that_hangs_up_instead_of_answering_connect_is_named():
    # umqtt read b"" and failed on an IndexError, which status showed as such.
    broker = FakeBroker(connack=None)
    try:
        out = run_micropython(["-c", SCRIPT % (broker.port, 1.0)])
    finally:
        broker.close()
    assert out.returncode == 0, out.stderr.decode() + out.stdout.decode()
    assert "failed: ECONNRESET" in out.stdout.decode()


def test_a_broker_host_that_never_answers_does_not_stall_the_loop():
    # The home server switched off: no SYN-ACK, no refusal. umqtt's synchronous connect
    # held the loop (meter reader, HTTP) for the 5 s timeout on every attempt; the
    # handshake is now the loop's (app/mqtt_connect.py) and times out all the same.
    port, keep = silent_host()
    try:
        out = run_micropython(["-c", TICKER % (port, 7000)])
    finally:
        for sock in keep:
            sock.close()
    assert out.returncode == 0, out.stderr.decode() + out.stdout.decode()
    worst, connects, done, last_error = out.stdout.decode().strip().split(" ", 3)
    assert int(worst) < 500, worst
    assert (connects, done) == ("0", "False") and "failed: ETIMEDOUT" in last_error


def test_without_umqtt_installed_the_status_says_so_and_the_task_stays_alive(tmp_path):
    # `micropython firmware/main.py` with a MICROPYPATH that leaves out .venv/mplib:
    # the task crashed on 'NoneType' object isn't callable and status said nothing.
    import subprocess

    from mp import MICROPYTHON, ROOT, micropython_env, search_path

    env = dict(micropython_env(), MICROPYPATH=search_path(ROOT + "/firmware"))
    out = subprocess.run([MICROPYTHON, "-c", SCRIPT % (1, 0.3)], capture_output=True, env=env, cwd=ROOT,
                         timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().strip().split(" ", 2) == ["0", "False", "umqtt.simple is not installed"]


def _client_id(connect):
    # CONNECT (MQTT 3.1.1, 3.1): fixed header with a one-byte remaining length here,
    # protocol name "MQTT", level, flags, keepalive, then the ClientId first in the payload.
    assert connect[0] == 0x10 and connect[2:8] == b"\x00\x04MQTT"
    size = connect[12] << 8 | connect[13]
    return connect[14:14 + size].decode()


@pytest.mark.parametrize("device_id, expected", [
    ("0123456789ab", "meterlink0123456789ab"),  # the ESP32's default: machine.unique_id() in hex
    ("sup", "meterlinksup"),
    ("keller-hauptzaehler-haus-2", None),  # a user's name: too long, and "-" is not in the set
    ("keller-hauptzaehler-haus-3", None),
    ("a_b", None),
    ("ab", "meterlinkab"),
])
def test_client_id_is_one_every_broker_must_take_and_stays_unique(device_id, expected):
    # MQTT 3.1.1, 3.1.3.1: a server must take 1-23 characters of 0-9a-zA-Z and may refuse
    # others. It was "meterlink-" + device_id: a hyphen always, and 26+ characters for a
    # device_id of 17 or more.
    broker = FakeBroker(b"\x20\x02\x00\x00")
    try:
        out = run_micropython(["-c", SCRIPT.replace('"sup"', repr(device_id)) % (broker.port, 0.5)])
    finally:
        broker.close()
    assert out.returncode == 0, out.stderr.decode() + out.stdout.decode()
    got = _client_id(broker.connect_packets[0])
    assert 1 <= len(got) <= 23 and all(c.isascii() and c.isalnum() for c in got), got
    if expected is not None:
        assert got == expected
    from app.mqtt import client_id

    assert client_id(device_id) == got  # CPython computes the same id, for the tests and tools
    others = {"keller-hauptzaehler-haus-2", "keller-hauptzaehler-haus-3", "a_b", "ab", "a-b"} - {device_id}
    assert got not in {client_id(o) for o in others}


# mqtt.host as a name, looked up by net/resolve.py of the name server the board names
# (the ESP32's from DHCP). getaddrinfo() held the whole gateway while the name server
# took its time: on the ESP32 seconds, or lwIP's whole timeout with a name server gone.
NAMED = TICKER.replace('"host": "127.0.0.1"', '"host": %r').replace(
    'pub = mqtt.MqttPublisher(', """class Board:  # the board's part in MQTT: WiFi up, its name server
    def network_up(self):
        return True
    def name_server(self):
        return %r
pub = mqtt.MqttPublisher(""").replace('log=lambda m: None)', 'log=lambda m: None, board=Board())').replace(
    "print(worst,", "import sys; print(worst, 'net' in sys.modules or 'net.resolve' in sys.modules,")
ACCEPTED = b"\x20\x02\x00\x00"


def _named_run(host, milliseconds, hosts=None, **name_server_options):
    """A publisher for ``host`` run ``milliseconds`` against a broker that accepts, with a
    name server that knows ``hosts``: (longest loop stall in ms, name lookup still loaded,
    connects, task done, last error, the name server, the broker)."""
    broker = FakeBroker(ACCEPTED)
    name_server = FakeNameServer(hosts or {}, **name_server_options)
    try:
        out = run_micropython(["-c", NAMED % (host, broker.port, name_server.address(), milliseconds)])
    finally:
        name_server.close()
        broker.close()
    assert out.returncode == 0, out.stderr.decode() + out.stdout.decode()
    worst, loaded, connects, done, last_error = out.stdout.decode().strip().split(" ", 4)
    return int(worst), loaded == "True", int(connects), done == "True", last_error, name_server, broker


def test_a_broker_named_by_host_name_is_looked_up_while_the_loop_runs():
    worst, loaded, connects, done, _, name_server, _ = _named_run(
        "broker.meterlink.test", 3500, {"broker.meterlink.test": "127.0.0.1"}, delay=1.5)
    assert worst < 500, worst
    assert (connects, done) == (1, False)
    # One question, type A, class IN, recursion desired; the reply with a wrong ID before
    # the right one was passed over (it carries 10.9.9.9, where no broker is).
    assert name_server.queries[0] == ("broker.meterlink.test", 1, 1, 0x0100)
    assert not loaded  # dropped with the connect: not held in the heap for the day


def test_a_name_server_that_never_answers_is_named_and_does_not_stall_the_loop():
    worst, _, connects, done, last_error, name_server, broker = _named_run(
        "broker.meterlink.test", 7000, silent=True)
    assert worst < 500, worst
    assert (connects, done) == (0, False)
    assert last_error == ("connect to broker.meterlink.test:%d failed: no answer from the name server 127.0.0.1"
                          % broker.port)
    assert len(name_server.queries) >= 4  # asked again every second: UDP may lose either way


def test_a_host_name_the_name_server_does_not_know_is_said_so():
    _, _, connects, _, last_error, _, broker = _named_run(
        "brokr.meterlink.test", 1000, {"other.meterlink.test": "127.0.0.1"})
    assert connects == 0 and last_error.endswith("failed: no such host (DNS)"), last_error
    assert broker.connect_packets == []


def test_an_address_is_not_looked_up():
    _, loaded, connects, _, _, name_server, _ = _named_run("127.0.0.1", 1000)
    assert connects == 1 and name_server.queries == [] and not loaded


def test_an_address_loads_no_resolver():
    # The usual setting: the broker by its address. The resolver's code would be read
    # into the heap at every connect only to say so.
    script = (NAMED % ("127.0.0.1", 1, "127.0.0.1:1", 10)).replace(
        "asyncio.run(main())", """
import sys
seen = []
real_import = __import__
def watching(name, *args):
    seen.append(name)
    return real_import(name, *args)
import builtins
builtins.__import__ = watching
asyncio.run(main())
print("net" in seen or "net.resolve" in seen)""")
    out = run_micropython(["-c", script])
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().split()[-1] == "False"


# A store of the simulator's pushes published through a snapshot buffer of 256 bytes,
# which the state outgrows: it goes out in pieces of one PUBLISH.
IN_PIECES = """
import asyncio, json
from app import mqtt
from app.snapshot import SnapshotWriter
from app.store import Store
from decoder import Decoder, telegram_json
store = Store()
decoder = Decoder(%r, %r)
for t in decoder.feed(bytes.fromhex(%r)):
    store.update(t)
cfg = {"device_id": "big", "mqtt": {"host": "127.0.0.1", "port": %d, "user": "", "password": "",
       "prefix": "meterlink", "discovery": False, "discovery_prefix": "homeassistant",
       "layout": "vse", "vse_group": "g", "keepalive": 30, "expire_after": 300}}
writer = SnapshotWriter(256, first=256)
pub = mqtt.MqttPublisher(cfg, store, "t", writer, log=print)
async def main():
    task = asyncio.create_task(pub.run())
    pub.kick()
    await asyncio.sleep(1.5)
    print(json.dumps([type(writer.render(store)).__name__, pub.published, pub.last_error]))
    print(telegram_json(store))
asyncio.run(main())
"""


def test_a_state_too_big_for_the_snapshot_buffer_arrives_whole_in_one_message(tmp_path):
    # A gateway whose heap has no block for a larger buffer (after a burst of pushes with
    # ~100 codes, which the store keeps) failed every state message after, for good.
    from gateway_support import Broker, Subscriber, wait_until

    broker = Broker(tmp_path).start()
    sub = Subscriber(broker.port, name="pieces")
    try:
        import simulate

        pushes = b"".join(simulate.push_bytes(i, "hdlc") for i in range(3)).hex()
        script = IN_PIECES % (simulate.DEFAULT_KEY, simulate.DEFAULT_AUTH_KEY, pushes, broker.port)
        out = run_micropython(["-c", script], heapsize="512k")  # from source: the compiler needs room
        assert out.returncode == 0, out.stderr.decode()
        lines = out.stdout.decode().splitlines()
        kind, published, error = json.loads(lines[-2])
        assert kind == "list" and error is None and published > 3  # the codes' emptied configs too
        wait_until(lambda: sub.last("meterlink/big/state") is not None, 5, what="the state")
        state = sub.last("meterlink/big/state")
        assert json.loads(state) == json.loads(lines[-1]) and len(state) > 1000
        vse = [m for m in sub.messages if m[0].startswith("dt/g/")]
        assert len(vse) == 1 and json.loads(vse[0][1])["meter"]["1.8.0"]
    finally:
        sub.close()
        broker.stop()
