"""`make run`: the meter simulator, a local broker and the gateway on the unix port.

    python tools/run_local.py [--config tools/run-config.json] [--seconds N]

Reads the gateway config; when ``meter.source`` is ``tcp://`` on this machine
it starts the simulator (tools/simulate.py) there with the config's keys; when
``mqtt.host`` is this machine and nothing listens on ``mqtt.port`` it starts
mosquitto there (if installed). Then it runs firmware/main.py under the
MicroPython unix port, prints the HTTP address and the gateway's log until
Ctrl-C (or ``--seconds``).
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
MICROPYTHON = os.path.join(ROOT, ".venv", "bin", "micropython")
LOCAL = ("127.0.0.1", "localhost")


def _listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.3).close()
        return True
    except OSError:
        return False


def _start_simulator(meter):
    import simulate

    source = meter.get("source", "")
    host, _, port = source[6:].rpartition(":")
    if not source.startswith("tcp://") or host not in LOCAL or _listening(int(port)):
        return None
    sim = simulate.Simulator(int(port), key=meter.get("key") or simulate.DEFAULT_KEY,
                             auth_key=meter.get("auth_key", simulate.DEFAULT_AUTH_KEY)).start()
    print("run: meter simulator on tcp://127.0.0.1:%d (pushes every %d s)" % (sim.port, sim.interval))
    return sim


def _start_broker(mqtt, workdir):
    port = mqtt.get("port", 1883)
    if mqtt.get("host") not in LOCAL or _listening(port):
        return None
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not os.path.exists(exe):
        print("run: no mosquitto installed; the gateway keeps retrying MQTT")
        return None
    conf = os.path.join(workdir, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n" % port)
    proc = subprocess.Popen([exe, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print("run: mosquitto on 127.0.0.1:%d (try: mosquitto_sub -p %d -t 'meterlink/#' -v)" % (port, port))
    return proc


def _gateway(config_path, workdir, heapsize):
    env = dict(os.environ)
    env["MICROPYPATH"] = ":".join([".frozen", os.path.join(ROOT, "firmware"), os.path.join(ROOT, ".venv", "mplib")])
    env["METERLINK_DIR"] = workdir
    return subprocess.Popen([MICROPYTHON, "-X", "heapsize=%s" % heapsize, os.path.join(ROOT, "firmware", "main.py"),
                             "--config", config_path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env, cwd=ROOT)


def _echo(gw):
    """Print the gateway's log as it comes, pointing out the HTTP address."""
    for raw in gw.stdout:
        line = raw.decode(errors="replace").rstrip()
        print("gateway: " + line)
        if line.startswith("http: listening on "):
            print("run: HTTP API at %s (try %sapi/v1/readings)" % (line[19:], line[19:]))
        sys.stdout.flush()


def main(argv=None):
    p = argparse.ArgumentParser(description="meterlink on the unix port against the simulator")
    p.add_argument("--config", default=os.path.join(ROOT, "tools", "run-config.json"))
    p.add_argument("--seconds", type=float, default=None, help="stop after this long")
    p.add_argument("--heapsize", default="256k", help="MicroPython heap (the code itself lives in it on unix)")
    args = p.parse_args(argv)
    with open(args.config) as f:
        cfg = json.load(f)
    workdir = tempfile.mkdtemp(prefix="meterlink-run-")
    sim = _start_simulator(cfg.get("meter", {}))
    broker = _start_broker(cfg.get("mqtt", {}), workdir)
    gw = _gateway(os.path.abspath(args.config), workdir, args.heapsize)
    threading.Thread(target=_echo, args=(gw,), daemon=True).start()
    deadline = None if args.seconds is None else time.monotonic() + args.seconds
    try:
        while gw.poll() is None and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        if gw.poll() is None:
            gw.terminate()
            gw.wait(5)
        if broker is not None:
            broker.terminate()
            broker.wait(5)
        if sim is not None:
            sim.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return gw.returncode if gw.returncode and gw.returncode > 0 else 0


if __name__ == "__main__":
    sys.exit(main())
