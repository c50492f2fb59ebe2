"""Robustness of the APDU layer, and parity with the MicroPython unix port.

- Property-based: random bytes and mutated real payloads never make
  ``ApduReader.push`` raise, and good APDUs after bad ones still decode.
- Every capture and a set of encoder-built frames give the same
  notifications and error counts under MicroPython as under CPython.
"""

import json

from apdu_support import APDU_MP_SCRIPT, LLC, cipher, gbt_blocks, key_of, notification, payloads, read_all
from hypothesis import given, settings
from hypothesis import strategies as st
from mp import run_micropython

from decoder import apdu
from decoder.errors import DecodeError, ErrorLog, Incomplete

KEY = bytes(range(16))
AK = bytes(range(16, 32))
BODY = bytes.fromhex("020306000004571200e6090412345678")
GOOD = notification(BODY, 99)
TAGS = st.sampled_from([0x0F, 0xDB, 0xDC, 0xE0, 0xE6])


def payload_strategy():
    random_bytes = st.binary(max_size=300)
    tagged = st.tuples(TAGS, st.binary(max_size=300)).map(lambda t: bytes([t[0]]) + t[1])
    return st.one_of(random_bytes, tagged)


REAL = [
    cipher(notification(BODY, 1), KEY, 0x30, AK),
    cipher(notification(BODY, 2), KEY, 0x20, AK),
    notification(BODY, 3, bytes(12)),
] + gbt_blocks(cipher(notification(bytes([1, 20]) + BODY * 20, 4), KEY, 0x30, AK), 100)


@settings(max_examples=300, deadline=None)
@given(payload_strategy())
def test_random_payloads_never_raise(data):
    r = apdu.ApduReader(ErrorLog(), KEY, AK)
    notes = r.push(data)
    assert isinstance(notes, list)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(range(len(REAL))), st.lists(st.tuples(st.integers(0, 10000), st.integers(0, 255)), max_size=4),
       st.integers(0, 400))
def test_mutated_real_payloads_never_raise(index, flips, cut):
    data = bytearray(REAL[index])
    for pos, value in flips:
        data[pos % len(data)] = value
    r = apdu.ApduReader(ErrorLog(), KEY, AK)
    r.push(bytes(data[: max(1, len(data) - cut)]))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=100))
def test_a_good_reader_recovers_after_any_bad_payload(junk):
    log = ErrorLog()
    r = apdu.ApduReader(log, KEY, AK)
    r.push(junk)
    notes = r.push(GOOD)
    assert len(notes) == 1 and bytes(notes[0].body) == BODY


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=100))
def test_good_apdus_before_junk_in_one_payload_still_come_out(junk):
    r = apdu.ApduReader(ErrorLog(), KEY, AK)
    notes = r.push(GOOD + LLC + GOOD + junk)
    assert [bytes(n.body) for n in notes[:2]] == [BODY, BODY]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60))
def test_measure_only_raises_its_own_errors(data):
    try:
        size = apdu.measure(data)
    except (Incomplete, DecodeError):
        return
    assert 0 < size <= len(data)


def _cases(corpus):
    cases = []
    for cid, entry in sorted(corpus.items()):
        if "hex" not in entry or entry["transport"] == "dsmr-ascii":
            continue
        key, ak = key_of(entry), key_of(entry, "auth_key_hex")
        cases.append((cid, key, ak, payloads(entry)))
    bad = bytearray(REAL[0])
    bad[-1] ^= 1
    cases.append(("generated", KEY, AK, REAL + [bytes(bad), b"\x0f\x00", GOOD + b"\x42"]))
    cases.append(("no key", None, None, REAL))
    return cases


def test_micropython_gives_the_same_notifications_and_errors(corpus):
    cases = _cases(corpus)
    lines = [
        json.dumps({"key": k.hex() if k else None, "ak": a.hex() if a else None, "payloads": [p.hex() for p in items]})
        for _, k, a, items in cases
    ]
    stdin = ("\n".join(lines) + "\n").encode()
    # The ESP32's ~96k, with the decoder imported from the .mpy build as the
    # device runs it: compiling it from source here peaks just under 96k.
    proc = run_micropython(["-c", APDU_MP_SCRIPT], heapsize="96k", compiled=True, input_bytes=stdin)
    assert proc.returncode == 0, proc.stderr.decode() + proc.stdout.decode()
    got = [json.loads(line) for line in proc.stdout.decode().strip().splitlines()]
    assert len(got) == len(cases)
    for (cid, key, ak, items), mp in zip(cases, got):
        log = ErrorLog()
        notes = read_all(apdu.ApduReader(log, key, ak), items)
        assert mp["notes"] == notes, cid
        assert mp["errors"] == log.counts, cid


HEAP_SCRIPT = """
import gc, sys
from decoder import apdu
from decoder.errors import ErrorLog
p = bytes.fromhex(sys.stdin.readline().strip())
r = apdu.ApduReader(ErrorLog(), bytes(range(16)), bytes(range(16, 32)))
assert len(r.push(p)) == 1
gc.collect()
gc.disable()
before = gc.mem_alloc()
for i in range(10):
    r.push(p)
per_push = (gc.mem_alloc() - before) // 10
gc.enable()
gc.collect()
free = gc.mem_free()
for i in range(3000):
    r.push(p)
r.push(p)
gc.collect()
print(per_push, free - gc.mem_free())
"""


def test_a_500_byte_authenticated_push_allocates_little_and_nothing_accumulates():
    # 25 uint32 values and a 336-byte octet string: the size of a SiL 5 s push.
    body = bytes([1, 25]) + bytes.fromhex("0600000457") * 24 + bytes([9, 0x82, 0x01, 0x50]) + bytes(0x150)
    payload = cipher(notification(body, 7, bytes(12)), KEY, 0x30, AK)
    assert 480 <= len(payload) <= 540
    proc = run_micropython(["-c", HEAP_SCRIPT], heapsize="128k", input_bytes=payload.hex().encode() + b"\n")
    assert proc.returncode == 0, proc.stderr.decode() + proc.stdout.decode()
    per_push, growth = map(int, proc.stdout.split())
    assert per_push < 2048  # the telegram budget is 4 kB for every layer together
    assert growth <= 64  # a few bytes of slack for the allocator, no per-push residue
