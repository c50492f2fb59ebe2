"""Benchmark kernel run by tools/bench.py, under MicroPython AND CPython.

Reads a JSON job on stdin::

    {"frames": [hex, ...], "key": hex, "auth_key": hex, "meter": "e450",
     "rounds": 2000, "soak": 10000}

and prints one JSON object: microseconds per telegram for the whole decoder
and per layer (framing, APDU+GCM, readings), heap bytes allocated per
telegram (``micropython.mem_total()`` deltas; None on CPython) and the live
heap after a soak of ``soak`` telegrams compared with the start (growth).
Timing uses the platform clock; the decoder itself never reads one.
"""

import gc
import json
import sys

import decoder
from decoder import apdu, obis, stream
from decoder.errors import ErrorLog

try:
    import micropython

    def allocated():
        return micropython.mem_total()

except ImportError:
    micropython = None

    def allocated():
        return None


try:
    from time import ticks_diff, ticks_us

    def now_us():
        return ticks_us()

    def elapsed_us(t0):
        return ticks_diff(ticks_us(), t0)

except ImportError:
    from time import perf_counter

    def now_us():
        return perf_counter()

    def elapsed_us(t0):
        return (perf_counter() - t0) * 1e6


def measure(fn, items, rounds):
    """(µs per call, bytes allocated per call or None) of fn(item) over rounds calls."""
    gc.collect()
    a0 = allocated()
    t0 = now_us()
    n = len(items)
    for i in range(rounds):
        fn(items[i % n])
    us = elapsed_us(t0)
    a1 = allocated()
    per_byte = None if a0 is None else (a1 - a0) / rounds
    return us / rounds, per_byte


def whole(job, frames, rounds):
    dec = decoder.Decoder(job["key"], job["auth_key"], job["meter"])
    got = [0]

    def one(frame):
        got[0] += len(dec.feed(frame))

    for f in frames:  # warm the caches (push-setup plan) before timing
        one(f)
    got[0] = 0
    us, per = measure(one, frames, rounds)
    return us, per, got[0], dec


def layer_inputs(job, frames):
    """The framer's payloads, the reader's notification bodies, copied out once."""
    errors = ErrorLog()
    framer = stream.Framer(errors)
    reader = apdu.ApduReader(errors, bytes.fromhex(job["key"]), bytes.fromhex(job["auth_key"]))
    payloads, bodies = [], []
    for f in frames:
        framer.feed(f)
        item = framer.next()
        group = []
        while item is not None:
            group.append(bytes(item[1]))
            for note in reader.push(item[1]):
                bodies.append((bytes(note.body), note.system_title and bytes(note.system_title)))
            item = framer.next()
        payloads.append(group)
    return payloads, bodies


def layers(job, frames, rounds):
    payloads, bodies = layer_inputs(job, frames)
    errors = ErrorLog()
    framer = stream.Framer(errors)
    reader = apdu.ApduReader(errors, bytes.fromhex(job["key"]), bytes.fromhex(job["auth_key"]))

    def framing(frame):
        framer.feed(frame)
        while framer.next() is not None:
            pass

    def apdus(group):
        for p in group:
            reader.push(memoryview(p))

    def readings(pair):
        obis.readings(memoryview(pair[0]), job["meter"], pair[1])

    out = {}
    for name, fn, items in (("framing", framing, frames), ("apdu+gcm", apdus, payloads), ("readings", readings, bodies)):
        fn(items[0])
        out[name] = measure(fn, items, rounds)
    return out


def soak(job, frames, count):
    dec = decoder.Decoder(job["key"], job["auth_key"], job["meter"])
    for f in frames:
        dec.feed(f)
    gc.collect()
    live0 = gc.mem_alloc() if micropython else None
    n = len(frames)
    for i in range(count):
        dec.feed(frames[i % n])
    gc.collect()
    live1 = gc.mem_alloc() if micropython else None
    return live0, live1, dec.telegrams, dec.errors.total()


def main():
    job = json.loads(sys.stdin.read())
    frames = [bytes.fromhex(h) for h in job["frames"]]
    us, per, got, dec = whole(job, frames, job["rounds"])
    result = {
        # One item is one whole push (all its HDLC frames), so per call is
        # per telegram as long as every push decoded (checked by the caller).
        "us_per_telegram": us,
        "bytes_per_telegram": per,
        "telegrams": got,
        "errors": dec.errors.total(),
        "layers": layers(job, frames, job["rounds"]),
    }
    live0, live1, total, errs = soak(job, frames, job["soak"])
    result["soak"] = {"live_before": live0, "live_after": live1, "telegrams": total, "errors": errs}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
