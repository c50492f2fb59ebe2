"""`make typecheck`: the hardware-facing code is checked against the esp32 port's real API.

The unix port has no machine.UART, machine.Pin or network.WLAN, so these calls are the part of
the firmware no other host test executes. These tests prove the check has teeth (a wrong call
in a temporary file is reported, even inside an unannotated function as the firmware writes
them) and that the real board layer passes it.
"""

import os
import re
import subprocess
import sys

import pytest

import typecheck
from mp import ROOT

WRONG_CALLS = '''\
import machine
import network


def open_meter(board):
    # keyword misspelt: the esp32 UART takes rx=, not rxpin=
    return machine.UART(board["id"], baudrate=115200, rxpin=board["rx"], tx=board["tx"])


def join(ssid, password):
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    wlan.conect(ssid, password)   # no such method
    return wlan


def led():
    return machine.Pin(2, machine.Pin.OUTPUT)   # the constant is Pin.OUT
'''

RIGHT_CALLS = '''\
import asyncio
import machine
import network
import time


def open_meter(board):
    return machine.UART(board["id"], baudrate=115200, rx=board["rx"], tx=board["tx"],
                        rxbuf=4096, timeout=0, invert=machine.UART.INV_RX)


def join(ssid, password):
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    wlan.connect(ssid, password)
    time.sleep_ms(100)
    return wlan.isconnected()


async def blink(pin):
    led = machine.Pin(pin, machine.Pin.OUT)
    led.value(1)
    await asyncio.sleep_ms(50)
    led.value(0)
'''


def run_typecheck(*paths):
    return subprocess.run([sys.executable, os.path.join(ROOT, "tools", "typecheck.py")]
                          + [str(p) for p in paths], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def test_the_pinned_stubs_are_installed_where_make_venv_puts_them():
    with open(os.path.join(ROOT, "requirements-typings.txt")) as f:
        pins = re.findall(r"^(micropython-[a-z0-9-]+)==(\S+)$", f.read(), re.M)
    installed = os.listdir(typecheck.TYPINGS)
    for name, version in pins:
        dist = "%s-%s.dist-info" % (name.replace("-", "_"), version)
        assert dist in installed, "%s not installed: run make venv" % dist


def test_a_wrong_uart_wlan_or_pin_call_is_reported(tmp_path):
    bad = tmp_path / "bad_board.py"
    bad.write_text(WRONG_CALLS)
    done = run_typecheck(bad)
    assert done.returncode == 1, done.stdout
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert any(':7: error: Unexpected keyword argument "rxpin"' in e for e in errors)
    assert any(":13: error:" in e and "conect" in e for e in errors)
    assert any(":18: error:" in e and "OUTPUT" in e for e in errors)


def test_correct_esp32_calls_pass(tmp_path):
    good = tmp_path / "good_board.py"
    good.write_text(RIGHT_CALLS)
    done = run_typecheck(good)
    assert done.returncode == 0, done.stdout
    assert "Success" in done.stdout


def test_the_check_finds_every_firmware_module_that_touches_the_hardware(tmp_path):
    (tmp_path / "board").mkdir()
    (tmp_path / "board" / "esp32.py").write_text("import machine\n")
    (tmp_path / "board" / "unix.py").write_text("import os\n")
    (tmp_path / "app.py").write_text("def f():\n    from network import WLAN\n")
    (tmp_path / "dec.py").write_text("# mentions machine but imports nothing\n")
    found = [os.path.relpath(p, str(tmp_path)) for p in typecheck.hardware_modules(str(tmp_path))]
    assert found == ["app.py", os.path.join("board", "esp32.py")]


def test_nothing_outside_the_board_layer_imports_the_hardware():
    """docs/design.md: board/ is the only importer of machine, network, esp32."""
    outside = [p for p in typecheck.hardware_modules()
               if not p.startswith(os.path.join(typecheck.FIRMWARE, "board") + os.sep)]
    assert outside == []


def test_the_device_only_network_clients_are_checked_too():
    # net/'s sockets are lwIP's on the device; the unix port mostly takes other paths.
    out = run_typecheck().stdout
    for name in ("__init__.py", "resolve.py", "ntp.py"):
        assert os.path.join(typecheck.FIRMWARE, "net", name) in typecheck.DEVICE_ONLY
        assert "net/" + name in out


def test_the_real_board_layer_passes():
    esp32 = os.path.join(typecheck.FIRMWARE, "board", "esp32.py")
    if not os.path.exists(esp32):
        pytest.skip("firmware/board/esp32.py is not written yet")
    assert esp32 in typecheck.hardware_modules()
    done = run_typecheck()
    assert done.returncode == 0, done.stdout
