"""Heap allocated per SiL push by the readings layer and the facade, on the
MicroPython unix port (issue 2 budget: < 4 kB per telegram for the whole
decoder; this layer's share below). Not timed: bytes are counted with
micropython.mem_total(), which is deterministic for the same input.

Budgets for the 24-value SiL "consumer information 1" push (push-setup body,
decoded with the E450 profile, plan already cached):

- obis.readings:        <= 2048 bytes per body   (measured 1392: the fresh
  dict of 24 keys, one (value, unit) tuple per reading, four floats)
- obis.datetime_text:   <= 150 bytes per call     (measured 58: the str)
- Decoder.feed overhead beyond framing, APDU and readings: <= 300 bytes per
  telegram (measured 184: the returned list, the Telegram, its tuple)

Each assertion leaves the budget itself as the margin over the measurement.
"""

import json

import decoder_support as ds
from mp import run_micropython

READINGS_BUDGET = 2048
DATETIME_BUDGET = 150
FACADE_BUDGET = 300
# Different pushes cycled through, so that no value is the same twice in a row.
DISTINCT = 8
ROUNDS = 200

KERNEL = r'''
import gc, json, sys, micropython
import decoder
from decoder import apdu, obis, stream
from decoder.errors import ErrorLog

job = json.loads(sys.stdin.readline())
frames = [bytes.fromhex(h) for h in job["frames"]]
key, auth = bytes.fromhex(job["key"]), bytes.fromhex(job["auth_key"])
ROUNDS = job["rounds"]

def per_call(fn, items):
    for item in items:              # warm: plans cached, tables grown
        fn(item)
    gc.collect()
    before = micropython.mem_total()
    for i in range(ROUNDS):
        fn(items[i % len(items)])
    return (micropython.mem_total() - before) / ROUNDS

# The layers below the facade, driven directly; small helper functions so
# that the measuring code itself keeps its frames off the heap.
errors = ErrorLog()
framer = stream.Framer(errors)
reader = apdu.ApduReader(errors, key, auth)
bodies = []

def collect(notes):
    for i in range(len(notes)):
        n = notes[i]
        bodies.append((bytes(n.body), bytes(n.system_title), bytes(n.datetime)))

for f in frames:
    framer.feed(f)
    item = framer.next()
    while item is not None:
        collect(reader.push(item[1]))
        item = framer.next()
views = [(memoryview(b), t, memoryview(d)) for b, t, d in bodies]

def readings(v):
    obis.readings(v[0], "e450", v[1])

def when(v):
    obis.datetime_text(v[2])

def decode(notes):
    for i in range(len(notes)):
        readings_and_time(notes[i])

def readings_and_time(n):
    obis.readings(n.body, "e450", n.system_title)
    obis.datetime_text(n.datetime)

def layers(f):
    framer.feed(f)
    item = framer.next()
    while item is not None:
        decode(reader.push(item[1]))
        item = framer.next()

dec = decoder.Decoder(key, auth, "e450")

def whole(f):
    dec.feed(f)

result = {
    "readings": per_call(readings, views),
    "datetime_text": per_call(when, views),
    "layers": per_call(layers, frames),
    "whole": per_call(whole, frames),
    "telegrams": dec.telegrams,
    "errors": dec.errors.total() + errors.total(),
}
print(json.dumps(result))
'''


def measured():
    frames = [ds.sil_push(seed=s, frame_counter=100 + s)[0] for s in range(DISTINCT)]
    job = {"frames": [f.hex() for f in frames], "key": ds.SIL_KEY.hex(),
           "auth_key": ds.SIL_AUTH_KEY.hex(), "rounds": ROUNDS}
    r = run_micropython(["-c", KERNEL], heapsize="256k", compiled=True,
                        input_bytes=(json.dumps(job) + "\n").encode())
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    return json.loads(r.stdout)


def test_the_sil_push_readings_layer_and_facade_stay_inside_their_heap_budgets():
    got = measured()
    print("bytes allocated per call/telegram (MicroPython):", got)
    assert got["errors"] == 0 and got["telegrams"] == DISTINCT + ROUNDS
    assert got["readings"] <= READINGS_BUDGET
    assert got["datetime_text"] <= DATETIME_BUDGET
    assert got["whole"] - got["layers"] <= FACADE_BUDGET
