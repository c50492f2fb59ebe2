"""Helpers for the test_resident_* tests: what the running gateway keeps in its heap.

``from_rom(script)`` runs a MicroPython script with the firmware imported from a ROMFS
image, as firmware with a ROMFS partition imports it from flash (bench_gateway.rom_code():
the image is one bytearray at the start of the heap, outside every measurement the
script makes). The script prints its results as its last line of JSON.
"""

import json
import subprocess

from mp import MICROPYTHON, ROOT, micropython_env

# Ample: the scripts measure differences, and a large heap keeps a collection from
# happening between two readings.
HEAP = "1m"

# Imported before a script measures anything: the modules the gateway holds from its
# start (app.app._preload and App()), so a reading shows what the code under test adds.
GATEWAY_BASE = ("asyncio", "decoder", "decoder.obis", "decoder.apdu", "decoder.stream",
                "umqtt.simple", "web.server", "board", "app.app")


def from_rom(script, base=GATEWAY_BASE):
    """Run ``script`` after importing ``base`` from the ROMFS image; its last line as JSON."""
    import bench_gateway
    import romfs

    bench_gateway.rom_code()  # brings the image up to date with firmware/
    prelude = romfs.HOST_LAUNCHER % romfs.HOST_IMAGE
    prelude += "import gc\nfor _name in %r:\n    __import__(_name)\ngc.collect()\n" % (base,)
    env = micropython_env()
    env["MICROPYPATH"] = ".frozen"
    done = subprocess.run([MICROPYTHON, "-X", "heapsize=%s" % HEAP, "-c", prelude + script],
                          capture_output=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, (done.stdout + done.stderr).decode(errors="replace")[-600:]
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def heap_script(setup, action):
    """A script printing the live heap ``action`` adds once ``setup`` ran (both source
    lines, run at module level), after a full collection each time."""
    return "%s\ngc.collect()\n_before = gc.mem_alloc()\n%s\ngc.collect()\nprint(gc.mem_alloc() - _before)\n" % (
        setup, action)

