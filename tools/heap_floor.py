"""The smallest ``-X heapsize`` in which the decoder alone holds 10,000 telegrams.

    .venv/bin/python tools/heap_floor.py [--count 10000] [--lo 16] [--hi 160] [--firmware DIR] [--source] [--romfs]

(``--romfs`` imports the same .mpy build from a ROMFS image mounted with ``vfs.VfsRom``
(tools/romfs.py), as firmware with a ROMFS partition does from flash; the image is read into
a bytearray that stands in for flash, and every heap size reported is on top of it.
``--firmware`` measures another tree, e.g. a commit unpacked with ``git archive``, while
firmware/ is being edited; it is compiled into build/host-mpy-floor/.)

Runs tools/heap_probe.py under the MicroPython unix port with the firmware imported from
the .mpy build for this port (tools/hostmpy.py), as the device loads it, over every heap
size in whole kB. A size *holds* when the probe decodes ``count`` SiL 5-second pushes
(E450 style: glo-ciphered 0x30, General Block Transfer in HDLC frames; the frames come from
the test-side encoder host_tests/decoder_support.py) with no MemoryError, no error counted,
and a live heap after the run no larger than after the warm-up round, give or take
GROWTH_SLACK. The floor found is written into host_tests/test_mpy_heap.py by hand (the test
asserts it still holds). "Holds" is not monotonic in the heap size (see floor()), so every
size in [--lo, --hi] is tried and the floor is where the unbroken run of holding sizes starts.

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
# Telegrams per size in the scan: a heap too small fails within the first few pushes (the
# warm-up round allocates everything the loop does), so the full count runs only at the end.
QUICK_COUNT = 300
WORKERS = os.cpu_count() or 2  # probes at once: each is one single-threaded micropython process


def sil_frames(distinct=DISTINCT):
    return [ds.sil_push(seed=s, frame_counter=1000 + s)[0] for s in range(distinct)]


def sil_job(count=COUNT):
    return {"key": ds.SIL_KEY.hex(), "auth_key": ds.SIL_AUTH_KEY.hex(), "meter": "auto", "count": count}


def probe(heap_kb, frames, job, timeout=600, code=None, rom=None):
    """The probe's JSON report for one heap size (``error`` names a crash, too).

    ``code``: a compiled tree to import the firmware from instead of mp.compiled_tree().
    ``rom``: (probe script with the ROMFS launcher, image bytes) from rom_probe(): the
    decoder is imported from the image and ``heap_kb`` is the heap besides the image.
    """
    stdin = json.dumps(job) + "\n" + "".join(f.hex() + "\n" for f in frames) + "\n"
    env = mp.micropython_env(compiled=code is None)
    script = PROBE
    if code is not None:
        env["MICROPYPATH"] = mp.search_path(code, mp.MP_LIB)
    heap = "%dk" % heap_kb
    if rom is not None:
        import romfs

        script, heap = rom[0], romfs.heap_beside(heap_kb, rom[1])
    done = subprocess.run([mp.MICROPYTHON, "-X", "heapsize=%s" % heap, script],
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
    """(heap_probe.py behind the ROMFS launcher, image bytes): the .mpy build in a VfsRom image."""
    import romfs

    size = romfs.host_image()[2]
    return romfs.host_script(PROBE), size


def scan(sizes, frames, job, code=None, rom=None, workers=WORKERS):
    """{kB: probe report} for every heap size in ``sizes``, a few probes at a time."""
    from concurrent.futures import ThreadPoolExecutor

    sizes = list(sizes)
    with ThreadPoolExecutor(workers) as pool:
        reports = pool.map(lambda kb: probe(kb, frames, job, code=code, rom=rom), sizes)
        return dict(zip(sizes, reports))


def floor(lo, hi, frames, job, say=print, code=None, rom=None):
    """The smallest heap (kB) from which every size up to ``hi`` holds. -> (kB, report, islands).

    Not a bisection: "holds" is not monotonic in the heap size. Where the GC's blocks fall
    changes with the size, so a heap can hold while the next few kB above it fail (measured:
    the decoder held in 96k, failed in 97k-99k and held again from 100k). A bisection that
    lands on such an island reports a floor that the next edit takes away. So every size
    in [lo, hi] runs a short probe; the floor is the bottom of the unbroken run of holds
    ending at ``hi``, confirmed with the full count. ``islands``: sizes below it that held.
    """
    quick = dict(job, count=min(job["count"], QUICK_COUNT))
    reports = scan(range(lo, hi + 1), frames, quick, code=code, rom=rom)
    good = dict((kb, holds(r, quick["count"])[0]) for kb, r in reports.items())
    if not good[hi]:
        raise SystemExit("%d kB does not hold: raise --hi" % hi)
    kb = hi
    while kb - STEP_KB >= lo and good[kb - STEP_KB]:
        kb -= STEP_KB
    if kb == lo:
        raise SystemExit("%d kB holds too: lower --lo" % lo)
    islands = [k for k in range(lo, kb) if good[k]]
    say("short probes (%d telegrams): holds from %d kB%s" % (
        quick["count"], kb, "; also held in %s" % ", ".join("%dk" % k for k in islands) if islands else ""))
    while kb <= hi:
        report = probe(kb, frames, job, code=code, rom=rom)
        fine, why = holds(report, job["count"])
        say("%4d kB, %d telegrams: %s" % (kb, job["count"], "holds" if fine else "fails: " + why))
        if fine:
            return kb, report, islands
        kb += STEP_KB
    raise SystemExit("no size up to %d kB holds %d telegrams" % (hi, job["count"]))


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
        import romfs

        rom = rom_probe()
        print("decoder from a ROMFS image of %d kB (vfs.VfsRom over a bytearray that stands in "
              "for flash): each heap below is on top of it" % romfs.image_kb(rom[1]))
    job = sil_job(args.count)
    kb, report, _islands = floor(args.lo, args.hi, sil_frames(), job, code=code, rom=rom)
    print("floor: %d kB holds %d telegrams (live heap %d -> %d bytes); every size above it up "
          "to %d kB held the %d-telegram probe" % (kb, report["telegrams"], report["live_before"],
                                                   report["live_after"], args.hi, min(args.count, QUICK_COUNT)))


if __name__ == "__main__":
    main()
