"""`make run`: the meter simulator, a local broker and the gateway on the unix port.

    python tools/run_local.py [--config tools/run-config.json] [--seconds N]

Reads the gateway config with the gateway's own rules (firmware/config.py); when
``meter.source`` is ``tcp://`` on this machine it starts the simulator
(tools/simulate.py) there with the config's keys (its own when the config has
none); when ``mqtt.host`` is this machine and nothing listens on ``mqtt.port`` it
starts mosquitto there (if installed). Then it runs the gateway under the
MicroPython unix port from the .mpy build of firmware/ (tools/hostmpy.py), prints
the HTTP address and the gateway's log until Ctrl-C (or ``--seconds``). A config
the gateway refuses starts nothing else: it says which key (or where the JSON
is wrong), and the exit status is 2.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "firmware"))
MICROPYTHON = os.path.join(ROOT, ".venv", "bin", "micropython")
LOCAL = ("127.0.0.1", "localhost")


def _listening(port):
    # Whether something serves the port, asked by binding it rather than by connecting: a
    # simulator started by hand (tools/simulate.py --count N) took the probe for a client
    # and sent it a push, which the gateway then never got.
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed run's TIME_WAIT is free
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _start_simulator(meter):
    import simulate

    source = meter.get("source", "")
    host, _, port = source[6:].rpartition(":")
    if not source.startswith("tcp://") or host not in LOCAL:
        return None
    if _listening(int(port)):
        # Said: a simulator left from another run (other keys, another framing) or any
        # other program there is what the gateway reads, and nothing else told why its
        # pushes did not decode, or why none came.
        print("run: something already listens on %s, so no simulator is started: the gateway "
              "reads what serves it" % source)
        return None
    sim = simulate.Simulator(int(port), key=meter["key"] or simulate.DEFAULT_KEY,
                             auth_key=meter["auth_key"] or simulate.DEFAULT_AUTH_KEY, wall_clock=True).start()
    print("run: meter simulator on tcp://127.0.0.1:%d (pushes every %d s)" % (sim.port, sim.interval))
    if not meter["key"]:
        # Its pushes are ciphered with its own keys, which the gateway does not have: every one
        # would count as an authentication error, and no reading would come out.
        print("run: the config has no meter.key, so the simulator's pushes will not decode: give it "
              "the simulator's, meter.key %s and meter.auth_key %s (tools/run-config.json has them)"
              % (simulate.DEFAULT_KEY, simulate.DEFAULT_AUTH_KEY))
    return sim


def _start_broker(mqtt, workdir):
    port = mqtt["port"]
    if mqtt["host"] not in LOCAL or _listening(port):
        return None
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not os.path.exists(exe):
        print("run: no mosquitto installed; the gateway keeps retrying MQTT")
        return None
    conf = os.path.join(workdir, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n" % port)
    proc = subprocess.Popen([exe, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # Ctrl-C is ours to hand on
    print("run: mosquitto on 127.0.0.1:%d (try: mosquitto_sub -p %d %s -v)" % (port, port, _watch(mqtt)))
    return proc


def _watch(mqtt):
    """mosquitto_sub's -t options for every topic the gateway publishes with this config."""
    topics = [mqtt["prefix"] + "/#"]
    if mqtt["discovery"]:
        topics.append(mqtt["discovery_prefix"] + "/#")
    if mqtt["layout"] == "vse":
        topics.append("dt/%s/#" % mqtt["vse_group"])
    return " ".join("-t '%s'" % topic for topic in topics)


def _gateway(config_path, workdir, heapsize):
    # The .mpy build (build/host-mpy/, brought up to date here), as the device loads its
    # code: compiled from source, the setup page's modules wanted a big block of compiler
    # heap at each /config request, and at times got a 503 "out of memory".
    import hostmpy

    hostmpy.ensure()
    env = dict(os.environ)
    env["MICROPYPATH"] = ":".join([".frozen", hostmpy.HOST_BUILD, os.path.join(ROOT, ".venv", "mplib")])
    env["METERLINK_DIR"] = workdir
    # A process group of its own (the terminal's Ctrl-C is ours to hand on, and it prints no
    # traceback), not a session: a session leader that opens a tty (meter.source a serial
    # adapter) makes it its controlling terminal, and pulling the adapter out then killed
    # the gateway with SIGHUP, without a word.
    return subprocess.Popen([MICROPYTHON, "-X", "heapsize=%s" % heapsize, os.path.join(hostmpy.HOST_BUILD, "main.py"),
                             "--config", config_path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env, cwd=ROOT, process_group=0)


def _echo(gw):
    """Print the gateway's log as it comes, pointing out the HTTP address."""
    for raw in gw.stdout:
        line = raw.decode(errors="replace").rstrip()
        print("gateway: " + line)
        url = _browser_url(line)
        if url:
            print("run: readings at %s in a browser (JSON: %sapi/v1/readings)" % (url, url))
        sys.stdout.flush()


def _browser_url(line):
    """The address to open from the gateway's "http: listening on" line, else None."""
    if not line.startswith("http: listening on "):
        return None
    # Every interface (METERLINK_HTTP_HOST=0.0.0.0): a browser here finds it on loopback.
    return line[19:].replace("//0.0.0.0:", "//127.0.0.1:")


def _interrupt(signum, frame):
    # The first one stops the run, and the others are ignored from here on, not only from
    # the clean-up's `finally`: `timeout make run` (or systemd) signals make and us, and
    # make passes its SIGTERM on a moment later, which landed in the `except` that prints
    # "run: stopped" and ended the run with two tracebacks (3 of 3 runs).
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt


class Refused(Exception):
    """A configuration config.py refuses: said, and nothing is started."""


def _config(path):
    """The config as the gateway reads it; None when there is no file (then only the
    gateway runs, to say so in its words). Refused (after saying why, with the place of
    a JSON mistake) when config.py refuses it: the gateway reads the file with the same
    config.py, except that MicroPython's json takes much that is no JSON (a trailing or a
    missing comma, a missing colon, a raw tab in a string, a bad escape it quietly drops,
    leading zeros), which CPython's and `make deploy` refuse. It used to run on such a file
    anyway, after saying the simulator and mosquitto were not started, and retried a meter
    that never came for ever."""
    import config
    from deploy import json_where

    if not os.path.exists(path):
        return None
    try:
        return config.load(path)
    except config.ConfigError as e:
        print("run: configuration %s refused, nothing started: %s%s"
              % (path, e, json_where(path) if e.key == "(file)" else ""))
        raise Refused()


def _capture_note(source):
    """What to say of a capture file (meter.source) that is hex text, not the port's bytes,
    else None. The public captures are published as hex: the gateway read the digits as
    bytes, found no frame and said nothing (telegrams 0, errors 0). tools/decode.py reads
    such a file as hex, by the same test."""
    import decode

    if source.startswith("tcp://") or not os.path.isfile(source):
        return None
    with open(source, "rb") as f:
        if not decode.hex_text_file(f.read(decode.READ_SIZE)):
            return None
    return ("meter.source %s is hex text (or a log of it), not the port's bytes: the gateway reads a "
            "capture file's bytes as they are and finds no frame in it; decode it with "
            "`.venv/bin/python tools/decode.py %s`, or give the gateway the bytes (`xxd -r -p` turns "
            "plain hex into them)" % (source, source))


def _stop(proc):
    # terminate, and kill what does not end within 5 s: a clean-up that raised here left
    # mosquitto running.
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def main(argv=None):
    p = argparse.ArgumentParser(description="meterlink on the unix port against the simulator")
    p.add_argument("--config", default=os.path.join(ROOT, "tools", "run-config.json"))
    p.add_argument("--seconds", type=float, default=None, help="stop after this long")
    # 512k: from .mpy files the gateway answers /config beside a running meter from 240-256 kB
    # (README), and at 256 kB a save after a run of odd requests ran out of memory now and
    # then. The device's budget is measured apart (tools/bench_gateway.py, docs/memory.md).
    p.add_argument("--heapsize", default="512k", help="MicroPython heap (the code itself lives in it on unix)")
    args = p.parse_args(argv)
    # SIGTERM stops it as Ctrl-C does: the gateway and mosquitto run in process groups of
    # their own (no traceback on Ctrl-C), so only this process can stop them.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)  # the terminal closed: stop them too
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupt)  # Ctrl-C twice: the second is ignored too
    try:
        cfg = _config(args.config)
    except Refused:
        return 2
    if cfg is not None:
        from deploy import escaped_pair

        pair = escaped_pair(args.config)  # read otherwise by MicroPython: nothing is started
        if pair:
            print("run: %s" % pair)
            return 2
    workdir = tempfile.mkdtemp(prefix="meterlink-run-")
    sim = broker = gw = ended = None
    try:
        # Inside the try from the first start on: building the .mpy files for the gateway
        # can take a while, and an interrupt then must still stop the broker.
        if cfg is not None:
            note = _capture_note(cfg["meter"]["source"])
            if note:
                print("run: " + note)
            sim = _start_simulator(cfg["meter"])
            broker = _start_broker(cfg["mqtt"], workdir)
        gw = _gateway(os.path.abspath(args.config), workdir, args.heapsize)
        threading.Thread(target=_echo, args=(gw,), daemon=True).start()
        deadline = None if args.seconds is None else time.monotonic() + args.seconds
        while gw.poll() is None and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.2)
        ended = gw.returncode  # None: still running, stopped by us below
    except KeyboardInterrupt:
        print("run: stopped")
    finally:
        # A second Ctrl-C (or make's SIGTERM after the first) must not cut the clean-up
        # short: the gateway and mosquitto run in process groups of their own and would
        # outlive us.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        for proc in (gw, broker):
            _stop(proc)
        if sim is not None:
            sim.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    if gw is None:
        return 130  # interrupted before the gateway started
    if ended is not None and ended < 0:
        # Killed by a signal we did not send (the OOM killer, a kill from elsewhere):
        # said, and not reported as success.
        print("run: the gateway was killed by signal %d" % -ended)
        return 128 - ended
    return gw.returncode if gw.returncode and gw.returncode > 0 else 0


if __name__ == "__main__":
    sys.exit(main())
