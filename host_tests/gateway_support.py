"""Test helpers for the gateway: a real mosquitto, a paho subscriber, the gateway process.

Everything here is real: ``/usr/sbin/mosquitto`` on a free loopback port with a
temporary config, the gateway under the MicroPython unix port in its own
process, the meter simulator from tools/simulate.py over TCP.
"""

import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from mp import MICROPYTHON, MP_LIB, ROOT, compiled_tree, micropython_env, search_path, short

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=20.0, step=0.05, what="condition"):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting for %s" % (what() if callable(what) else what))


class Broker:
    """mosquitto on a fixed loopback port; ``stop()``/``start()`` for outage tests."""

    def __init__(self, tmpdir, port=None, users=None):
        self.port = port or free_port()
        self.conf = os.path.join(str(tmpdir), "mosquitto.conf")
        lines = ["listener %d 127.0.0.1" % self.port, "persistence false", "set_tcp_nodelay true"]
        if users:
            # mosquitto started as root reads its files as user "mosquitto":
            # the password file goes where that user can reach it.
            self.passwd_dir = tempfile.mkdtemp(prefix="mosquitto-")
            os.chmod(self.passwd_dir, 0o755)
            passwd = os.path.join(self.passwd_dir, "passwd")
            open(passwd, "w").close()
            for user, password in users.items():
                subprocess.run(["mosquitto_passwd", "-b", passwd, user, password], check=True)
            os.chmod(passwd, 0o644)
            lines += ["allow_anonymous false", "password_file %s" % passwd]
        else:
            lines.append("allow_anonymous true")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_until(self._accepts, 10, what="mosquitto to listen")
        return self

    def _accepts(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), 0.2).close()
            return True
        except OSError:
            return False

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None
        if getattr(self, "passwd_dir", None):
            shutil.rmtree(self.passwd_dir, ignore_errors=True)


class Subscriber:
    """paho-mqtt client recording every message (retained ones included)."""

    def __init__(self, port, topics=("#",), name="test-sub"):
        import paho.mqtt.client as mqtt

        self.messages = []  # (topic, payload bytes, retain, monotonic time)
        self.lock = threading.Lock()
        # One client id per name and process: a broker drops a client whose id another takes.
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="%s-%d" % (name, os.getpid()))
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, u, f, rc, p=None: [c.subscribe(t) for t in topics]
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client, userdata, msg):
        with self.lock:
            self.messages.append((msg.topic, bytes(msg.payload), msg.retain, time.monotonic()))

    def on(self, topic):
        with self.lock:
            return [m for m in self.messages if m[0] == topic]

    def last(self, topic):
        found = self.on(topic)
        return found[-1][1] if found else None

    def last_json(self, topic):
        payload = self.last(topic)
        return None if payload is None else json.loads(payload)

    def topics(self):
        with self.lock:
            return set(m[0] for m in self.messages)

    def clear(self):
        with self.lock:
            self.messages = []

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def compiled_lib():
    """build/host-mpy-lib/: the third-party MicroPython modules (umqtt) as .mpy for this
    port, as they go onto the device; kept up to date like mp.compiled_tree()."""
    import hostmpy
    import mpybuild

    out = os.path.join(mpybuild.BUILD, "host-mpy-lib")
    hostmpy.ensure(out, MP_LIB, flags=())
    return out


def compiled_code():
    """(firmware tree, library tree), both .mpy: the gateway as the device loads it."""
    return compiled_tree(), compiled_lib()


class Gateway:
    """firmware/main.py under ``micropython -X heapsize=…`` with a temp config file.

    ``code_dir``: a .mpy build of firmware/ searched first (its main.py is run);
    ``lib_dir``: a .mpy build of the third-party modules searched next.
    """

    def __init__(self, tmpdir, cfg, heapsize="128k", code_dir=None, lib_dir=None, env=None):
        self.dir = str(tmpdir)
        self.config_path = os.path.join(self.dir, "gateway-config.json")
        with open(self.config_path, "w") as f:
            json.dump(cfg, f)
        self.cfg = cfg
        self.heapsize = heapsize
        self.log_path = os.path.join(self.dir, "gateway.log")
        self.code_dir = code_dir  # a .mpy build searched before firmware/
        self.lib_dir = lib_dir
        self.env = env or {}  # more environment for the gateway (METERLINK_DNS, ...)
        self.proc = None

    def start(self):
        env = micropython_env()
        if self.code_dir:
            first = [self.code_dir] + ([self.lib_dir] if self.lib_dir else [])
            env["MICROPYPATH"] = search_path(*(first + [os.path.join(ROOT, "firmware"), MP_LIB]))
        env["METERLINK_DIR"] = self.dir
        env.update(self.env)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [MICROPYTHON, "-X", "heapsize=%s" % self.heapsize, short(os.path.join(self.code_dir or os.path.join(ROOT, "firmware"), "main.py")),
             "--config", self.config_path],
            stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        return self

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None
            self._log.close()

    def status(self):
        """/api/v1/status as a dict."""
        return json.loads(self.http("/api/v1/status")[2])

    def http(self, path, method="GET", port=None):
        """(status, headers dict, body bytes) from the gateway's HTTP server."""
        conn = http.client.HTTPConnection("127.0.0.1", port or self.cfg["http"]["port"], timeout=5)
        try:
            conn.request(method, path)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()
