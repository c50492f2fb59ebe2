"""board/esp32.py on the host: fake ``machine``/``network`` modules record every call.

The type check (tools/typecheck.py, mypy against micropython-esp32-stubs)
proves the calls exist with those keywords; this proves they are made with
the values the board file and the configuration ask for. Runs under the
MicroPython unix port, so the module is loaded as the device loads it.
"""

import json
import os

import pytest

from mp import ROOT, run_micropython
from net_support import FakeTimeServer, silent_host

FIRMWARE = os.path.join(ROOT, "firmware")

FAKE_MACHINE = '''
LOG = []
def unique_id():
    return b"\\x24\\x0a\\xc4\\x01\\x02\\xff"
class Pin:
    OUT = 3
    def __init__(self, pin, mode=None):
        if pin in MISSING_PINS:
            raise ValueError("invalid pin")  # as ports/esp32/machine_pin.c says
        self.pin = pin
        LOG.append(["Pin", pin, mode])
    def value(self, v=None):
        LOG.append(["Pin.value", self.pin, v])
MISSING_PINS = (24, 99)  # an ESP32 has no GPIO 24
def reset():  # never returns on the chip
    print("machine.reset()")
    raise SystemExit(0)
UART_IDS = (0, 1, 2)  # an ESP32-C3 has 0 and 1 only
class UART:
    INV_RX = 4
    def __init__(self, id, **kw):
        if id not in UART_IDS:
            raise ValueError("UART(%d) does not exist" % id)  # as ports/esp32/machine_uart.c says
        LOG.append(["UART", id, kw])
    def read(self, n=-1):
        return None
class WDT:
    def __init__(self, id=0, timeout=5000):
        LOG.append(["WDT", timeout])
    def feed(self):
        LOG.append(["feed"])
class RTC:
    def datetime(self, t=None):
        LOG.append(["RTC.datetime", list(t)])
'''

FAKE_NETWORK = '''
STA_IF = 0
LOG = []
def hostname(name=None):
    LOG.append(["hostname", name])
REFUSALS = []  # connect() raises once per entry
class WLAN:
    def __init__(self, i):
        self.up = False
    def active(self, on=None):
        LOG.append(["active", on])
    def isconnected(self):
        return self.up
    def connect(self, ssid, pw):
        LOG.append(["connect", ssid, pw])
        if REFUSALS:
            REFUSALS.pop()
            raise OSError("Wifi Internal Error")
        self.up = True
    def disconnect(self):
        pass
    def status(self, what=None):
        return -61
    def ifconfig(self):
        return ("192.168.1.50", "255.255.255.0", "192.168.1.1", "192.168.1.1")
'''

SCRIPT = '''
import json, asyncio, machine, network
import board.esp32
from board.esp32 import Board, rx_buffer_size
board.esp32.NTP_HOST, board.esp32.NTP_PORT = "127.0.0.1", TIME_SERVER_PORT
b = Board(%r)
asyncio.run(b.open_meter("uart", 9600))
try:
    asyncio.run(b.open_meter("tcp://x:1", 9600))
except OSError as e:
    print("refused", "uart" in str(e))
b.led(True)
b.watchdog_park()  # not started: nothing to park
b.watchdog_start()
b.watchdog_feed()
b.watchdog_park()  # a Ctrl-C at the console (portal/boot.py)
cfg = {"wifi": {"ssid": "home", "password": "secret123"}}
async def wifi():
    task = asyncio.create_task(b.start_network(cfg))
    await asyncio.sleep(1.0)  # the station joins, then the clock is asked for
    task.cancel()
asyncio.run(wifi())
print(json.dumps(machine.LOG))
print(json.dumps(network.LOG))
print(b.device_id(), b.network_up(), b.rssi(), rx_buffer_size(9600), rx_buffer_size(115200), rx_buffer_size(300))
'''


FAKE_NEOPIXEL = '''
import machine
class NeoPixel:
    def __init__(self, pin, n):
        self.pixels = [(0, 0, 0)] * n
        machine.LOG.append(["NeoPixel", pin.pin, n])
    def __setitem__(self, i, rgb):
        self.pixels[i] = rgb
    def write(self):
        machine.LOG.append(["NeoPixel.write", list(self.pixels[0])])
'''


def board_script(folder, spec, script):
    """Output lines of ``script % board file`` under MicroPython, with the fakes importable;
    ``spec`` None: no board file."""
    (folder / "machine.py").write_text(FAKE_MACHINE)
    (folder / "network.py").write_text(FAKE_NETWORK)
    (folder / "neopixel.py").write_text(FAKE_NEOPIXEL)
    board_file = folder / "board.json"
    if spec is not None:
        board_file.write_text(json.dumps(spec))
    path = folder / "t.py"
    time_server = FakeTimeServer()
    path.write_text((script % str(board_file)).replace("TIME_SERVER_PORT", str(time_server.port)))
    try:
        out = run_micropython([str(path)], extra_paths=[str(folder)])
    finally:
        time_server.close()
    assert out.returncode == 0, out.stdout.decode() + out.stderr.decode()
    return out.stdout.decode().splitlines()


@pytest.fixture
def run_board(tmp_path):
    def run(spec):
        lines = board_script(tmp_path, spec, SCRIPT)
        return lines[0], json.loads(lines[1]), json.loads(lines[2]), lines[3].split()

    return run


DEVKIT = {"uart": {"id": 2, "rx": 16, "tx": 17, "invert_rx": True},
          "led": {"pin": 2, "kind": "gpio", "active_low": False},
          "p1_request": {"pin": 4, "active_high": True}}


def test_uart_gets_baud_8n1_pins_a_large_rxbuf_and_inverted_rx(run_board):
    refused, calls, _, _ = run_board(DEVKIT)
    assert refused == "refused True"
    uart = [c for c in calls if c[0] == "UART"]
    assert len(uart) == 1  # reopening the meter reuses the UART
    assert uart[0][1] == 2
    assert uart[0][2] == {"baudrate": 9600, "bits": 8, "parity": None, "stop": 1, "tx": 17, "rx": 16,
                          "rxbuf": 7680, "timeout": 0, "invert": 4}


UART_FORMATS = """
BOARD = %r
import json, asyncio, machine
from board.esp32 import Board
asyncio.run(Board(BOARD).open_meter("uart", 2400, "8E1"))
asyncio.run(Board(BOARD).open_meter("uart", 9600, "7E1"))
print(json.dumps([c[2] for c in machine.LOG if c[0] == "UART"]))
"""


def test_meter_format_sets_bits_parity_and_stop_bits(tmp_path):
    # meter.format: 8E1 (M-Bus's default, some E450 ports) and 7E1 (DSMR 2.2/3).
    kws = json.loads(board_script(tmp_path, DEVKIT, UART_FORMATS)[0])
    assert [(k["baudrate"], k["bits"], k["parity"], k["stop"]) for k in kws] == [(2400, 8, 0, 1), (9600, 7, 0, 1)]


def test_p1_request_led_and_watchdog(run_board):
    _, calls, _, _ = run_board(DEVKIT)
    assert ["Pin.value", 4, 1] in calls  # data request raised
    assert ["Pin.value", 2, 1] in calls  # LED on (active high)
    assert ["WDT", 30000] in calls and ["feed"] in calls
    # Parked after a Ctrl-C, once started: made again with a day's timeout.
    assert [c for c in calls if c[0] == "WDT"] == [["WDT", 30000], ["WDT", 86400000]]


def test_active_low_led_and_no_inversion(run_board):
    spec = dict(DEVKIT, uart={"id": 1, "rx": 3, "tx": 4, "invert_rx": False},
                led={"pin": 8, "kind": "gpio", "active_low": True}, p1_request=None)
    _, calls, _, _ = run_board(spec)
    assert [c for c in calls if c[0] == "UART"][0][2]["invert"] == 0
    assert ["Pin.value", 8, 0] in calls  # on = low


def test_wifi_identity_and_buffer_sizes(run_board):
    _, calls, net, facts = run_board(DEVKIT)
    assert ["active", True] in net and ["connect", "home", "secret123"] in net
    # Named before the interface comes up (the port's default name is every board's).
    assert net.index(["hostname", "meterlink-0102ff"]) < net.index(["active", True])
    # Once the station is up the clock is set from NTP, once (the next sync is a day away):
    # Unix time 2026-11-26 00:00:00, a Thursday (RTC weekdays count from Monday = 1).
    assert [c for c in calls if c[0] == "RTC.datetime"] == [["RTC.datetime", [2026, 11, 26, 4, 0, 0, 0, 0]]]
    assert facts == ["240ac40102ff", "True", "-61", "7680", "16384", "1024"]


def test_an_s3_boards_rgb_led_is_driven_as_a_ws2812(run_board):
    spec = dict(DEVKIT, led={"pin": 38, "kind": "ws2812", "active_low": False})
    _, calls, _, _ = run_board(spec)
    assert ["NeoPixel", 38, 1] in calls
    writes = [c[1] for c in calls if c[0] == "NeoPixel.write"]
    assert writes[0] == [0, 0, 0] and writes[-1] != [0, 0, 0]  # off at start, then on


def test_a_led_pin_the_chip_lacks_leaves_the_dongle_without_a_status_light_not_stopped(tmp_path):
    # machine.Pin raised ValueError in Board(), before the watchdog and the boot's restart:
    # the dongle sat at the REPL until unplugged, for a light.
    spec = dict(DEVKIT, led={"pin": 24, "kind": "gpio"})
    lines = board_script(tmp_path, spec, SCRIPT)
    assert lines[0].startswith("board: led {") and "unusable (ValueError('invalid pin'" in lines[0]
    calls = json.loads(lines[2])
    assert ["Pin.value", 4, 1] in calls and ["WDT", 30000] in calls  # the rest carries on
    assert not [c for c in calls if c[0] == "Pin" and c[1] == 24]


BOARD_FAILS_AT_BOOT = """
BOARD = %r
import board, network
import board.esp32
from portal import boot
boot.CRASH_RESTART_S = 0
board.Board = board.esp32.Board  # what board/__init__.py picks on the device
class WLAN:
    def __init__(self, i):
        raise MemoryError("memory allocation failed")
network.WLAN = WLAN
boot.main([], None, on_device=True)
"""


def test_a_board_that_cannot_be_made_at_boot_still_restarts_the_dongle(tmp_path):
    # The restart went through the Board, which was what failed: the dongle stayed at the REPL.
    lines = board_script(tmp_path, DEVKIT, BOARD_FAILS_AT_BOOT)
    assert "MemoryError: memory allocation failed" in lines
    assert lines[-2:] == ["meterlink: restarting in 0 s (Ctrl-C for the REPL)", "machine.reset()"]


def test_a_boot_file_that_fails_to_import_still_restarts_the_dongle(tmp_path):
    # main.py as the device runs it (its platform test forced, its pause cut), with a
    # portal/boot.py that a cut-short deploy left broken ahead of the firmware's.
    broken = tmp_path / "broken" / "portal"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("")
    (broken / "boot.py").write_text("def main(:\n")
    with open(os.path.join(FIRMWARE, "main.py")) as f:
        main = f.read()
    assert 'sys.platform == "esp32"' in main and "time.sleep(10)" in main
    main = main.replace('sys.platform == "esp32"', "True").replace("time.sleep(10)", "time.sleep(0)")
    script = ("import sys\nsys.path.insert(0, %r)\n" % str(broken.parent)) + main.replace("%", "%%")
    lines = board_script(tmp_path, DEVKIT, "BOARD = %r\n" + script)
    assert any(line.startswith("SyntaxError") for line in lines)
    assert lines[-2:] == ["meterlink: restarting in 10 s (Ctrl-C for the REPL)", "machine.reset()"]


NO_UART_2 = """
BOARD = %r
import asyncio, machine
machine.UART_IDS = (0, 1)
from board.esp32 import Board
try:
    asyncio.run(Board(BOARD).open_meter("uart", 9600))
except OSError as e:
    print("OSError", "board.json" in str(e), "UART(2) does not exist" in str(e))
"""


def test_a_missing_board_file_on_a_c3_is_a_meter_error_not_a_dead_reader(tmp_path):
    # The devkit default asks for UART 2, which an ESP32-C3 lacks: machine.UART raised
    # ValueError, which ended the reader task, and the watchdog reset the dongle for ever.
    lines = board_script(tmp_path, None, NO_UART_2)
    assert lines[0].startswith("board: ") and "unreadable" in lines[0]
    assert lines[1] == "OSError True True"


WIFI_REFUSED = """
import asyncio, network
import board.esp32 as esp32
esp32.BACKOFF_FIRST = 0
esp32.WIFI_CONNECT_S = 1
network.REFUSALS.append(1)
b = esp32.Board(%r)
async def main():
    task = asyncio.create_task(b.start_network({"wifi": {"ssid": "home", "password": "secret123"}}))
    await asyncio.sleep(1.5)
    print(task.done(), b.network_up(), len([e for e in network.LOG if e[0] == "connect"]))
    task.cancel()
asyncio.run(main())
"""


def test_a_refused_wifi_connect_is_one_failed_attempt_not_the_end_of_the_task(tmp_path):
    # ESP32 WLAN.connect() raises OSError now and then; the task used to end there,
    # and the dongle waited for its watchdog to reset it.
    assert board_script(tmp_path, DEVKIT, WIFI_REFUSED) == ["False True 2"]


WIFI_BACKOFF = """
import asyncio, network
import board.esp32 as esp32
SLEEPS = []
class Clockless:
    # The board's asyncio, its sleeps recorded and cut short: the waits are what is asked.
    def __getattr__(self, name):
        return getattr(asyncio, name)
    async def sleep(self, s):
        SLEEPS.append(s)
        await asyncio.sleep(0.002)
esp32.asyncio = Clockless()
esp32.WIFI_CONNECT_S = 1
b = esp32.Board(%r)
async def until_up():
    for _ in range(2000):
        if b.network_up():
            return
        await asyncio.sleep(0.005)
async def main():
    network.REFUSALS.extend([1] * 8)
    task = asyncio.create_task(b.start_network({"wifi": {"ssid": "home", "password": "secret123"}}))
    await until_up()
    print(" ".join(str(s) for s in SLEEPS if s not in (1, 5)))
    del SLEEPS[:]
    network.REFUSALS.extend([1] * 2)
    b.wlan.up = False  # the access point went away, and is back after two refusals
    await until_up()
    print(" ".join(str(s) for s in SLEEPS if s not in (1, 5)), b.network_up())
    task.cancel()
asyncio.run(main())
"""


def test_wifi_attempts_back_off_doubling_to_half_a_minute_and_a_lost_link_starts_over(tmp_path):
    # Between failed attempts 2 s, doubling to BACKOFF_MAX; a link that was up and drops
    # is joined again, its backoff from the start (an audit found only one refusal tested).
    # 30 s, not 120: disconnect() stops the driver's own retries for the pause.
    assert board_script(tmp_path, DEVKIT, WIFI_BACKOFF) == ["2 4 8 16 30 30 30 30", "2 4 True"]


UNIX_TCP_METER = '''
import asyncio
from board.unix import Board
async def main():
    meter = await Board("/tmp").open_meter("tcp://[::1]:%d", 9600)
    buf = bytearray(16)
    n = await meter.readinto(buf)
    print(bytes(buf[:n]).decode())
    meter.close()
asyncio.run(main())
'''


def test_a_tcp_meter_given_by_its_ipv6_address_in_brackets_is_opened():
    # tcp://[::1]:PORT passed the config check, then failed on "[::1]" as a host name.
    import socket
    import threading

    server = socket.socket(socket.AF_INET6)
    server.bind(("::1", 0))
    server.listen(1)

    def serve():
        client, _ = server.accept()
        client.sendall(b"meter bytes")
        client.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        out = run_micropython(["-c", UNIX_TCP_METER % server.getsockname()[1]])
    finally:
        server.close()
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().strip() == "meter bytes"


UNIX_TCP_OPEN_CANCELLED = '''
import asyncio, os, socket
from board.unix import Board
PORT = %d
def descriptors():
    return len(os.listdir("/proc/self/fd"))
async def main():
    board = Board("/tmp")
    before = descriptors()
    for _ in range(5):
        task = asyncio.create_task(board.open_meter("tcp://127.0.0.1:%%d" %% PORT, 9600))
        await asyncio.sleep(0.2)
        pending = not task.done()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
    print(pending, descriptors() - before)
    try:
        await board.open_meter("tcp://127.0.0.1:1", 9600)
    except OSError as e:
        print("refused", e.errno, descriptors() - before)
asyncio.run(main())
'''


def test_a_tcp_meter_open_cancelled_or_refused_leaves_no_socket_behind():
    # A /config save restarts the gateway: its reader is cancelled, maybe while the meter
    # host's handshake is pending. MicroPython's open_connection kept that socket open
    # (the unix port's sockets have no finaliser), and a handshake completing later held
    # a one-client ser2net for good. A listener that never accepts, its queue full, leaves
    # every further connect pending.
    port, keep = silent_host()
    try:
        out = run_micropython(["-c", UNIX_TCP_OPEN_CANCELLED % port])
    finally:
        for sock in keep:
            sock.close()
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().split("\n")[:2] == ["True 0", "refused 111 0"]
