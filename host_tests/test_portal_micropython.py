"""The portal's rules give the same answers on the MicroPython unix port as on CPython:
the boot decision, the form checks (the VSE layout's too), the revision of the settings, the
admin guard, the page with its errors and notes, a refusal's page and the DNS answer."""

import json
import os
import subprocess
import sys

import pytest

from mp import ROOT, run_micropython

SCRIPT = r"""
import json, asyncio, binascii
import config
from portal import auth, boot, dns, form, mode, page

out = {}
out["choose"] = [mode.choose(c, b, j, f) for c in (0, 1) for b in (0, 1) for j in (0, 1)
                 for f in (0, 1)]
good = {"wifi.ssid": "Home", "wifi.password": "wifi-pass-1", "meter": "e360",
        "meter.key": "00112233445566778899AABBCCDDEEFF", "mqtt.host": "b", "mqtt.port": "1883",
        "mqtt.prefix": "m", "mqtt.discovery": "on", "admin.password": "admin-pass-1"}
cfg, errors = form.apply(good, config.validate({}))
out["good"] = [errors, cfg["meter"], cfg["mqtt"]["port"]]
bad = dict(good)
bad.update({"mqtt.port": "x", "meter.key": "1", "mqtt.prefix": "#", "wifi.password": "1"})
out["bad"] = sorted(form.apply(bad, config.validate({}))[1].items())
clock = [0]
guard = auth.Guard(lambda: clock[0])
header = "Basic " + binascii.b2a_base64(b"u:admin-pass-1").decode().strip()
out["guard"] = [guard.check("Basic eDp5", "admin-pass-1") for _ in range(5)]
out["guard"].append(guard.check(header, "admin-pass-1"))
clock[0] = 31
out["guard"].append(guard.check(header, "admin-pass-1"))
parts = page.render({"mqtt.port": 1883}, {"mqtt.port": "bad"}, {"meter.key": True},
                    ["<x>", "Home"], "dev")
out["page"] = [sum([len(p) for p in parts]), sum([p.count("unchanged") for p in parts]),
               any(["&lt;x&gt;" in p for p in parts])]
vse = dict(good)
vse.update({"mqtt.layout": "vse", "mqtt.vse_group": "Haus 7"})
out["vse"] = sorted(form.apply(vse, config.validate({}))[1].items())
vse["mqtt.vse_group"] = "haus-7"
out["revision"] = [form.revision(form.apply(vse, config.validate({}))[0]), form.revision(cfg)]
parts = page.render({}, {"mqtt.port": "bad"}, {}, [], "dev", None, False, {"wifi.password": "again"})
out["notes"] = [sum([p.count('class="attn"') for p in parts]),
                sum([p.count('aria-invalid="true"') for p in parts]), sum([len(p) for p in parts])]
out["refusal"] = len(page.refusal(429, "wait <1> s", "/config"))
query = bytes.fromhex("12340100000100000000000007657861" "6d706c6503636f6d0000010001")
buf = bytearray(600)
n = dns.answer(query, dns.address_bytes("192.168.4.1"), buf)
out["dns"] = binascii.hexlify(bytes(buf[:n])).decode()
out["ssid"] = boot.ap_ssid("a4cf12b3fa2e")
print(json.dumps(out))
"""


def run_cpython():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "firmware"),
                                                        os.path.join(ROOT, "tools", "shims")]))
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, env=env,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


@pytest.mark.parametrize("heapsize", ["128k"])  # unix objects are 64-bit: ~ESP32 with WiFi up
def test_same_answers_on_micropython_and_cpython(heapsize):
    done = run_micropython(["-c", SCRIPT], heapsize=heapsize)
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()
    on_micropython = json.loads(done.stdout)
    on_cpython = run_cpython()
    assert on_micropython == on_cpython
    assert on_cpython["guard"] == [1, 1, 1, 1, 1, 2, 0]
    assert on_cpython["page"][1:] == [1, True]
    assert on_cpython["ssid"] == "meterlink-FA2E"
    assert on_cpython["vse"][0][0] == "mqtt.vse_group"
    assert len(set(on_cpython["revision"])) == 2
    assert on_cpython["notes"][:2] == [1, 1]


CRASH = r"""
from portal import boot
boot.CRASH_RESTART_S = 0
class Board:
    resets = 0
    def config_path(self):
        raise MemoryError("memory allocation failed")  # as an import at boot can
    def reset(self):
        Board.resets += 1
board = Board()
boot.main([], board, on_device=True)
print("RESETS", Board.resets)
"""


def test_on_the_device_an_error_at_boot_restarts_it_instead_of_stopping_at_the_repl():
    # Nobody sits at a dongle's REPL: an error before the watchdog runs would leave it
    # there until it is unplugged. The traceback is printed for the USB console first.
    done = run_micropython(["-c", CRASH])
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode()
    assert "MemoryError: memory allocation failed" in out
    assert "meterlink: restarting in 0 s (Ctrl-C for the REPL)" in out
    assert out.rstrip().endswith("RESETS 1")


INTERRUPTED = r"""
from portal import boot
boot.CRASH_RESTART_S = 0
class Board:
    parked = resets = 0
    def config_path(self):
        raise KeyboardInterrupt  # Ctrl-C at the USB console, wherever it lands
    def watchdog_park(self):
        Board.parked += 1
    def reset(self):
        Board.resets += 1
try:
    boot.main([], Board(), on_device=True)
except KeyboardInterrupt:
    print("REPL", Board.parked, Board.resets)
"""


def test_on_the_device_ctrl_c_leaves_the_repl_with_the_watchdog_parked():
    # The watchdog cannot be stopped: unfed at the REPL it reset the board within 30 s,
    # under a user editing the configuration (a review of the device code).
    done = run_micropython(["-c", INTERRUPTED])
    assert done.stdout.decode().split()[-3:] == ["REPL", "1", "0"], done.stdout + done.stderr


def test_on_unix_the_same_error_ends_the_program_with_its_traceback():
    done = run_micropython(["-c", CRASH.replace("on_device=True", "on_device=False")])
    out = done.stdout.decode() + done.stderr.decode()
    assert done.returncode != 0
    assert "MemoryError: memory allocation failed" in out
    assert "RESETS" not in out and "restarting" not in out


REFUSED = r"""
import os
from portal import boot
boot.CRASH_RESTART_S = 0
PATH = %r
class Board:
    resets = 0
    def config_path(self):
        return PATH
    def reset(self):
        Board.resets += 1
with open(PATH, "w") as f:
    f.write("{}")
with open(PATH + ".joined", "w") as f:
    f.write("stamp")
boot.main(["main.py", "--conf", PATH], Board(), on_device=True)
def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False
print("RESETS", Board.resets, "PORTAL", exists(PATH + ".portal"), "JOINED", exists(PATH + ".joined"))
"""


def test_on_the_device_a_configuration_the_gateway_refuses_opens_the_portal_at_the_next_boot(tmp_path):
    # An unknown meter profile passed the boot decision (it does not load the decoder) and
    # the gateway refused it at every boot, restarting for ever. Status 2 (here from a
    # command line, which reaches the same exit) now asks for the portal, joined or not.
    done = run_micropython(["-c", REFUSED % str(tmp_path / "config.json")])
    out = done.stdout.decode()
    assert "meterlink: --conf: not an option" in out and "stopped (status 2)" in out, out + done.stderr.decode()
    assert out.rstrip().endswith("RESETS 1 PORTAL True JOINED False")


@pytest.mark.parametrize("argv, said", [
    (["p", "--conf", "x"], "meterlink: --conf: not an option (options: --config --portal-port --dns-port --portal-host, each with a value)"),
    (["p", "--config"], "meterlink: --config needs a value"),
    (["p", "x.json"], "meterlink: x.json: not an option"),
    (["p", "--config", "a.json", "--portal-port", "8080"], "[('--config', 'a.json'), ('--portal-port', '8080')]"),
    (["p"], "[]"),
])
def test_the_command_line_takes_its_options_with_values_and_nothing_else(argv, said):
    done = run_micropython(["-c", "from app import command_line\nout = command_line(%r)\n"
                            "print(out if out is None else sorted(out.items()))" % (argv,)])
    out = done.stdout.decode()
    assert said in out, out + done.stderr.decode()
    assert out.rstrip().endswith("None") == (said[0] != "[")


def test_a_portal_port_that_is_no_number_is_refused_without_a_traceback(tmp_path):
    done = run_micropython(["-c", "from portal import boot\nimport sys\n"
                            "sys.exit(boot.main(['p', '--config', %r, '--portal-port', 'eighty']))"
                            % str(tmp_path / "c.json")])
    out = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 2 and "--portal-port and --dns-port take a port number" in out
    assert "Traceback" not in out
