"""A gateway under stress: fast pushes, HTTP clients without pause, broker and meter faults.

    .venv/bin/python tools/chaos.py [--framing hdlc|mbus] [--seconds 60] [--heap 172k]
                                    [--source] [--layout meterlink|vse]

Real parts as in the end-to-end tests: the simulator pushes every 50 ms over TCP, the
gateway runs under the MicroPython unix port (from the .mpy build unless ``--source``),
mosquitto brokers. Three threads read /api/v1/status, /api/v1/readings, /metrics and an
unknown path one after another; every 3-6 s the broker is stopped for 0.5-3 s or the
meter connection is cut. At the end it prints the gateway's status, the pushes sent and
the HTTP failures seen, and exits 1 when a task of the gateway died ("Task exception
wasn't retrieved" in its log, for the reader, MQTT or the HTTP listener), when the API no
longer answers, or when more telegrams were lost than memory errors were counted.

Near the heap floor some chunks and requests are lost to memory errors: that is counted
and reported, not a failure. A dead task is: nothing restarts it short of the watchdog.
"""

import argparse
import http.client
import json
import os
import random
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), "host_tests")]

import simulate  # noqa: E402
from gateway_support import Broker, Gateway, Subscriber, compiled_code, free_port  # noqa: E402

PATHS = ("/api/v1/status", "/api/v1/readings", "/metrics", "/nope")
MINUTE_EVERY = 3  # the minute list with every 3rd push: 4 telegrams per 3 pushes


def hammer(port, stop, failures):
    while not stop.is_set():
        for path in PATHS:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", path)
                status = conn.getresponse().status
                conn.close()
                if status not in (200, 404, 503):
                    failures.append("%s: %d" % (path, status))
            except OSError as e:
                failures.append("%s: %r" % (path, e))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--framing", default="hdlc", choices=("hdlc", "mbus"))
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--heap", default="172k")
    ap.add_argument("--source", action="store_true", help="run firmware/ from source, not .mpy")
    ap.add_argument("--layout", default="meterlink", choices=("meterlink", "vse"))
    args = ap.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="meterlink-chaos-")
    broker = Broker(folder).start()
    sub = Subscriber(broker.port)
    sim = simulate.Simulator(0, args.framing, interval=0.05, minute_every=MINUTE_EVERY, resume=True).start()
    http_port = free_port()
    cfg = {"meter": {"source": "tcp://127.0.0.1:%d" % sim.port, "key": simulate.DEFAULT_KEY,
                     "auth_key": simulate.DEFAULT_AUTH_KEY},
           "mqtt": {"host": "127.0.0.1", "port": broker.port, "keepalive": 4, "layout": args.layout},
           "http": {"port": http_port}, "device_id": "chaos"}
    code = (None, None) if args.source else compiled_code()
    gw = Gateway(folder, cfg, args.heap, code[0], code[1]).start()
    time.sleep(2)  # the listener is up before the clients start
    stop, failures, events = threading.Event(), [], []
    clients = [threading.Thread(target=hammer, args=(http_port, stop, failures), daemon=True) for _ in range(3)]
    for t in clients:
        t.start()
    start = time.time()
    try:
        while time.time() - start < args.seconds:
            time.sleep(random.uniform(3, 6))
            if random.random() < 0.5:
                broker.stop()
                time.sleep(random.uniform(0.5, 3))
                broker.start()
                events.append("broker")
            else:
                sim.drop()
                events.append("meter")
        time.sleep(6)  # pushes after the last fault settle
        stop.set()
        for t in clients:
            t.join(10)
        status = json.loads(gw.http("/api/v1/status")[2])
    except (OSError, ValueError) as e:
        status = {"error": repr(e)}
    finally:
        stop.set()
        log = gw.log()
        gw.stop()
        sim.stop()
        sub.close()
        broker.stop()
    expected = sim.sent + sim.sent // MINUTE_EVERY  # telegrams in the pushes sent
    print(json.dumps(status))
    print("pushes %d (telegrams %d), faults %s, HTTP failures %d %s" % (
        sim.sent, expected, " ".join(events), len(failures), failures[:3]))
    problems = []
    if "Task exception wasn't retrieved" in log:
        problems.append("a task died:\n" + log[log.index("Task exception"):][:600])
    if "error" in status:
        problems.append("the API did not answer at the end: " + status["error"])
    elif expected - status["telegrams"] > status["meter"]["memory_errors"] + 1:
        problems.append("%d telegrams lost, %d memory errors counted" % (
            expected - status["telegrams"], status["meter"]["memory_errors"]))
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
