"""The whole gateway with its code in a ROMFS image: the heap it needs besides the image.

Same rig as test_gateway_heap.py (real mosquitto, discovery on, SiL 5-second pushes over
TCP, HDLC + AES-GCM with authentication), but every firmware module and umqtt is imported
from a ROMFS image (tools/romfs.py) mounted with ``vfs.VfsRom``, as firmware with a ROMFS
partition imports them from flash. The unix port has no flash: the image is read into one
bytearray at start, which stands in for it, so each run gets ``-X heapsize`` = the heap
under test + the image's blocks and their share of the GC's tables (romfs.heap_beside; until
pass 39 the image's size in whole kB, which gave the gateway 0.6-1.8 kB less).

ROM_FLOOR_KB is what ``tools/bench_gateway.py --romfs`` found (bisection in 4 kB steps,
then 10,000 pushes at that size, /api/v1/status read halfway through the search and in the
soak): 120 kB beside the image, against 172 kB with the same .mpy files on the
filesystem (pass 17; 116 kB from pass 13 to 16; 144 and 192 kB the first morning, 112 and 160 kB that evening). Issue 3's 96 kB does not hold from
the image either on this 64-bit port (docs/memory.md says where the heap goes):
strict xfail, so it fails loudly (remove the mark) the day it holds.
"""

import os

import pytest

import bench_gateway as bench

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/sbin/mosquitto"),
                                reason="mosquitto not installed (.ci/run installs it)")

# tools/bench_gateway.py --romfs, see the module docstring. 112 until noon on 2026-11-26:
# there the 10,000-push soak then ran out once, on a status read (~0.7 kB more loaded objects).
# 116 until pass 17: its bisection found 120, and 116 held two 300-push probes of three
# (6.4-6.9 kB free there, 7.5 kB in pass 16: ~0.6 kB more loaded objects).
ROM_FLOOR_KB = 120
# Block placement moves by a few hundred bytes with unrelated edits; one bisection step on
# top keeps the test from flapping, as in test_gateway_heap.py.
HEADROOM_KB = bench.HEAP_STEP
PUSHES = 2000  # as test_gateway_heap.py: past the first /api/v1/status read; `make bench` runs 10,000
EARLY = 500  # live heap read here (warm) and at the end
ISSUE_KB = 96  # issue 3: what an ESP32 with WiFi up leaves


@pytest.fixture(scope="module")
def code():
    return bench.rom_code()  # (launcher dir, None, image bytes)


def run(heap_kb, code):
    _, failure, heaps = bench.run_pushes("%dk" % heap_kb, PUSHES, code, heap_at=(EARLY, PUSHES))
    return failure, heaps


def test_the_gateway_from_a_rom_image_holds_at_its_documented_floor(code):
    failure, heaps = run(ROM_FLOOR_KB + HEADROOM_KB, code)
    assert failure is None, failure
    assert heaps[EARLY] - heaps[PUSHES] <= bench.GROWTH_SLACK, heaps  # free heap did not shrink


@pytest.mark.xfail(strict=True, reason="from ROM, names, function/class objects and code "
                   "tables still take ~85 kB of the 64-bit unix heap")
def test_the_gateway_from_a_rom_image_holds_in_issue_3s_96k(code):
    failure, _ = run(ISSUE_KB, code)
    assert failure is None, failure
