"""Decode jobs with firmware/decoder and print the results as JSON Lines.

Runs unchanged under the MicroPython unix port (``micropython mp_decode.py``,
one job per line on stdin, read one at a time so the heap holds one job) and under CPython (``run_jobs``), so that test_parity.py can
compare the two outputs byte for byte. A job is a JSON object::

    {"id": "...", "hex": "7ea0...", "key": hex|null, "auth_key": hex|null,
     "meter": "auto", "lists": null, "chunk": 0}

and its result line is ``{"id":…, "telegrams":[telegram dicts], "errors":{kind: n}}``.
``chunk`` > 0 feeds the bytes in pieces of that size (0: all at once).
"""

import sys

import decoder
from decoder import jsonline


def run_job(job):
    data = bytes.fromhex(job["hex"])
    dec = decoder.Decoder(
        job.get("key"), job.get("auth_key"), job.get("meter") or "auto", job.get("lists")
    )
    step = job.get("chunk") or len(data) or 1
    telegrams = []
    for i in range(0, len(data), step):
        for t in dec.feed(data[i : i + step]):
            telegrams.append(jsonline.telegram_dict(t))
    return {"id": job["id"], "telegrams": telegrams, "errors": dec.errors.counts}


def run_jobs(jobs, out):
    for job in jobs:
        out.write(decoder.to_json(run_job(job)))
        out.write("\n")


def main():
    import gc
    import json

    # Imported before the jobs, as the gateway preloads them; dsmr.py not: a DLMS meter never
    # loads it, and its names would put a DLMS job past a qstr pool (test_mpy_heap.py).
    from decoder import apdu, obis, obis_push, profiles, stream  # noqa: F401

    line = sys.stdin.readline()
    while line:
        if line.strip():
            run_jobs([json.loads(line)], sys.stdout)
        line = None
        gc.collect()
        line = sys.stdin.readline()


if __name__ == "__main__":
    main()
