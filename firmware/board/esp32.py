"""The board layer on the ESP32 (and S3, C3): meter UART, WiFi station, LED, watchdog, storage.

The only module that imports ``machine`` and ``network``; same interface as
board/unix.py. Pins come from ``/board.json`` (boards/<name>.json, format in
docs/design.md)::

    {"uart": {"id": 2, "rx": 16, "tx": 17, "invert_rx": true},
     "led": {"pin": 2, "kind": "gpio", "active_low": false},
     "p1_request": {"pin": 4, "active_high": true}, ...}

Meter port: ``machine.UART(id, baudrate, bits, parity, stop, tx, rx, rxbuf, timeout=0,
invert=UART.INV_RX when the board says so)``, bits, parity and stop bits from
``meter.format`` (8N1, 8E1 or 7E1), read through
``asyncio.StreamReader`` so the loop sleeps until bytes arrive. The receive
buffer holds ``RX_SECONDS`` of line time: the IDF driver fills it from the
interrupt while Python is busy (a blocking MQTT connect, a GC pass), so no
byte is lost (the 256-byte default overflows after 0.27 s at 9600 baud).

That buffer is not on the Python heap: ``uart_driver_install`` takes it from the ESP-IDF
heap, in one block, and so does the WiFi driver its buffers. Since v1.21 the Python heap
starts small and grows into that same heap as the gateway loads
(``MICROPY_GC_SPLIT_HEAP_AUTO``): each growth at least doubles it, up to the largest free
IDF block, and an area goes back only once wholly empty. So the app calls ``prepare`` right
after loading the configuration, before the decoder and the web server load: it starts
the WiFi interface and opens the UART at the configured rate, and ``open_meter`` takes
that UART over (re-set only if the settings differ). Started after every import, the
buffers' several kB could be gone for good.

WiFi: ``wifi.txpower`` (dBm) caps the transmit power before every association attempt and
on the setup access point; null takes the board file's ``wifi_txpower``, and a board file
without one the PHY's default. ESP32-C3 SuperMini boards do not join at full power, so their
board file caps it (boards/README.md): the setup AP has no configuration to say so.
"""

import asyncio
import gc
import json
import sys
import time

import machine
import network
from machine import UART, WDT, Pin

BOARD_FILE = "/board.json"
CONFIG_FILE = "/config.json"
# Seconds of line time the UART receive buffer must hold: longer than the
# worst blocking network call (MQTT connect timeout 5 s + DNS) with margin.
RX_SECONDS = 8
# 8N1 puts 10 bits on the line per byte (8E1 11: the buffer gets a little spare).
_BITS_PER_BYTE = 10
# machine.UART's parity argument for the format's letter: None, 0 even, 1 odd.
_PARITY = {"N": None, "E": 0, "O": 1}
# Buffer bounds: the IDF driver wants more than its 128-byte hardware FIFO;
# 16 kB is plenty for any meter rate without starving a C3 of RAM.
RX_MIN = 1024
RX_MAX = 16384
# Watchdog (ms): several health-loop periods plus the longest blocking call
# (MQTT connect + socket timeout), so only a real hang resets the dongle.
WDT_TIMEOUT_MS = 30000
WDT_PARKED_MS = 24 * 3600 * 1000  # after a Ctrl-C at the console (watchdog_park)
# WiFi: wait this long for one association attempt, then back off from
# BACKOFF_FIRST doubling to BACKOFF_MAX seconds between attempts. Short: disconnect()
# stops the driver's own retries for the pause, so a router back after an outage waits
# for the next attempt (up to 2.5 min with a 120 s cap, a review).
WIFI_CONNECT_S = 20
BACKOFF_FIRST = 2
BACKOFF_MAX = 30
# Wall clock from NTP once the station is up (the RTC starts at 2000-01-01 and the
# status times would say so): again daily against RTC drift, hourly while no server
# answers. Asked by net/ntp.py while the loop runs (ntptime held it for its DNS lookup
# and up to a second for the reply).
NTP_HOST = "pool.ntp.org"
NTP_PORT = 123
NTP_TIMEOUT_S = 5
NTP_RESYNC_MS = 24 * 3600 * 1000
NTP_RETRY_MS = 3600 * 1000
# Captive portal: the button opens it when pressed in the first BUTTON_WINDOW_MS after
# the start, while the LED blinks fast, and read pressed BUTTON_SAMPLES times in a row,
# BUTTON_GAP_MS apart, so that a bounce or a glitch does not (0.2 s of holding). Not
# held through the reset: BOOT is the strapping pin (GPIO0, a C3's GPIO9) that, low at
# reset, starts the chip's ROM download mode and no MicroPython (a review).
BUTTON_SAMPLES = 10
BUTTON_GAP_MS = 20
BUTTON_WINDOW_MS = 3000
# The default when /board.json is missing: the esp32-devkit wiring.
_DEFAULT_SPEC = {"uart": {"id": 2, "rx": 16, "tx": 17, "invert_rx": True},
                 "led": {"pin": 2, "kind": "gpio", "active_low": False}, "p1_request": None}


def rx_buffer_size(baud):
    """Bytes for RX_SECONDS of line time at ``baud``, within RX_MIN..RX_MAX."""
    size = baud // _BITS_PER_BYTE * RX_SECONDS
    return max(RX_MIN, min(RX_MAX, size))


def _load_spec(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        # Said on the console: an ESP32-C3 has no UART 2, and a dongle wired otherwise
        # reads nothing on these pins (the meter's errors then name the board file too).
        print("board: %s unreadable (%s): using the esp32-devkit pins" % (path, e))
        return _DEFAULT_SPEC


def reset():
    """Restart the chip; also for portal/boot.py when no Board could be made."""
    machine.reset()


class _UartMeter:
    """The meter UART behind an asyncio stream; it stays open across reopen calls."""

    def __init__(self, uart):
        self._stream = asyncio.StreamReader(uart)

    async def readinto(self, buf):
        # A UART never closes: None or 0 (a wake-up with nothing to read,
        # timeout=0) means "wait again", never "the meter went away".
        while True:
            n = await self._stream.readinto(buf)
            if n:
                return n

    def close(self):
        pass  # the UART belongs to the board, not to one reader session


class Board:
    """The dongle."""

    name = "esp32"
    http_host = "0.0.0.0"

    def __init__(self, board_file=BOARD_FILE):
        self.spec = _load_spec(board_file)
        self.wlan = network.WLAN(network.STA_IF)
        self._uart = None
        self._line = None  # (baud, format) the UART is set to
        self._wdt = None
        self._led = None
        self._led_low = False
        self._pixel = None
        led = self.spec.get("led")
        try:
            if led and led.get("kind", "gpio") == "gpio":
                self._led = Pin(led["pin"], Pin.OUT)
                self._led_low = bool(led.get("active_low"))
            elif led and led["kind"] == "ws2812":  # the S3 DevKitC-1's RGB LED
                from neopixel import NeoPixel

                self._pixel = NeoPixel(Pin(led["pin"], Pin.OUT), 1)
            self.led(False)
        except (ValueError, KeyError, TypeError, AttributeError, ImportError) as e:
            # A status light is not worth the dongle: a pin this chip lacks (or a board
            # file's typo) would stop every boot before the watchdog and the restart.
            self._led = self._pixel = None
            print("board: led %r unusable (%r): no status light" % (led, e))

    def device_id(self):
        """The chip's MAC-derived id in hex: stable across reflashes."""
        uid = machine.unique_id()
        return "".join(["%02x" % b for b in uid])

    def config_path(self):
        return CONFIG_FILE

    def prepare(self, cfg):
        """Start the drivers that take ESP-IDF memory, WiFi and the meter UART, while it
        still has room for them (module docstring). A board file the chip cannot follow is
        left for open_meter to report, where the reader says it and the dongle keeps
        serving. Refuses nothing: None (board/unix.py refuses the UART it lacks)."""
        if cfg["wifi"]["ssid"]:
            self._radio_on()
        try:
            self._set_uart(cfg["meter"]["baud"], cfg["meter"]["format"])
        except OSError:
            pass

    async def open_meter(self, source, baud, line="8N1"):
        if source != "uart":
            raise OSError("meter.source must be 'uart' on the device, not %r" % source)
        self._set_uart(baud, line)
        return _UartMeter(self._uart)

    def _set_uart(self, baud, line):
        if self._uart is None:
            try:
                uart = self._make_uart(baud, line)
                self._request_data()
                self._uart = uart  # kept only once the request line is up too
            except (ValueError, KeyError, TypeError) as e:
                # A board file that names a UART or pin this chip lacks (UART 2 on a C3),
                # or lacks one: the reader says so and retries, the dongle keeps serving.
                raise OSError("the meter port cannot be set up with %s's uart %r and p1_request %r: %r"
                              % (BOARD_FILE, self.spec.get("uart"), self.spec.get("p1_request"), e))
        elif self._line != (baud, line):
            # Same pins; current ports reinstall the driver (a new buffer) only for another
            # size. Timeout and inversion are given again: older ports' init() zeroed them.
            self._uart.init(baudrate=baud, bits=int(line[0]), parity=_PARITY[line[1]], stop=int(line[2]),
                            rxbuf=rx_buffer_size(baud), timeout=0,
                            invert=UART.INV_RX if self.spec["uart"].get("invert_rx") else 0)
        self._line = (baud, line)

    def _make_uart(self, baud, line):
        # line: "8N1", "8E1" or "7E1" (config.LINE_FORMATS): bits, parity, stop bits.
        u = self.spec["uart"]
        invert = UART.INV_RX if u.get("invert_rx") else 0
        return UART(u["id"], baudrate=baud, bits=int(line[0]), parity=_PARITY[line[1]], stop=int(line[2]),
                    tx=u["tx"], rx=u["rx"], rxbuf=rx_buffer_size(baud), timeout=0, invert=invert)

    def _request_data(self):
        # P1 meters send only while their data-request line is driven.
        req = self.spec.get("p1_request")
        if req:
            pin = Pin(req["pin"], Pin.OUT)
            pin.value(1 if req.get("active_high", True) else 0)

    def start_network(self, cfg):
        wifi = cfg["wifi"]
        ssid = wifi["ssid"]
        if not ssid:
            return None  # no WiFi configured: the captive portal's business
        self._radio_on()  # done by prepare() already; both calls are idempotent
        return self._keep_wifi(ssid, wifi["password"], self._txpower(wifi.get("txpower")))

    def _txpower(self, dbm):
        """The configured cap, else the board file's (None: the PHY's default)."""
        return self.spec.get("wifi_txpower") if dbm is None else dbm

    def _radio_on(self):
        # The name the router's client list and mDNS show (set before the interface comes
        # up, which takes it on connecting): the port's default is the same on every board.
        network.hostname("meterlink-" + self.device_id()[-6:])
        self.wlan.active(True)

    async def _keep_wifi(self, ssid, password, txpower=None):
        delay = BACKOFF_FIRST
        clock_due = time.ticks_ms()
        while True:
            if self.wlan.isconnected():
                delay = BACKOFF_FIRST
                if time.ticks_diff(time.ticks_ms(), clock_due) >= 0:
                    wait = NTP_RESYNC_MS if await self._set_clock() else NTP_RETRY_MS
                    clock_due = time.ticks_add(time.ticks_ms(), wait)
                await asyncio.sleep(5)
                continue
            try:
                if txpower is not None:
                    # Set before each attempt: the IDF takes a limit only once the radio is
                    # started, and starting it again puts back the PHY's default.
                    self.wlan.config(txpower=txpower)
                self.wlan.connect(ssid, password)
            except OSError:
                # The driver refuses now and then (busy, internal error): one failed
                # attempt with its backoff, not the end of the task, which would leave
                # the watchdog to reset the dongle.
                pass
            for _ in range(WIFI_CONNECT_S):
                if self.wlan.isconnected():
                    break
                await asyncio.sleep(1)
            if not self.wlan.isconnected():
                try:
                    self.wlan.disconnect()
                except OSError:
                    pass  # as connect() above: one attempt, not the task
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)

    async def _set_clock(self):
        """Set the RTC to UTC from NTP; False when no server answered."""
        from app.clock import EPOCH_OFFSET  # time.gmtime() counts from 2000 on the ESP32
        from net import ntp

        try:
            unix = await ntp.unix_time(NTP_HOST, self.name_server(), NTP_TIMEOUT_S, NTP_PORT)
        except OSError:
            return False
        finally:
            for name in ("net.ntp", "net.resolve", "net"):  # a day until the next sync
                sys.modules.pop(name, None)
        tm = time.gmtime(unix - EPOCH_OFFSET)
        machine.RTC().datetime((tm[0], tm[1], tm[2], tm[6] + 1, tm[3], tm[4], tm[5], 0))
        return True

    def network_up(self):
        return self.wlan.isconnected()

    def address(self):
        """The station's IP address, None while WiFi is down."""
        if not self.wlan.isconnected():
            return None
        return self.wlan.ifconfig()[0]

    def name_server(self):
        """The DNS server DHCP gave the station (net/resolve.py asks it without holding
        the loop, which getaddrinfo() does), None while WiFi is down."""
        if not self.wlan.isconnected():
            return None
        server = self.wlan.ifconfig()[3]
        return None if server == "0.0.0.0" else server

    def rssi(self):
        if not self.wlan.isconnected():
            return None
        try:
            return self.wlan.status("rssi")
        except (OSError, ValueError):
            return None

    def led(self, on):
        if self._led is not None:
            self._led.value(1 if bool(on) != self._led_low else 0)
        elif self._pixel is not None:
            self._pixel[0] = (0, 24, 0) if on else (0, 0, 0)  # dim green: it is a status light
            self._pixel.write()

    def watchdog_start(self):
        if self._wdt is None:
            self._wdt = WDT(timeout=WDT_TIMEOUT_MS)

    def watchdog_park(self):
        """After a Ctrl-C at the USB console: the watchdog cannot be stopped, and unfed it
        reset the board within 30 s of the REPL (a review). Made again, the one timer of
        the IDF takes a day's timeout; the REPL stays until a reset."""
        if self._wdt is not None:
            try:
                self._wdt = WDT(timeout=WDT_PARKED_MS)
            except OSError:  # a firmware whose WDT will not be made twice: reset as before
                pass

    def watchdog_feed(self):
        if self._wdt is not None:
            self._wdt.feed()

    def mem_free(self):
        gc.collect()
        return gc.mem_free()

    # --- captive portal (portal/boot.py): button, access point, scan, reset -------------

    def button_held(self):
        """True when the board's button is pressed and held in the first seconds after the
        start, while the LED blinks fast (see BUTTON_WINDOW_MS)."""
        spec = self.spec.get("button")
        if not spec:
            return False
        low = spec.get("active_low", True)
        pin = Pin(spec["pin"], Pin.IN, Pin.PULL_UP if low else Pin.PULL_DOWN)
        held = 0
        for tick in range(BUTTON_WINDOW_MS // BUTTON_GAP_MS):
            held = held + 1 if pin.value() == (0 if low else 1) else 0
            if held >= BUTTON_SAMPLES:
                break
            if tick % 5 == 0:
                self.led(tick % 10 == 0)  # five blinks a second: press now
            time.sleep_ms(BUTTON_GAP_MS)
        self.led(False)
        return held >= BUTTON_SAMPLES

    def start_ap(self, ssid, password, txpower=None):
        """Open the WPA2 access point; returns its IP address (the portal's address).
        ``txpower``: the stored configuration's cap, if there is one."""
        ap = network.WLAN(network.AP_IF)
        ap.active(True)  # before config(): the IDF refuses to configure an inactive AP
        ap.config(ssid=ssid, key=password, security=network.AUTH_WPA2_PSK)
        self.wlan.active(True)  # the station interface does the scans
        cap = self._txpower(txpower)
        if cap is not None:
            # One limit for the whole radio, taken only once it runs: after both interfaces
            # are up. A board whose station cannot join at full power is not seen either.
            ap.config(txpower=cap)
        return ap.ifconfig()[0]

    def scan(self):
        """SSIDs in range, strongest first, without duplicates or hidden (empty) names."""
        try:
            found = self.wlan.scan()
        except OSError:
            return []
        found.sort(key=lambda net: -net[3])
        names = []
        for net in found:
            try:
                name = net[0].decode()
            except UnicodeError:
                continue
            if name and name not in names:
                names.append(name)
        return names

    def stop_ap(self):
        network.WLAN(network.AP_IF).active(False)

    def reset(self):
        """A clean boot into station mode with the new configuration."""
        reset()

