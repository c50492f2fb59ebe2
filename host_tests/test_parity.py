"""MicroPython and CPython decode the same bytes to the same readings.

Every corpus capture (keys where published) and a set of generated frames go
through host_tests/mp_decode.py twice: in this CPython process and under the
MicroPython unix port (``.venv/bin/micropython``, real ``cryptolib``, viper
kernels). The two JSON outputs must be equal, telegram for telegram and error
counter for error counter. MicroPython runs the .mpy build (as the device
does) in a 256 kB heap: the parity runner keeps the whole corpus job list in
memory; the low-heap checks live in test_mpy_heap.py and the *_heap tests.
"""

import io
import json
import os

import pytest

import decoder_support as ds
import mp_decode
from mp import run_micropython

HERE = os.path.dirname(os.path.abspath(__file__))
# Room for parity, not a floor (those are test_mpy_heap.py's and the gateway's): all jobs
# run in one process, and the Smarty captures' 2 kB JSON lines want one free block each.
# At 256k the public captures held with ~8 kB to spare at 0854385 (248k failed); with
# pass 31's DSMR cut check (~250 bytes of code) the Smarty fuse-limit job's line failed
# there from this checkout and held from another path: an edge, not a floor to keep.
# At 320k the UH50 heat meter's readout (65 readings; to_json allocates ~125 kB for its
# line, ~1.3 kB per reading's dict) found no 2 kB block after the other captures' jobs.
HEAP = "384k"


def corpus_jobs(corpus, chunk=0):
    jobs = []
    for entry in corpus.values():
        data = entry.get("hex") or entry["text"].encode("latin-1").hex()
        jobs.append(
            {
                "id": "%s/%d" % (entry["id"], chunk),
                "hex": data,
                "key": entry.get("key_hex"),
                "auth_key": entry.get("auth_key_hex"),
                "chunk": chunk,
            }
        )
        if entry.get("expected_plaintext_hex"):
            jobs.append({"id": "%s/plain/%d" % (entry["id"], chunk), "hex": entry["expected_plaintext_hex"], "chunk": chunk})
    return jobs


def generated_jobs():
    key, auth = ds.SIL_KEY.hex(), ds.SIL_AUTH_KEY.hex()
    pushes = b"".join(ds.sil_push(seed=s, frame_counter=s + 1)[0] for s in range(4))
    single = ds.sil_push(seed=9, gbt=False)[0]
    body = ds.sil_info_1_body(seed=2)[0]
    glo = ds.cipher(ds.data_notification(body, invoke_id=9), ds.SIL_KEY, ds.SIL_TITLE, 9, ds.SIL_AUTH_KEY)
    general = ds.hdlc_frame(ds.LLC + ds.general_ciphering(glo, key_info=b"\x01\x00\x00"))
    plain = ds.data_notification(body, invoke_id=10)
    suite1 = b"".join(ds.hdlc_frame(ds.LLC + ds.general_suite1(plain, ds.SIL_KEY, ds.SIL_TITLE, 10, ds.SIL_AUTH_KEY,
                                                               sc=sc, date_time=bytes(12), other=b"x"))
                      for sc in (0x31, 0x11))
    return [
        {"id": "sil/general-ciphering", "hex": general.hex(), "key": key, "auth_key": auth, "chunk": 0},
        {"id": "sil/general-ciphering-suite-1", "hex": suite1.hex(), "key": key, "auth_key": auth, "chunk": 5},
        {"id": "sil/am550", "hex": pushes.hex(), "key": key, "auth_key": auth, "meter": "am550", "chunk": 0},
        {"id": "sil/e450/chunk3", "hex": pushes.hex(), "key": key, "auth_key": auth, "meter": "e450", "chunk": 3},
        {"id": "sil/single/nogak", "hex": single.hex(), "key": key, "meter": "am550", "chunk": 0},
        {"id": "sil/wrong-gak", "hex": single.hex(), "key": key, "auth_key": "00" * 16, "chunk": 0},
    ]


def cpython(jobs):
    out = io.StringIO()
    mp_decode.run_jobs(jobs, out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def micropython(jobs):
    r = run_micropython(
        [os.path.join(HERE, "mp_decode.py")], heapsize=HEAP, compiled=True, input_bytes="".join(json.dumps(j) + "\n" for j in jobs).encode()
    )
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    return [json.loads(line) for line in r.stdout.decode().splitlines()]


def assert_same(jobs):
    on_cpython, on_micropython = cpython(jobs), micropython(jobs)
    assert [x["id"] for x in on_micropython] == [j["id"] for j in jobs]
    for a, b in zip(on_cpython, on_micropython):
        assert a == b, a["id"]


@pytest.mark.parametrize("chunk", [0, 7])
def test_every_corpus_capture_decodes_identically_on_micropython(corpus, chunk):
    jobs = corpus_jobs(corpus, chunk)
    assert_same(jobs)


def test_the_corpus_really_decodes_on_micropython(corpus):
    """Parity alone would pass if both sides decoded nothing."""
    results = micropython(corpus_jobs(corpus))
    decoded = [r["id"] for r in results if r["telegrams"]]
    assert len(decoded) >= 30, decoded


def test_generated_frames_decode_identically_on_micropython():
    assert_same(generated_jobs())
