"""The captive-portal half of board/esp32.py on the host: fake ``machine``/``network``
modules record the calls (run under the MicroPython unix port, as the device loads it).
The type check proves the calls exist; this proves their order and values."""

import json

import pytest

from mp import run_micropython

FAKE_MACHINE = '''
LOG = []
PRESSED = []          # values the button pin returns, one per read
def unique_id():
    return b"\\x24\\x0a\\xc4\\x01\\x3f\\xa2"
def reset():
    LOG.append(["reset"])
class Pin:
    OUT = 3
    IN = 1
    PULL_UP = 2
    PULL_DOWN = 1
    def __init__(self, pin, mode=None, pull=None):
        self.pin = pin
        LOG.append(["Pin", pin, mode, pull])
    def value(self, v=None):
        if v is None:
            return PRESSED.pop(0) if PRESSED else 1
        LOG.append(["Pin.value", self.pin, v])
class UART:
    INV_RX = 4
class WDT:
    pass
'''

FAKE_NETWORK = '''
STA_IF = 0
AP_IF = 1
AUTH_WPA2_PSK = 3
LOG = []
class WLAN:
    def __init__(self, i):
        self.i = i
    def active(self, on=None):
        LOG.append(["active", self.i, on])
    def config(self, **kw):
        LOG.append(["config", self.i, kw])
    def ifconfig(self):
        return ("192.168.4.1", "255.255.255.0", "192.168.4.1", "192.168.4.1")
    def isconnected(self):
        return False
    def scan(self):
        return [(b"Weak", b"m1", 1, -90, 3, 0), (b"", b"m2", 6, -40, 3, 1),
                (b"Home", b"m3", 6, -50, 3, 0), (b"Weak", b"m4", 11, -70, 3, 0),
                (b"\\xff\\xfe", b"m5", 1, -60, 3, 0)]
'''

SCRIPT = '''
import json, machine, network
import board.esp32
from board.esp32 import Board
board.esp32.BUTTON_WINDOW_MS = 1000  # 50 reads; a pressed() list past them is never read
machine.PRESSED.extend(%s)
b = Board(%r)
held = b.button_held()
ip = b.start_ap("meterlink-3FA2", "meterlink-setup", %r)
names = b.scan()
b.stop_ap()
b.reset()
print(json.dumps([held, ip, names, machine.LOG, network.LOG]))
'''

DEVKIT = {"uart": {"id": 2, "rx": 16, "tx": 17, "invert_rx": True},
          "led": {"pin": 2, "kind": "gpio", "active_low": False},
          "button": {"pin": 0, "active_low": True}, "p1_request": None}


@pytest.fixture
def run_board(tmp_path):
    (tmp_path / "machine.py").write_text(FAKE_MACHINE)
    (tmp_path / "network.py").write_text(FAKE_NETWORK)

    def run(pressed, spec=DEVKIT, txpower=None):
        board_file = tmp_path / "board.json"
        board_file.write_text(json.dumps(spec))
        script = tmp_path / "t.py"
        script.write_text(SCRIPT % (json.dumps(pressed), str(board_file), txpower))
        out = run_micropython([str(script)], extra_paths=[str(tmp_path)])
        assert out.returncode == 0, out.stdout.decode() + out.stderr.decode()
        return json.loads(out.stdout.decode().splitlines()[-1])

    return run


def test_the_access_point_is_wpa2_configured_after_it_is_active(run_board):
    _, ip, _, _, net = run_board([])
    assert ip == "192.168.4.1"
    ap = [c for c in net if c[1] == 1]
    assert ap[0] == ["active", 1, True]
    assert ap[1] == ["config", 1, {"ssid": "meterlink-3FA2", "key": "meterlink-setup",
                                   "security": 3}]
    assert ap[-1] == ["active", 1, False]  # stop_ap


def test_the_access_point_keeps_the_radios_default_power_unless_capped(run_board):
    _, _, _, _, net = run_board([])
    assert not [c for c in net if c[0] == "config" and "txpower" in c[2]]


@pytest.mark.parametrize("board_cap,stored,dbm", [(8.5, None, 8.5), (8.5, 15, 15), (None, 11, 11)])
def test_a_capped_board_or_a_stored_txpower_caps_the_access_point_once_both_interfaces_run(
        run_board, board_cap, stored, dbm):
    # A C3 SuperMini's board file caps it for the first boot, when nothing is configured;
    # a stored wifi.txpower (the portal reopened with the button) takes precedence.
    spec = dict(DEVKIT, wifi_txpower=board_cap) if board_cap else DEVKIT
    _, _, _, _, net = run_board([], spec, stored)
    started = [c[:2] for c in net[:3]]
    assert started == [["active", 1], ["config", 1], ["active", 0]]
    assert net[3] == ["config", 1, {"txpower": dbm}]


def test_the_scan_lists_names_strongest_first_without_hidden_or_duplicates(run_board):
    _, _, names, _, _ = run_board([])
    assert names == ["Home", "Weak"]


def test_a_button_held_through_every_sample_opens_the_portal(run_board):
    held, _, _, machine, _ = run_board([0] * 10)
    assert held is True
    assert ["Pin", 0, 1, 2] in machine  # input with pull-up (active low)
    assert ["reset"] in machine


@pytest.mark.parametrize("pressed", [[], [1], [0, 0, 0, 1], [0, 1] * 25, [1] * 45 + [0] * 10])
def test_a_released_or_bouncing_button_or_one_pressed_too_late_does_not(run_board, pressed):
    held, _, _, machine, _ = run_board(pressed)
    assert held is False
    assert machine.count(["Pin.value", 2, 1]) == 5  # the LED blinked through the second
    assert [c for c in machine if c[:2] == ["Pin.value", 2]][-1] == ["Pin.value", 2, 0]  # and is off


def test_a_button_pressed_after_the_start_opens_the_portal_too(run_board):
    # BOOT held through the reset starts the chip's ROM bootloader: the owner presses it
    # once the LED blinks, within the window.
    held, _, _, machine, _ = run_board([1] * 30 + [0] * 10)
    assert held is True
    assert [c for c in machine if c[:2] == ["Pin.value", 2]][-1] == ["Pin.value", 2, 0]


def test_a_board_without_a_button_never_reports_one(run_board):
    spec = dict(DEVKIT)
    del spec["button"]
    held, _, _, _, _ = run_board([0] * 10, spec)
    assert held is False


PROVISION = '''
import json
from portal import boot
class Opened(Exception):
    pass
class Dongle:
    def device_id(self):
        return "240ac4013fa2"
    def button_held(self):
        return True
    def start_ap(self, ssid, password, txpower=None):
        print(json.dumps([ssid, txpower]))
        raise Opened
try:
    boot.provision(Dongle(), %r)
except Opened:
    pass
'''


@pytest.mark.parametrize("stored,dbm", [({"txpower": 8.5}, 8.5), ({}, None)])
def test_the_portal_opened_with_the_button_hands_the_stored_txpower_to_the_access_point(
        tmp_path, stored, dbm):
    path = tmp_path / "config.json"
    wifi = dict({"ssid": "Home", "password": "wifi-pass-1"}, **stored)
    path.write_text(json.dumps({"wifi": wifi, "meter": {"source": "uart"}}))
    out = run_micropython(["-c", PROVISION % str(path)])
    assert out.returncode == 0, out.stdout.decode() + out.stderr.decode()
    assert json.loads(out.stdout.decode().splitlines()[-1]) == ["meterlink-3FA2", dbm]
