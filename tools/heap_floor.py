"""The smallest ``-X heapsize`` in which the decoder alone holds 10,000 telegrams.

    .venv/bin/python tools/heap_floor.py [--count 10000] [--lo 16] [--hi 160] [--firmware DIR] [--source] [--romfs]

(``--romfs`` imports the same .mpy build from a ROMFS image mounted with ``vfs.VfsRom``
(tools/romfs.py), as firmware with a ROMFS partition does from flash; the image is read into
a bytearray that stands in for flash, and every heap size reported is on top of it.
``--firmware`` measures another tree, e.g. a commit unpacked with ``git archive``, while
firmware/ is being edited; it is compiled into build/host-mpy-floor/.)

Runs tools/heap_probe.py under the MicroPython unix port with the firmware imported from
the .mpy build for this port (tools/hostmpy.py), as the device loads it, and bisects over
heap sizes in whole kB. A size *holds* when the probe decodes ``count`` SiL 5-second pushes
(E450 style: glo-ciphered 0x30, General Block Transfer in HDLC frames; the frames come from
the test-side encoder host_tests/decoder_support.py) with no MemoryError, no error counted,
and a live heap after the run no larger than after the warm-up round, give or take
GROWTH_SLACK. The floor found is written into host_tests/test_mpy_heap.py by hand (the test
asserts it still holds); bisection assumes "holds" is monotonic in the heap size, so the
answer is re-checked one step below and at the floor itself before it is printed.

The unix port is 64-bit: pointers, object headers and .mpy constant tables take about twice
the room they take on the 32-bit ESP32, so this floor overstates the device's need.
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (os.path.join(ROOT, "firmware"), os.path.join(HERE, "shims"), os.path.join(ROOT, "host_tests"), HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import decoder_support as ds  # noqa: E402
import hostmpy  # noqa: E402
import mp  # noqa: E402

PROBE = os.path.join(HERE, "heap_probe.py")
COUNT = 10000  # telegrams per run: issue 3's soak length
# Distinct pushes cycled through: values and frame counters change as on a live meter,
# while the probe's own copy of them stays small (about 1 kB).
DISTINCT = 4
# Live-heap slack after the run, as in tools/bench.py: a few small objects may move
# between collections; a leak over 10,000 telegrams would be far larger.
GROWTH_SLACK = 256
STEP_KB = 1  # heap sizes are tried in whole kB


def sil_frames(distinct=DISTINCT):
    return [ds.sil_push(seed=s, frame_counter=1000 + s)[0] for s in range(distinct)]


def sil_job(count=COUNT):
    return {"key": ds.SIL_KEY.hex(), "auth_key": ds.SIL_AUTH_KEY.hex(), "meter": "auto", "count": count}


def probe(heap_kb, frames, job, timeout=600, code=None, rom=None):
    """The probe's JSON report for one heap size (``error`` names a crash, too).

    ``code``: a compiled tree to import the firmware from instead of mp.compiled_tree().
    ``rom``: (probe script with the ROMFS launcher, image kB) from rom_probe(): the decoder
    is imported from the image and ``heap_kb`` is the heap besides the image.
    """
    stdin = json.dumps(job) + "\n" + "".join(f.hex() + "\n" for f in frames) + "\n"
    env = mp.micropython_env(compiled=code is None)
    script = PROBE
    if code is not None:
        env["MICROPYPATH"] = ":".join([".frozen", code, mp.MP_LIB])
    if rom is not None:
        script, heap_kb = rom[0], heap_kb + rom[1]
    done = subprocess.run([mp.MICROPYTHON, "-X", "heapsize=%dk" % heap_kb, script],
                          input=stdin.encode(), capture_output=True, timeout=timeout, env=env, cwd=ROOT)
    lines = done.stdout.decode().strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()[-1:]
        return {"error": "exit %d: %s" % (done.returncode, " ".join(tail)), "telegrams": 0}
    return json.loads(lines[-1])


def holds(report, count):
    """(True, "") or (False, why) for one probe report."""
    if report.get("error"):
        return False, report["error"]
    if report["telegrams"] < count:
        return False, "only %d telegrams" % report["telegrams"]
    bad = sum(report["errors"].values())
    if bad:
        return False, "errors counted: %r" % report["errors"]
    growth = report["live_after"] - report["live_before"]
    if growth > GROWTH_SLACK:
        return False, "live heap grew %d bytes" % growth
    return True, ""


def rom_probe():
    """(heap_probe.py behind the ROMFS launcher, image kB): the .mpy build in a VfsRom image."""
    import romfs

    size = romfs.host_image()[2]
    return romfs.host_script(PROBE), romfs.image_kb(size)


def floor(lo, hi, frames, job, say=print, code=None, rom=None):
    """Smallest heap (kB) in (lo, hi] that holds; ``hi`` must hold. -> (kB, report)."""
    reports = {}

    def ok(kb):
        reports[kb] = probe(kb, frames, job, code=code, rom=rom)
        good, why = holds(reports[kb], job["count"])
        say("%4d kB  %s" % (kb, "holds, live %d -> %d bytes" % (
            reports[kb]["live_before"], reports[kb]["live_after"]) if good else "fails: " + why))
        return good

    if not ok(hi):
        raise SystemExit("%d kB does not hold: raise --hi" % hi)
    while hi - lo > STEP_KB:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    say("re-check around the floor:")
    if ok(hi - STEP_KB) or not ok(hi):
        raise SystemExit("not monotonic around %d kB: heap use depends on more than the size" % hi)
    return hi, reports[hi]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=COUNT)
    ap.add_argument("--lo", type=int, default=16, help="a heap (kB) that fails")
    ap.add_argument("--hi", type=int, default=160, help="a heap (kB) that holds")
    ap.add_argument("--firmware", help="firmware tree to measure (default: firmware/)")
    ap.add_argument("--source", action="store_true",
                    help="import the tree from source, for comparison (the device never does)")
    ap.add_argument("--romfs", action="store_true",
                    help="import the .mpy build from a ROMFS image; heaps are besides the image")
    args = ap.parse_args(argv)
    code = rom = None
    if args.source:
        code = os.path.abspath(args.firmware or os.path.join(ROOT, "firmware"))
    elif args.firmware:
        code = hostmpy.HOST_BUILD + "-floor"
        hostmpy.ensure(out=code, firmware=os.path.abspath(args.firmware))
    if args.romfs:
        rom = rom_probe()
        print("decoder from a ROMFS image of %d kB (vfs.VfsRom over a bytearray that stands in "
              "for flash): each heap below is on top of it" % rom[1])
    job = sil_job(args.count)
    kb, report = floor(args.lo, args.hi, sil_frames(), job, code=code, rom=rom)
    print("floor: %d kB holds %d telegrams (live heap %d -> %d bytes)" % (
        kb, report["telegrams"], report["live_before"], report["live_after"]))


if __name__ == "__main__":
    main()
