"""`make run` (tools/run_local.py): simulator + broker + gateway, and the HTTP address printed."""

import json
import os
import socket
import subprocess
import sys

import pytest

from gateway_support import free_port
from mp import ROOT
from test_gateway_e2e import pytestmark  # noqa: F401  (needs mosquitto)


def _listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def run_config(tmp_path):
    """The shipped run config on free ports: (its path, simulator, broker and HTTP ports)."""
    cfg = json.load(open(os.path.join(ROOT, "tools", "run-config.json")))
    sim_port, mqtt_port, http_port = free_port(), free_port(), free_port()
    cfg["meter"]["source"] = "tcp://127.0.0.1:%d" % sim_port
    cfg["mqtt"]["port"] = mqtt_port
    cfg["http"]["port"] = http_port
    path = tmp_path / "run.json"
    path.write_text(json.dumps(cfg))
    return path, sim_port, mqtt_port, http_port


def test_run_local_starts_everything_and_prints_the_http_address(tmp_path):
    path, sim_port, mqtt_port, http_port = run_config(tmp_path)
    out = subprocess.run([sys.executable, "tools/run_local.py", "--config", str(path), "--seconds", "8"],
                         cwd=ROOT, capture_output=True, timeout=60)
    text = out.stdout.decode()
    assert out.returncode == 0, text + out.stderr.decode()
    assert "meter simulator on tcp://127.0.0.1:%d" % sim_port in text
    assert "mosquitto on 127.0.0.1:%d (try: mosquitto_sub -p %d -t 'meterlink/#' -t 'homeassistant/#' -v)" % (
        mqtt_port, mqtt_port) in text
    assert "run: readings at http://127.0.0.1:%d/ in a browser" % http_port in text
    assert "mqtt: connected" in text


def test_the_subscription_hint_follows_the_configured_topics():
    # It named meterlink/# whatever mqtt.prefix said: a user who had set one saw nothing.
    import config
    import run_local

    cfg = config.validate({"meter": {"key": "00" * 16}, "device_id": "d", "mqtt": {
        "host": "127.0.0.1", "prefix": "home/meter", "discovery": False, "layout": "vse",
        "vse_group": "flat"}}, "x")
    assert run_local._watch(cfg["mqtt"]) == "-t 'home/meter/#' -t 'dt/flat/#'"


def test_a_gateway_open_on_every_interface_is_pointed_at_on_loopback():
    # "http://0.0.0.0:8080/" is where it listens, not an address a browser opens.
    import run_local

    assert run_local._browser_url("http: listening on http://0.0.0.0:8080/") == "http://127.0.0.1:8080/"
    assert run_local._browser_url("http: listening on http://192.168.1.20:80/") == "http://192.168.1.20:80/"
    assert run_local._browser_url("mqtt: connected") is None


def test_the_shipped_run_config_is_valid():
    import config

    cfg = config.validate(json.load(open(os.path.join(ROOT, "tools", "run-config.json"))), "x")
    assert cfg["meter"]["source"].startswith("tcp://127.0.0.1:")


def test_a_config_the_gateway_refuses_starts_nothing_and_the_gateway_names_the_key(tmp_path):
    # run_local used to read the file itself: a missing or broken file was a Python
    # traceback, a port written "1883" a TypeError, and a bad port started mosquitto on it.
    cases = {"port.json": ('{"mqtt": {"host": "127.0.0.1", "port": 70000}}', "mqtt.port: must be between 1 and 65535"),
             "broken.json": ("{not json", "(file): "),
             "missing.json": (None, "(file): no such file"),
             # CPython reads it, MicroPython's json otherwise (a black-box rerun: the simulator
             # and mosquitto started, then the gateway refused half the character).
             "pair.json": ('{"mqtt": {"host": "127.0.0.1", "user": "meter\\ud83d\\ude00"}}',
                           "written as two \\u escapes")}
    for name, (text, words) in cases.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        out = subprocess.run([sys.executable, "tools/run_local.py", "--config", str(path), "--seconds", "20"],
                             cwd=ROOT, capture_output=True, timeout=60)
        said = out.stdout.decode() + out.stderr.decode()
        assert out.returncode == 2, said
        assert words in said and "Traceback" not in said, said
        assert "run: meter simulator" not in said and "run: mosquitto" not in said, said


def test_a_config_with_spaced_keys_and_a_port_as_text_runs_and_decodes(tmp_path):
    # The config allows keys in spaces and colons and numbers as text (a form's way);
    # the simulator gets the keys as the gateway reads them, so the pushes decode.
    import time
    import urllib.request

    sim_port, mqtt_port, http_port = free_port(), free_port(), free_port()
    key = " ".join("5AD84121D9D20B364B7A11F3C1B5827F"[i:i + 2] for i in range(0, 32, 2))
    auth = ":".join("AFB3F93E3E7204CDB495D4B2BA7E8C74"[i:i + 2] for i in range(0, 32, 2))
    cfg = {"meter": {"source": "tcp://127.0.0.1:%d" % sim_port, "key": key, "auth_key": auth},
           "mqtt": {"host": "127.0.0.1", "port": str(mqtt_port)}, "http": {"port": http_port}}
    path = tmp_path / "spaced.json"
    path.write_text(json.dumps(cfg))
    run = subprocess.Popen([sys.executable, "tools/run_local.py", "--config", str(path), "--seconds", "30"],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    status = None
    try:
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/status" % http_port, timeout=2) as r:
                    status = json.loads(r.read())
                if status["telegrams"]:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        meter_time = None
        if status is not None and status["telegrams"]:  # else the asserts below say what failed
            with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/readings" % http_port, timeout=5) as r:
                meter_time = json.loads(r.read())["meter_time"]
    finally:
        run.terminate()
        text = run.communicate(timeout=20)[0].decode()
    assert "Traceback" not in text and "mosquitto on 127.0.0.1:%d" % mqtt_port in text, text
    assert status is not None and status["telegrams"] >= 1, (status, text)
    # make run's meter tells the time of day (it told 2026-11-25 12:00 whatever the date)
    import datetime

    assert abs(time.time() - datetime.datetime.fromisoformat(meter_time).timestamp()) < 30, meter_time
    assert status["errors"]["authentication"] == 0 and status["mqtt"]["connected"], status
    # Stopped (SIGTERM, as Ctrl-C), it stops the gateway and mosquitto it started.

    for port in (mqtt_port, http_port):
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            raise AssertionError("port %d still open after make run stopped" % port)
        except ConnectionRefusedError:
            pass


def test_a_second_interrupt_during_clean_up_still_stops_the_gateway_and_the_broker(tmp_path):
    # Ctrl-C twice, or make passing on a SIGTERM after the first: the clean-up was cut
    # short by the second, and the gateway and mosquitto (sessions of their own, out of
    # the terminal's reach) kept running, holding their ports.
    import signal
    import time

    path, _, mqtt_port, http_port = run_config(tmp_path)
    run = subprocess.Popen([sys.executable, "tools/run_local.py", "--config", str(path)], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen = []
    for raw in run.stdout:
        seen.append(raw.decode())
        if "mqtt: connected" in seen[-1]:
            break
    run.send_signal(signal.SIGINT)
    time.sleep(0.05)
    run.send_signal(signal.SIGTERM)
    said = "".join(seen) + run.communicate(timeout=30)[0].decode()
    assert "Traceback" not in said, said

    deadline = time.monotonic() + 10
    while (_listening(mqtt_port) or _listening(http_port)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _listening(mqtt_port) and not _listening(http_port), said


def test_a_simulator_port_already_taken_is_said(capsys):
    # run_local started no simulator there and said nothing: a simulator left from an
    # earlier run (another key) made every push an authentication error, unexplained.
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import run_local

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        meter = {"source": "tcp://127.0.0.1:%d" % port, "key": "", "auth_key": ""}
        assert run_local._start_simulator(meter) is None
    said = capsys.readouterr().out
    assert "already listens on tcp://127.0.0.1:%d" % port in said and "no simulator" in said


def test_the_first_interrupt_ignores_the_ones_after_it():
    # `timeout make run` signals make and run_local, and make passes its SIGTERM on a
    # moment later: it landed in the `except` that prints "run: stopped", before the
    # clean-up's `finally` ignored signals, and the run ended in two tracebacks (3 of 3
    # tries). The 50 ms gap of the test above misses that window; this does not.
    import signal

    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import run_local

    kept = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        with pytest.raises(KeyboardInterrupt):
            run_local._interrupt(signal.SIGTERM, None)
        assert all(signal.getsignal(sig) is signal.SIG_IGN for sig in kept)
    finally:
        for sig, handler in kept.items():
            signal.signal(sig, handler)


def test_an_interrupt_while_the_gateway_is_still_being_built_stops_the_broker(tmp_path):
    # The broker starts first, then the gateway's .mpy build runs (a while after an edit):
    # an interrupt in between skipped the clean-up, and mosquitto outlived make run.
    import signal
    import time

    path, _, mqtt_port, _ = run_config(tmp_path)
    slow_build = ("import sys, time; sys.path.insert(0, 'tools'); import run_local; "
                  "run_local._gateway = lambda *args: time.sleep(30); "
                  "sys.exit(run_local.main(['--config', %r]))" % str(path))
    run = subprocess.Popen([sys.executable, "-c", slow_build], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    deadline = time.monotonic() + 20
    while not _listening(mqtt_port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _listening(mqtt_port), "the broker never started"
    run.send_signal(signal.SIGTERM)
    said = run.communicate(timeout=30)[0].decode()
    assert run.returncode == 130 and "Traceback" not in said, said
    deadline = time.monotonic() + 10
    while _listening(mqtt_port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _listening(mqtt_port), said


def _children(pid):
    """The pids whose parent is ``pid`` (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def _started(run, what="http: listening"):
    seen = []
    for raw in run.stdout:
        seen.append(raw.decode())
        if what in seen[-1]:
            return seen
    raise AssertionError("".join(seen))


def test_a_serial_adapter_pulled_out_under_make_run_leaves_the_gateway_running(tmp_path):
    # The gateway ran as a session leader: opening the tty made it the controlling
    # terminal, and the hang-up on unplugging killed it by SIGHUP, silently, status 0.
    import signal
    import time
    import urllib.request

    import simulate

    path, _, _, http_port = run_config(tmp_path)
    cfg = json.loads(path.read_text())
    master, slave = os.openpty()
    cfg["meter"]["source"] = os.ttyname(slave)
    path.write_text(json.dumps(cfg))
    run = subprocess.Popen([sys.executable, "tools/run_local.py", "--config", str(path)], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _started(run)
        url = "http://127.0.0.1:%d/api/v1/status" % http_port
        deadline = time.monotonic() + 10
        while not json.loads(urllib.request.urlopen(url, timeout=5).read())["meter"]["connected"]:
            assert time.monotonic() < deadline, "the tty never opened"  # bytes before stty: cooked
            time.sleep(0.05)
        os.write(master, simulate.push_bytes(0, "hdlc"))
        while json.loads(urllib.request.urlopen(url, timeout=5).read())["telegrams"] < 1:
            assert time.monotonic() < deadline, "no telegram from the tty"
            time.sleep(0.1)
        os.close(master)  # the adapter pulled out
        os.close(slave)
        deadline = time.monotonic() + 10
        while json.loads(urllib.request.urlopen(url, timeout=5).read())["meter"]["connected"]:
            assert time.monotonic() < deadline, "the pulled-out adapter still reads as connected"
            time.sleep(0.1)
        assert run.poll() is None
        status = json.loads(urllib.request.urlopen(url, timeout=5).read())
        assert status["meter"]["connected"] is False and status["telegrams"] == 2
    finally:
        run.send_signal(signal.SIGTERM)
        said = run.communicate(timeout=30)[0].decode()
    assert "closed, reopening" in said, said


def test_a_gateway_killed_from_elsewhere_is_said_and_not_a_success(tmp_path):
    import signal

    path, _, _, _ = run_config(tmp_path)
    run = subprocess.Popen([sys.executable, "tools/run_local.py", "--config", str(path)], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen = _started(run)
    gateways = [pid for pid in _children(run.pid) if "micropython" in open("/proc/%d/cmdline" % pid).read()]
    assert len(gateways) == 1, gateways
    os.kill(gateways[0], signal.SIGKILL)
    said = "".join(seen) + run.communicate(timeout=30)[0].decode()
    assert run.returncode == 128 + signal.SIGKILL, said
    assert "run: the gateway was killed by signal 9" in said


def test_a_hang_up_stops_everything_like_ctrl_c(tmp_path):
    # The terminal closed: make run's children were left running (SIGHUP ended only us).
    import signal
    import time

    path, _, mqtt_port, http_port = run_config(tmp_path)
    run = subprocess.Popen([sys.executable, "tools/run_local.py", "--config", str(path)], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen = _started(run, "mqtt: connected")
    run.send_signal(signal.SIGHUP)
    said = "".join(seen) + run.communicate(timeout=30)[0].decode()
    assert "run: stopped" in said and "Traceback" not in said, said
    deadline = time.monotonic() + 10
    while (_listening(mqtt_port) or _listening(http_port)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _listening(mqtt_port) and not _listening(http_port), said


def test_make_run_asks_whether_a_port_is_served_without_connecting_to_it():
    # A simulator started by hand with --count took the probe's connection for a client,
    # and the gateway got one push fewer.
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import run_local

    accepted = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(0.3)
        port = server.getsockname()[1]
        assert run_local._listening(port)
        try:
            accepted.append(server.accept())
        except socket.timeout:
            pass
    assert accepted == []
    assert not run_local._listening(free_port())


def test_a_config_that_is_not_json_says_where_and_starts_nothing(tmp_path):
    # A trailing comma: MicroPython's json takes it, CPython's (and make deploy) not. make run
    # said "the simulator and mosquitto are not started: ... is not valid JSON", and then ran
    # the gateway on it anyway, retrying a meter that never came (ECONNREFUSED) for ever; the
    # line named no place in the file either.
    path, sim_port, mqtt_port, http_port = run_config(tmp_path)
    text = path.read_text()
    path.write_text(text[:text.rindex("}")] + ",\n}")  # a comma after the last member
    out = subprocess.run([sys.executable, "tools/run_local.py", "--config", str(path), "--seconds", "10"],
                         cwd=ROOT, capture_output=True, timeout=60)
    said = out.stdout.decode() + out.stderr.decode()
    assert out.returncode == 2, said
    assert "is not valid JSON: line 2 column 1" in said, said
    assert "gateway:" not in said and "run: meter simulator" not in said, said


def test_a_capture_file_of_hex_text_as_the_meter_is_said(tmp_path):
    # The public captures are published as hex; given as meter.source, the gateway read the
    # digits as the port's bytes, found no frame in them and said nothing at all: telegrams
    # 0, errors 0, last_error null. tools/decode.py reads such a file as hex, with a note.
    import run_local
    import simulate

    push = simulate.push_bytes(0, "hdlc")
    plain = tmp_path / "push.hex"
    plain.write_text(push.hex() + "\n")
    dump = tmp_path / "push.xxd"
    dump.write_text("".join("%08x: %s  ................\n" % (i, " ".join(
        push[j:j + 2].hex() for j in range(i, min(i + 16, len(push)), 2))) for i in range(0, len(push), 16)))
    binary = tmp_path / "push.bin"
    binary.write_bytes(push)
    dsmr = tmp_path / "telegram.txt"
    dsmr.write_bytes(b"/ISK5\\2M550T-1012\r\n\r\n1-0:1.8.1(000404.374*kWh)\r\n!\r\n")
    for path in (plain, dump):
        note = run_local._capture_note(str(path))
        assert note and "hex text" in note and "tools/decode.py" in note, (path, note)
    for source in (str(binary), str(dsmr), "tcp://127.0.0.1:7000", str(tmp_path / "missing.bin")):
        assert run_local._capture_note(source) is None, source
