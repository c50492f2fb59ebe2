"""The decoder alone, many telegrams, in whatever heap ``micropython -X heapsize`` gives.

Run by tools/heap_floor.py and host_tests/test_mpy_heap.py under the MicroPython unix port,
with the firmware imported from the .mpy build (mp.compiled_tree). stdin::

    {"key": hex|null, "auth_key": hex|null, "meter": "auto", "count": 10000}
    <frame hex>          one or more lines; each is one meter push, as the port sends it
    <blank line or EOF>

The frames are fed in turn, each as one chunk, in whole rounds until at least ``count``
telegrams came out. stdout is one JSON object: telegrams, error counters, live heap (after
gc.collect) once every frame was decoded once (plans and caches built) and at the end, or
the MemoryError that stopped it. Kept short: this file is compiled from source at start,
like main.py on the device.
"""

import gc
import json
import sys


def read_job():
    job = json.loads(sys.stdin.readline())
    frames = []
    line = sys.stdin.readline().strip()
    while line:
        frames.append(bytes.fromhex(line))
        line = sys.stdin.readline().strip()
    return job, frames


def feed_rounds(dec, frames, rounds):
    # A function of its own: the telegrams it drops are off the stack once it returns, so a
    # collection in the caller does not find a stale pointer to the last one (~0.9 kB).
    got = 0
    for _ in range(rounds):
        for f in frames:
            got += len(dec.feed(f))
    return got


def main():
    job, frames = read_job()
    out = {"telegrams": 0, "errors": None, "live_before": None, "live_after": None, "error": None}
    dec = None
    try:
        import decoder

        dec = decoder.Decoder(job["key"], job["auth_key"], job.get("meter") or "auto")
        per_round = feed_rounds(dec, frames, 1)  # warm-up: plans and caches are meant to stay
        out["telegrams"] = per_round
        gc.collect()
        out["live_before"] = gc.mem_alloc()
        if per_round:  # frames that yield nothing: report 0 telegrams, do not spin
            rounds = (job["count"] - per_round + per_round - 1) // per_round
            out["telegrams"] += feed_rounds(dec, frames, max(rounds, 0))
        gc.collect()
        out["live_after"] = gc.mem_alloc()
        out["errors"] = dec.errors.counts
    except MemoryError as e:
        dec = None  # let go of the decoder so the report itself has room
        gc.collect()
        out["error"] = "MemoryError: %s" % e
    print(json.dumps(out))


main()
