"""The whole gateway in a small heap (issue 3), loaded as the device loads it: .mpy files.

firmware/main.py runs under the MicroPython unix port from the .mpy build of firmware/ and
umqtt (gateway_support.compiled_code()), with a real mosquitto, MQTT discovery on, and a
TCP meter port fed with SiL 5-second pushes (HDLC, AES-GCM with authentication). A heap
*holds* when every push is published, nothing in the log says MemoryError, and the live
heap (collected, from /api/v1/status) does not grow between an early and the last push.

GATEWAY_FLOOR_KB is what ``tools/bench_gateway.py --floor`` found (bisection in 4 kB steps,
the two sizes above confirmed, then 10,000 pushes at that size); docs/memory.md quotes it and says what it
means on an ESP32. Issue 3's 96 kB does not hold on this 64-bit port, where every module's
bytecode sits in the heap: that check is a strict xfail, so it fails loudly (remove the
mark) the day it holds.
"""

import os

import pytest

import bench_gateway as bench

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/sbin/mosquitto"),
                                reason="mosquitto not installed (.ci/run installs it)")

# tools/bench_gateway.py --floor, see the module docstring and docs/memory.md.
# 156 until the evening of 2026-11-26 (the decoder's new quirks, ~1 kB live), 160 until that
# night (~1.5 kB of code: uptime past the tick wrap, the busy http.port retry, DSMR growth),
# 164 until noon the next pass (~1.3 kB of code: the HDLC cut-short check, MQTT client ids),
# 168 until pass 12, where every bisection gave 172 (and pass 11's tree gave 168 once, 172
# once: the soak at 168 runs out on a status read now and then), 172 until pass 18, where
# 172 ran out for pass 17's tree as well as this one's, the same hour (docs/memory.md).
# Without line-number tables (pass 22, -X no-source-lines) one bisection found 172, the other
# 176 with 3.5 kB more free there than before: kept at 176 until 172 holds every time.
GATEWAY_FLOOR_KB = 176
# Where blocks land shifts by a few hundred bytes with unrelated edits; one bisection step
# on top keeps the test from flapping, while a real regression (a module kept loaded, a
# buffer) still fails it. The second step was for the checkout's folder, which moved the
# floor while module paths were absolute (now relative, mp.short); kept as margin.
HEADROOM_KB = 2 * bench.HEAP_STEP
PUSHES = 2000  # enough for every reconnect-free steady state; `make bench` runs 10,000
EARLY = 500  # the live heap is read here (warm: discovery sent, buffers grown) and at the end
ISSUE_KB = 96  # issue 3: what an ESP32 with WiFi up leaves


@pytest.fixture(scope="module")
def code():
    return bench.compiled_code()


def run(heap_kb, code):
    latencies, failure, heaps = bench.run_pushes("%dk" % heap_kb, PUSHES, code, heap_at=(EARLY, PUSHES))
    return failure, heaps


def test_the_gateway_holds_at_its_documented_floor(code):
    failure, heaps = run(GATEWAY_FLOOR_KB + HEADROOM_KB, code)
    assert failure is None, failure
    assert heaps[EARLY] - heaps[PUSHES] <= bench.GROWTH_SLACK, heaps  # free heap did not shrink


@pytest.mark.xfail(strict=True, reason="the 64-bit unix port keeps all bytecode in the heap")
def test_the_gateway_holds_in_issue_3s_96k(code):
    failure, heaps = run(ISSUE_KB, code)
    assert failure is None, failure


def test_the_footprint_table_of_make_bench_still_runs(code):
    # docs/memory.md's heap table comes from bench.footprint(); it builds an App of its own, and
    # broke once when App read a configuration key its hand-made dict lacked.
    rows = dict(bench.footprint(code))
    assert rows["decoder"] > 0 and rows["app"] > 0
    assert rows["App() data (decoder, snapshot, store, MQTT, reader)"] > 0
