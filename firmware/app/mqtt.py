"""MQTT publisher: a supervisor around umqtt.simple (MQTT 3.1.1, QoS 0).

Topics (``<p>`` = mqtt.prefix, ``<id>`` = device_id)::

    <p>/<id>/state          retained: merged snapshot, decoder CLI shape
    <p>/<id>/availability   retained: "online"; last will "offline"
    <discovery_prefix>/sensor/<id>/obis_<a_b_c_d_e>/config   retained discovery (app/discovery.py)
    dt/<group>/<meter-id>/ds                  not retained: VSE form when mqtt.layout == "vse"

umqtt.simple is blocking. It is kept from stalling the meter reader by:
a TCP handshake and a wait for CONNACK that the event loop drives
(app/mqtt_connect.py), so a broker host or a broker that does not answer costs
nothing; a short socket timeout
after connecting (a stuck broker costs at most SOCKET_TIMEOUT once, then the
connection is dropped and retried with backoff); small retained messages,
published from this task only, and never while the reader has a chunk in hand;
and the meter port's own buffer (UART rxbuf on the ESP32, the kernel's TCP
buffer on unix) which holds several seconds of line time meanwhile.
umqtt leaks its socket when ``connect()`` is called twice, so every
connection gets a fresh client. Incoming bytes (PINGRESP) are drained with a
zero-timeout poll, which is also how a closed broker connection is noticed.
"""

import gc
import select

try:
    import asyncio
except ImportError:  # pragma: no cover
    import uasyncio as asyncio

from app import os_error_name, unload
from decoder.compat import const
from app.clock import iso_utc, now, since_ms, ticks_ms

# Seconds a blocking socket call may take once connected; longer means the
# broker or the link is stuck, and the connection is given up.
SOCKET_TIMEOUT = 2
# Seconds for the TCP handshake and for CONNACK (the loop runs meanwhile).
_CONNECT_TIMEOUT = const(5)
# Reconnect backoff (s): first retry quickly, then at most every 60 s.
BACKOFF_FIRST = 1
BACKOFF_MAX = 60
# Connections in a row lost for lack of heap: a store of many codes (a burst of pushes
# with ~100, which it keeps) on a heap too small for them, where every later state
# message failed too. The gateway then calls itself unhealthy (app.healthy), and the
# ESP32's watchdog restarts it with a whole heap and an empty store (~5 minutes of
# backoff first).
STUCK_AFTER = 10
# A session that lasted this long (ms) was a working one: the next reconnect starts the
# backoff afresh. Shorter ones keep it growing: a broker that takes the connection and
# drops it at once (another client with our id, a heap too short to publish) was retried
# every second (44 reconnects in 40 s in a black-box test), flapping availability.
_STABLE_MS = const(30000)
# How often (s) the idle loop looks at the socket for a closed connection.
CHECK_EVERY = 1
# Bytes drained per look at the socket: PINGRESP is 2 bytes.
_DRAIN = const(64)
# Socket option numbers (POSIX and lwIP agree): the ports lack the names.
_IPPROTO_TCP = const(6)
_TCP_NODELAY = const(1)

try:
    from umqtt.simple import MQTTClient, MQTTException
except ImportError:  # CPython (the tests use its helpers), or a MicroPython path without umqtt (run())
    MQTTClient = None

    class MQTTException(Exception):
        pass


# What umqtt raises when a connection cannot be used: socket errors, a
# refused CONNACK, its asserts on malformed replies, short reads (IndexError).
# MemoryError too: a fragmented heap must cost one connection, not the task.
_FAILURES = (OSError, MQTTException, AssertionError, IndexError, MemoryError)


# MQTT 3.1.1, 3.1.3.1: a server must take a ClientId of 1 to 23 characters from
# these; a longer one, or one with other characters, it may refuse.
_CLIENT_ID_CHARS = const("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_CLIENT_ID_MAX = const(23)


# CONNACK return codes 1-5 (MQTT 3.1.1, 3.2.2.3), which umqtt raises as MQTTException(code).
_REFUSALS = const((None, "unacceptable protocol version", "client identifier rejected", "server unavailable",
             "bad user name or password (check mqtt.user and mqtt.password)",
             "not authorized (check mqtt.user and mqtt.password)"))


def _reason(error):
    # A failure as a user reads it: the broker's refusal in words, a socket error by name.
    code = error.args[0] if error.args else None
    if isinstance(error, MQTTException) and type(code) is int and 0 < code < len(_REFUSALS):
        return "broker refused: " + _REFUSALS[code]
    if isinstance(error, AssertionError):  # umqtt checks the broker's replies with assert
        return "the server did not answer as an MQTT broker"
    return os_error_name(error)  # ours in words (net/resolve.py), a socket error by name


def client_id(device_id):
    """The MQTT ClientId for ``device_id``: "meterlink" and the id where that is a
    ClientId every broker takes (the ESP32's 12 hex digits are), else "ml", the
    id's first letters and digits and a hash of the whole id, so that two ids
    that differ only in "-", "_" or their tail stay two clients."""
    plain = "meterlink" + device_id
    kept = "".join([c for c in device_id if c in _CLIENT_ID_CHARS])
    if len(kept) == len(device_id) and len(plain) <= _CLIENT_ID_MAX:
        return plain
    digest = 0x811C9DC5  # FNV-1a, 32 bits: a stable hash that both Pythons compute alike
    for byte in device_id.encode():
        digest = ((digest ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "ml" + kept[:_CLIENT_ID_MAX - 2 - 8] + "%08x" % digest  # "ml", the letters, 8 hex digits


def _numeric(value):
    # A reading a sensor with a unit and a state class takes (bool is no such number).
    return type(value) is int or type(value) is float


def _address(mq):
    # An IPv6 address in brackets, as in a URL: "::1:1883" reads as another address.
    return ("[%s]:%d" if ":" in mq["host"] else "%s:%d") % (mq["host"], mq["port"])


class MqttPublisher:
    """Runs forever as a task; ``kick()`` says the store has news."""

    def __init__(self, cfg, store, version, snapshot, log=print, board=None, page_url=None):
        mq = cfg["mqtt"]
        self.cfg = mq
        self.device_id = cfg["device_id"]
        self.store = store
        self.version = version
        self.snapshot = snapshot
        self.log = log
        self.board = board  # network_up() and name_server(); None: always up, getaddrinfo()
        self.page_url = page_url  # the dongle's web page for discovery: a callable, None if none
        base = "%s/%s/" % (mq["prefix"], self.device_id)
        self.state_topic = base + "state"
        self.availability_topic = base + "availability"
        self._state_topic = self.state_topic.encode()  # the hot path: encoded once
        self.connected = False
        self.connects = 0
        self.published = 0
        self.memory_streak = 0  # connections in a row lost for lack of heap
        self.last_error = None
        self.last_error_time = None  # Unix seconds: the error may be older than the connection
        self._client = None
        self._poller = None
        self._event = asyncio.Event()
        self._sent_seq = -1
        # Codes whose config went out on this connection -> whether it was for a number.
        self._discovered = {}
        self._last_rx = self._last_ping = ticks_ms()

    def kick(self):
        self._event.set()

    async def run(self):
        if not self.cfg["host"]:
            await self._off("no mqtt.host configured")
        if MQTTClient is None:
            # A MICROPYPATH that leaves out .venv/mplib, where `make venv` puts umqtt: the
            # task crashed on its first connect, and status said nothing.
            self.last_error = "umqtt.simple is not installed"
            self.last_error_time = now()
            await self._off(self.last_error)
        delay = BACKOFF_FIRST
        while True:
            if self.board is not None and not self.board.network_up():
                await asyncio.sleep(BACKOFF_FIRST)
                continue
            failure = None
            try:
                self._client = self._new_client()  # first: _fail closes the socket it holds
                # Dropped once connected or failed. Imported in here: a MemoryError while
                # loading it is one failed connect (it ended the MQTT task for good).
                from app import mqtt_connect

                sock = await mqtt_connect.open_socket(self.cfg["host"], self.cfg["port"], _CONNECT_TIMEOUT,
                                                      self.board and self.board.name_server())
                await mqtt_connect.handshake(self._client, sock, _CONNECT_TIMEOUT)
                self._connected()
            except _FAILURES as e:
                failure = e
            mqtt_connect = sock = None
            unload(("app.mqtt_connect", "net.resolve", "net"))
            if failure is not None:
                self._fail("connect to %s failed: %s" % (_address(self.cfg), _reason(failure)), failure)
                failure = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            started = ticks_ms()
            try:
                await self._session()
            except _FAILURES as e:
                self._fail("connection lost: %s" % _reason(e), e)
            # Negative: more than half the tick period (6.2 days on the ESP32, where
            # ticks_ms wraps every 2**30 ms), which is a long session too.
            if not 0 <= since_ms(started) < _STABLE_MS:
                delay = BACKOFF_FIRST
                self.memory_streak = 0  # a working session between: no streak
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    async def _off(self, why):
        self.log("mqtt: %s, MQTT off" % why)
        while True:  # stay alive: a finished task reads as a crash to the watchdog
            await asyncio.sleep(3600)

    def _fail(self, message, error=None):
        if isinstance(error, MemoryError):
            self.memory_streak += 1
        self.last_error = message
        self.last_error_time = now()
        self.log("mqtt: " + message)
        self._drop()
        gc.collect()

    def _new_client(self):
        mq = self.cfg
        client = MQTTClient(
            client_id(self.device_id).encode(), mq["host"], mq["port"],
            mq["user"].encode() if mq["user"] else None,
            mq["password"].encode(), keepalive=mq["keepalive"])  # umqtt sends it only with a user
        client.set_last_will(self.availability_topic.encode(), b"offline", retain=True)
        return client

    def _connected(self):
        mq = self.cfg
        client = self._client
        client.sock.settimeout(SOCKET_TIMEOUT)
        # umqtt writes one PUBLISH in four small writes; with Nagle on, the last
        # ones wait for the broker's delayed ACK (~40 ms). Not every stack has it.
        try:
            client.sock.setsockopt(_IPPROTO_TCP, _TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass
        self._poller = select.poll()
        self._poller.register(client.sock, select.POLLIN)
        self.connected = True
        self.connects += 1
        self._sent_seq = 0  # an empty store (seq 0) has nothing worth publishing
        self._discovered = {}
        self.log("mqtt: connected to " + _address(mq))
        self._last_rx = self._last_ping = ticks_ms()
        self._publish(self.availability_topic, b"online")

    def close(self, new_cfg=None):
        """End the session cleanly: "offline" first, as a clean disconnect sends no last
        will. When the settings about to take over (``new_cfg``, saved on /config) keep
        the broker but move the topics (mqtt.prefix), the old state and availability are
        emptied instead: a retained snapshot under a prefix nobody publishes to any more
        would stay on the broker for good."""
        if self._client is not None and self.connected:
            gone = b"offline"
            if new_cfg is not None:
                mq = new_cfg["mqtt"]
                moved = "%s/%s/state" % (mq["prefix"], new_cfg["device_id"] or self.device_id)
                if moved != self.state_topic and (mq["host"], mq["port"]) == (self.cfg["host"], self.cfg["port"]):
                    gone = b""
            try:
                if not gone:
                    self._publish(self._state_topic, gone)
                self._publish(self.availability_topic, gone)
                self._client.disconnect()
            except _FAILURES:
                pass
        self._drop()

    def _drop(self):
        self.connected = False
        client, self._client = self._client, None
        if client is not None and client.sock is not None:
            try:
                client.sock.close()
            except OSError:
                pass

    async def _session(self):
        # Woken by kick() or by the ticker, at least every CHECK_EVERY s. Not wait_for(
        # event.wait(), CHECK_EVERY): MicroPython's makes two tasks per call, ~2 kB of
        # heap once a second and again on every push, which a short heap could not spare.
        ticker = asyncio.create_task(self._tick())
        try:
            while True:
                if self._sent_seq != self.store.seq:
                    await self._publish_snapshot()
                await self._event.wait()
                self._event.clear()
                self._check_socket()
                self._keepalive()
        finally:
            ticker.cancel()

    async def _tick(self):
        while True:
            await asyncio.sleep(CHECK_EVERY)
            self._event.set()

    def _keepalive(self):
        # Ping every half keepalive (mqtt.keepalive, announced in CONNECT) even while
        # publishing: the PINGRESP is the only sign of life from the broker, and a
        # link that silently died (WiFi gone, broker host down) shows as a missing one.
        keepalive = self.cfg["keepalive"]
        if since_ms(self._last_ping) > keepalive * 500:
            self._client.ping()
            self._last_ping = ticks_ms()
        if since_ms(self._last_rx) > keepalive * 1000:
            raise OSError("no reply from the broker for %d s" % keepalive)

    def _check_socket(self):
        for _, flags in self._poller.poll(0):
            if flags & (select.POLLHUP | select.POLLERR):
                raise OSError("broker hung up")
            if flags & select.POLLIN:
                # recv, not read: read(n) waits for all n bytes, so the 2-byte
                # PINGRESP stalled the loop for SOCKET_TIMEOUT, then raised
                # ETIMEDOUT and dropped a healthy connection at every ping.
                if not self._client.sock.recv(_DRAIN):
                    raise OSError("broker closed the connection")
                self._last_rx = ticks_ms()

    def _publish(self, topic, payload, retain=True):
        if isinstance(payload, str):
            payload = payload.encode()
        topic = topic.encode() if isinstance(topic, str) else topic
        if type(payload) is list:
            # A snapshot in pieces (app/snapshot.py): one PUBLISH (MQTT 3.1.1, 3.3; QoS 0)
            # written as umqtt writes one, its payload a piece at a time.
            size = 2 + len(topic)
            for piece in payload:
                size += len(piece)
            head = bytearray(b"\x30\0\0\0\0")
            head[0] |= retain
            n = 1
            while size > 0x7F:
                head[n] = (size & 0x7F) | 0x80
                size >>= 7
                n += 1
            head[n] = size
            sock = self._client.sock
            sock.write(head, n + 1)
            sock.write(len(topic).to_bytes(2, "big") + topic)
            for piece in payload:
                sock.write(piece)
        else:
            self._client.publish(topic, payload, retain)
        self.published += 1

    async def _publish_snapshot(self):
        seq = self.store.seq
        await self._publish_discovery()
        self._publish(self._state_topic, self.snapshot.render(self.store))
        if self.cfg["layout"] == "vse":
            from app import vse  # only this layout needs it: not loaded otherwise

            mid = vse.meter_id(self.store, self.device_id)
            # Written like the discovery configs (the state has gone out, the buffer is
            # free): floats in the decoder's JSON spelling, no string of the whole payload.
            doc = self.snapshot.document(vse.payload(self.store, iso_utc))
            self._publish(vse.topic(self.cfg["vse_group"], mid), doc, False)  # a data stream: not retained
        self._sent_seq = seq
        self.memory_streak = 0

    async def _publish_discovery(self):
        # With mqtt.discovery off each code's topic gets an empty retained message instead,
        # which removes the config a broker kept from when it was on (and with it Home
        # Assistant's entity); on a broker that never had one it changes nothing.
        # Configs go out after a (re)connect and when a new code appears: rare events,
        # so the discovery tables are loaded for them and dropped again (~2 kB on the
        # device, ~4.5 kB on the unix port, that the steady state does not carry).
        # A code first seen empty, null or as text and then as a number (a DSMR "()" filled
        # in, a null register that starts counting) is announced again, with its unit and
        # classes: else it stayed without statistics until the next connection.
        readings = self.store.readings
        done = self._discovered
        todo = [c for c in readings if c not in done or not done[c] and _numeric(readings[c][0])]
        if not todo:
            return
        on = self.cfg["discovery"]
        if on:
            # Render once before: the snapshot's long-lived buffer growth and unit pieces
            # are then made ahead of discovery's short-lived documents, not scattered
            # between them (measured on the unix port: at 208 kB the first 300 pushes then
            # all go out, instead of a MemoryError near push 60). Off, no document is made.
            self.snapshot.grow(self.store)
        if not done:
            # The first configs of a connection: the dict made at its size (dict.fromkeys
            # is), not grown code by code, each growth a larger block while the old one is
            # still held (for 24 codes 272 B, then 464 B: the blocks a heap at its floor
            # lacked at the first connect, 116 kB beside the ROMFS image). A code's None
            # until its config has gone out is never read: a failed config ends the
            # connection, and the next one starts a new dict (_connected).
            done = self._discovered = dict.fromkeys(todo)
        from app import discovery

        try:
            page = self.page_url() if on and self.page_url is not None else None
            for code in todo:
                doc = b""
                if on:
                    value, unit = readings[code]
                    doc = self.snapshot.document(discovery.config(
                        code, value, unit, self.device_id, self.state_topic, self.availability_topic,
                        self.version, page, readings, self.cfg["expire_after"]))
                self._publish(discovery.topic(self.cfg["discovery_prefix"], self.device_id, code), doc)
                done[code] = _numeric(readings[code][0])
                await asyncio.sleep(0)  # let the reader run between configs
        finally:
            # Also when a config failed (the connection is lost): the module stayed loaded
            # then, and the reconnects had that much less heap.
            discovery = None
            unload(("app.discovery",))
