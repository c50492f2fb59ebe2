"""The gateway: configuration -> board -> reader, store, MQTT, HTTP on one asyncio loop.

::

    meter port ─► MeterReader ─► Decoder ─► Store ─┬─► MqttPublisher (task)
                  (task, never waits on the net)   └─► HTTP API (web/server.py)
    health loop: LED, watchdog fed only while every task is alive

Started by main.py on the device and by ``micropython firmware/main.py
--config FILE`` on the unix port. An invalid configuration stops it before
anything starts (``config.ConfigError`` names the key).
"""

import gc
import sys

try:
    import asyncio
except ImportError:  # pragma: no cover
    import uasyncio as asyncio

from app import VERSION, command_line, os_error_name
from app.clock import now, ticks_diff, ticks_ms
from app.mqtt import STUCK_AFTER as MQTT_STUCK_AFTER, MqttPublisher
from app.reader import STUCK_AFTER, MeterReader
from app.snapshot import SnapshotWriter
from app.store import Store
from decoder.compat import const

# Seconds between health checks; the ESP32 watchdog timeout (board/esp32.py)
# is several times this, so one slow publish never resets the dongle.
HEALTH_EVERY = 1
# Seconds between tries to listen on http.port while another program holds it.
_HTTP_RETRY = const(5)


class App:
    """All the parts of a running gateway, wired together."""

    def __init__(self, cfg, board, log=print, config_path=None):
        from decoder import Decoder
        from decoder.errors import ErrorLog

        meter = cfg["meter"]
        # The big long-lived buffers first, while the heap is least fragmented.
        gc.collect()
        self.snapshot = SnapshotWriter()
        self.cfg = cfg
        self.board = board
        self.log = log
        self._uptime_ms = 0
        self._ticked = ticks_ms()
        self.decoder = Decoder(meter["key"] or None, meter["auth_key"] or None, meter["profile"],
                               meter["lists"] or None, errors=ErrorLog(now))
        self.store = Store(now)
        self.mqtt = MqttPublisher(cfg, self.store, VERSION, self.snapshot, log, board, self.page_url)
        self.reader = MeterReader(board, meter["source"], meter["baud"], self.decoder, self.store,
                                  self.mqtt.kick, log, meter["format"])
        self.server = None
        self.config_path = config_path
        self.restart_requested = False
        self._new_cfg = None
        self._tasks = []
        self._others = []  # tasks that may end by design (watch_join), cancelled on restart

    async def start_http(self):
        port = self.cfg["http"]["port"]
        if not port:
            return
        from app import api
        from web.server import HttpServer

        self.server = HttpServer(port, getattr(self.board, "http_host", "0.0.0.0"))
        api.register(self.server, self)
        try:
            await self.server.start()
        except OSError as e:
            # Another program holds the port (on unix: a second gateway, a web server on
            # 8080). The meter reader and MQTT go on; the API comes up once it is free.
            self.log("http: cannot listen on port %d (http.port): %s; retrying every %d s"
                     % (port, os_error_name(e), _HTTP_RETRY))
            self._others.append(asyncio.create_task(self._listen_later()))
            return
        self._listening()

    def _listening(self):
        listener = self.server.listener()
        if listener is not None:  # a dead listener is a dead API: the watchdog must know
            self._tasks.append(listener)
        self.log("http: listening on http://%s:%d/" % (self.server.host, self.server.port))

    async def _listen_later(self):
        while True:
            await asyncio.sleep(_HTTP_RETRY)
            try:
                await self.server.start()
            except OSError:
                continue  # still taken: said once at start, not every few seconds
            return self._listening()

    def request_restart(self, new_cfg=None):
        """New settings were saved (/config): leave run() so main() starts over with them.
        ``new_cfg``, the settings saved, lets MQTT clear topics they move away from."""
        self.restart_requested = True
        self._new_cfg = new_cfg

    async def stop(self):
        """End every task and close every connection, so a new App can take over."""
        if self.server is not None:
            await self.server.close_and_wait()
        for task in self._tasks + self._others:
            if not task.done():
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        self._tasks = []
        self._others = []
        self.mqtt.close(self._new_cfg)
        # The ESP32 resets right after this: lwIP sends what close() wrote (the emptied or
        # "offline" topics, DISCONNECT) after the call returns, and a reset loses it.
        await asyncio.sleep(0.3)

    def page_url(self):
        """Where a browser reaches this gateway's setup page (the status without one), for
        Home Assistant's "Visit" link; None while the address is unknown or HTTP is off."""
        host = self.board.address()
        port = self.cfg["http"]["port"]
        if host is None or not port:
            return None
        return "http://%s%s%s" % (host, "" if port == 80 else ":%d" % port,
                                  "/config" if self.config_path else "/api/v1/status")

    def uptime_s(self):
        """Seconds since start. ticks_ms wraps (every 2**30 ms on the ESP32, where
        ticks_diff is right within 6.2 days only), so the time is summed in short
        steps: the health loop takes one every HEALTH_EVERY."""
        tick = ticks_ms()
        self._uptime_ms += ticks_diff(tick, self._ticked)
        self._ticked = tick
        return self._uptime_ms // 1000

    def healthy(self):
        """Every task still running (a crashed task stops the watchdog feed), and neither
        the reader nor MQTT stuck for lack of heap (reader.STUCK_AFTER, mqtt.STUCK_AFTER)."""
        for task in self._tasks:
            if task.done():
                return False
        return self.reader.memory_streak < STUCK_AFTER and self.mqtt.memory_streak < MQTT_STUCK_AFTER

    async def run(self):
        self.log("meterlink %s on %s, device %s" % (VERSION, self.board.name, self.cfg["device_id"]))
        net = self.board.start_network(self.cfg)
        if net is not None:
            self._tasks.append(asyncio.create_task(net))
            # The captive portal's station-mode check (portal/boot.py): remember a
            # successful join, reopen the portal when new settings never join. A task
            # that ends by design, so not one of the watched ones.
            try:
                from portal.boot import watch_join
            except ImportError:  # a build without the portal
                pass
            else:
                if self.config_path:
                    self._others.append(asyncio.create_task(watch_join(self.board, self.config_path)))
        self._tasks.append(asyncio.create_task(self.reader.run()))
        self._tasks.append(asyncio.create_task(self.mqtt.run()))
        await self.start_http()
        self.board.watchdog_start()
        seen = -1
        while not self.restart_requested:
            self.uptime_s()
            if self.healthy():
                self.board.watchdog_feed()
            self.board.led(self.store.seq != seen)
            seen = self.store.seq
            await asyncio.sleep(HEALTH_EVERY)
        # None: the same settings (portal/lan.py restarts a gateway whose heap failed /config).
        self.log("meterlink: restarting" if self._new_cfg is None else "meterlink: new settings saved, restarting")
        await self.stop()


def _load_config(path, board):
    """The validated configuration, or None after saying which key is wrong."""
    import config

    try:
        return config.load(path, board.device_id())
    except config.ConfigError as e:
        print("meterlink: configuration %s refused: %s" % (path, e))
        return None
    finally:
        # Validation tables are ~10 kB of heap on the unix port; the running
        # gateway never needs them again (the portal imports config anew).
        del sys.modules["config"]
        gc.collect()


def _preload():
    # Compiling a module needs several times its final size in scratch heap;
    # importing the big ones first, each into a freshly collected heap, keeps
    # that peak low and the long-lived code packed together. The decoder loads
    # M-Bus, DSMR and the reader of each body style (push-setup, OBIS-tagged,
    # untagged) only when a meter needs them, so they are left out here: a
    # meter holds the one reader its pushes need.
    for name in ("decoder.obis", "decoder.profiles", "decoder.apdu",
                 "decoder.stream", "decoder.segments", "decoder.hdlc", "decoder.gcm",
                 "decoder.axdr", "umqtt.simple", "web.server"):
        try:
            __import__(name)
        except ImportError:
            pass
        gc.collect()


def main(argv=None):
    """Load and validate the configuration, then run until new settings are saved, and
    start over with them: the device by a reset, the unix port in the same process."""
    from board import Board

    board = Board()
    argv = sys.argv if argv is None else argv
    options = command_line(argv)
    if options is None:
        return 2
    path = options.get("--config") or board.config_path()
    if path != board.config_path():
        import os

        try:
            os.stat(path)
        except OSError:
            # Named on the command line: a typo must not start the gateway on every default.
            print("meterlink: configuration %s refused: (file): no such file" % path)
            return 2
    while True:
        status = _run_once(board, path)
        if status is not None:
            return status
        board.reset()  # the ESP32 reboots here; unix loads the new settings below
        gc.collect()


def _run_once(board, path):
    """Run one App; None when it stopped for a restart, else the exit status."""
    cfg = _load_config(path, board)
    if cfg is None:
        return 2
    # The device's WiFi and UART buffers, before the heap grows into theirs.
    refused = board.prepare(cfg)
    if refused:
        print("meterlink: configuration %s refused: %s" % (path, refused))
        return 2
    _preload()
    try:
        app = App(cfg, board, config_path=path)
    except ValueError as e:
        # The decoder knows its profile and list names; its message starts
        # with the option ("profile: unknown meter profile 'x'").
        print("meterlink: configuration %s refused: meter.%s" % (path, e))
        return 2
    asyncio.run(app.run())
    return None if app.restart_requested else 0
