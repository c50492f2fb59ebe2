"""The decoder alone, many telegrams, in whatever heap ``micropython -X heapsize`` gives.

Run by tools/heap_floor.py and host_tests/test_mpy_heap.py under the MicroPython unix port,
with the firmware imported from the .mpy build (mp.compiled_tree). stdin::

    {"key": hex|null, "auth_key": hex|null, "meter": "auto", "count": 10000}
    <frame hex>          one or more lines; each is one meter push, as the port sends it
    <blank line or EOF>

The frames are fed in turn, each as one chunk, until ``count`` telegrams came out. stdout is
one JSON object: telegrams, error counters, live heap (after gc.collect) once every frame was
decoded once (plans and caches built) and at the end, or the MemoryError that stopped it.
Kept short: this file is compiled from source at start, like main.py on the device.
"""

import gc
import json
import sys


def main():
    job = json.loads(sys.stdin.readline())
    frames = []
    line = sys.stdin.readline().strip()
    while line:
        frames.append(bytes.fromhex(line))
        line = sys.stdin.readline().strip()
    out = {"telegrams": 0, "errors": None, "live_before": None, "live_after": None, "error": None}
    got = 0
    dec = None
    try:
        import decoder

        dec = decoder.Decoder(job["key"], job["auth_key"], job.get("meter") or "auto")
        for f in frames:  # the warm-up round: plans and caches are meant to stay
            got += len(dec.feed(f))
        gc.collect()
        out["live_before"] = gc.mem_alloc()
        i = 0
        n = len(frames)
        while got and got < job["count"]:  # frames that yield nothing: report 0, not spin
            got += len(dec.feed(frames[i]))
            i = (i + 1) % n
        gc.collect()
        out["live_after"] = gc.mem_alloc()
        out["telegrams"] = got
        out["errors"] = dec.errors.counts
    except MemoryError as e:
        dec = None  # let go of the decoder so the report itself has room
        gc.collect()
        out["telegrams"] = got
        out["error"] = "MemoryError: %s" % e
    print(json.dumps(out))


main()
