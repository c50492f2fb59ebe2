"""Code in flash: the ROMFS image (``make romfs``) and the freeze manifest (boards/manifest.py).

A ROMFS image (MicroPython 1.25+, ``vfs.VfsRom``) holds the firmware's .mpy tree; firmware
built with a ROMFS partition mounts it at /rom and imports from it in place, so bytecode and
constants stay in flash. tools/romfs.py builds one per board and one for the unix port here,
where a launcher mounts the image from a bytearray that stands in for flash. These tests
say what goes into the image, that the firmware runs from it, and that it leaves more heap
than the same .mpy files on a filesystem. The gateway's heap from the image: test_romfs_gateway.py.
"""

import json
import os

import pytest

import boardfile
import decoder_support as ds
import mpybuild
import romfs
from mp import MICROPYTHON, ROOT, compiled_tree, run_micropython

# Lists every file under a mounted image as JSON (the image read the way the device would).
LIST_SCRIPT = """
import json, os, vfs
with open(%r, "rb") as f:
    vfs.mount(vfs.VfsRom(f.read()), "/rom")
found = []
def walk(d):
    for name, kind, *_ in os.ilistdir(d):
        p = d + "/" + name
        walk(p) if kind == 0x4000 else found.append(p[len("/rom/"):])
walk("/rom")
print(json.dumps(sorted(found)))
"""

# Heap the decoder's import costs, in bytes, after gc.collect(): the launcher (if any) runs
# first, outside the reading.
IMPORT_SCRIPT = """
import gc
gc.collect()
before = gc.mem_alloc()
import decoder, decoder.obis, decoder.apdu, decoder.stream, decoder.gcm, decoder.axdr
gc.collect()
print(gc.mem_alloc() - before, decoder.__file__)
"""

# The ROM decoder at work: a SiL push decoded from the image, as JSON.
DECODE_SCRIPT = """
import decoder, umqtt.simple
dec = decoder.Decoder(%r, %r)
out = dec.feed(bytes.fromhex(%r))
print(decoder.telegram_json(out[0]) if out else "none", umqtt.simple.__file__)
"""


def firmware_modules():
    """Every firmware file as the image should hold it (main.py and boot.py stay out)."""
    return sorted(mpybuild.device_name(rel) for rel in mpybuild.discover()
                  if rel not in mpybuild.SOURCE_ONLY)


def listing(img):
    done = run_micropython(["-c", LIST_SCRIPT % img], heapsize="1m")
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def run_from_image(script, heapsize="512k"):
    """Run ``script`` behind the host launcher: imports come from the image only."""
    text = romfs.HOST_LAUNCHER % romfs.HOST_IMAGE + script
    done = run_micropython(["-c", text], heapsize=heapsize)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode().strip()


@pytest.fixture(scope="module")
def host():
    return romfs.host_image()  # (launcher dir, image path, bytes)


@pytest.fixture(scope="module")
def board_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("romfs-board")
    return romfs.build_board(boardfile.load("esp32-devkit"), out_root=str(out))


# --- what goes into the image ----------------------------------------------------------------


def test_a_boards_image_holds_every_firmware_module_as_mpy_and_umqtt_under_lib(board_build):
    img, size, _main, count = board_build
    assert os.path.getsize(img) == size
    names = listing(img)
    assert names == sorted(firmware_modules() + ["lib/umqtt/simple.mpy"])
    assert count == len(names)
    assert not [n for n in names if n.endswith(".py")]  # a .py would be compiled into the heap


def test_a_boards_image_is_built_for_the_boards_arch(board_build):
    # .mpy header: b"M", version 6, flags with the native arch in bits 2..7 (viper kernels
    # only run on the arch they were compiled for). xtensawin is arch 10.
    img = board_build[0]
    tree = os.path.dirname(img)
    with open(os.path.join(tree, "decoder", "gcm_viper.mpy"), "rb") as f:
        head = f.read(4)
    assert head[0:2] == b"M\x06"
    assert head[2] >> 2 == 10


def test_the_boards_main_py_puts_rom_first_then_runs_the_firmwares_main(board_build):
    main_py = board_build[2]
    with open(main_py) as f:
        text = f.read()
    with open(os.path.join(ROOT, "firmware", "main.py")) as f:
        assert text.endswith(f.read())
    prelude = text[:text.index('"""meterlink entry')]
    script = "import sys\nsys.path[:] = ['', '.frozen', '/lib', '/rom', '/rom/lib']\n" + prelude
    done = run_micropython(["-c", script + "print(sys.path)"], heapsize="256k")
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().strip() == "['/rom', '/rom/lib', '', '.frozen', '/lib']"


def test_the_host_image_holds_the_same_tree_built_for_this_port(host):
    assert listing(host[1]) == sorted(firmware_modules() + ["lib/umqtt/simple.mpy"])


def test_main_py_and_the_build_stamp_never_go_into_an_image(tmp_path):
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    for name in ("main.py", "boot.py", ".hostmpy", "config.mpy", "pkg/a.mpy", "pkg/stray.py"):
        (tree / name).write_bytes(b"x")
    count = romfs.stage(str(tmp_path / "stage"), [(str(tree), "")])
    assert count == 2
    assert sorted(os.listdir(str(tmp_path / "stage"))) == ["config.mpy", "pkg"]


def test_an_empty_tree_is_an_error_not_an_empty_image(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(romfs.RomfsError):
        romfs.stage(str(tmp_path / "stage"), [(str(tmp_path / "empty"), "")])


# --- running from it -------------------------------------------------------------------------


def test_the_decoder_and_umqtt_are_imported_from_the_image_and_decode_a_sil_push(host):
    frame, _ = ds.sil_push(seed=1, frame_counter=1001)
    out = run_from_image(DECODE_SCRIPT % (ds.SIL_KEY.hex(), ds.SIL_AUTH_KEY.hex(), frame.hex()))
    telegram, where = out.rsplit(" ", 1)
    assert where == "/rom/lib/umqtt/simple.mpy"
    import decoder  # the same firmware on CPython: the image must decode it the same way

    expected = decoder.Decoder(ds.SIL_KEY.hex(), ds.SIL_AUTH_KEY.hex()).feed(frame)
    assert json.loads(telegram) == json.loads(decoder.telegram_json(expected[0]))
    assert len(json.loads(telegram)["readings"]) > 10


def test_importing_the_decoder_from_the_image_leaves_more_heap_than_from_mpy_files(host):
    rom_bytes, where = run_from_image(IMPORT_SCRIPT).split()
    assert where == "/rom/decoder/__init__.mpy"
    done = run_micropython(["-c", IMPORT_SCRIPT], heapsize="512k", compiled=True)
    assert done.returncode == 0, done.stderr.decode()
    fs_bytes, fs_where = done.stdout.decode().split()
    assert os.path.join(ROOT, fs_where).startswith(compiled_tree())  # relative: mp.short()
    # Measured 50 kB from the image against 83 kB from .mpy files (64-bit unix port): the
    # bytecode and constants stay in the image; names, function and class objects do not.
    assert int(rom_bytes) < int(fs_bytes) - 20 * 1024, (rom_bytes, fs_bytes)


def test_the_launcher_leaves_nothing_but_frozen_modules_and_the_image_on_the_path(host):
    out = run_from_image("import sys\nprint(sys.path)")
    assert out == "['.frozen', '/rom', '/rom/lib']"
    assert os.path.exists(MICROPYTHON)


# --- the freeze manifest ---------------------------------------------------------------------


def manifest_calls():
    """boards/manifest.py run against stand-ins for MicroPython's manifest functions."""
    calls = []
    scope = {name: (lambda *a, _n=name, **k: calls.append((_n, a, k)))
             for name in ("include", "package", "module", "require", "freeze", "metadata")}
    path = os.path.join(ROOT, "boards", "manifest.py")
    with open(path) as f:
        exec(compile(f.read(), path, "exec"), scope)
    return calls


def test_the_manifest_starts_from_the_ports_own_frozen_modules():
    assert manifest_calls()[0] == ("include", ("$(PORT_DIR)/boards/manifest.py",), {})


def test_the_manifest_freezes_every_firmware_package_and_module_but_main_py():
    calls = manifest_calls()
    base = os.path.join(ROOT, "boards")
    frozen = set()
    for kind, args, kw in calls:
        if kind in ("package", "module"):
            where = os.path.normpath(os.path.join(base, kw["base_path"], args[0]))
            assert os.path.exists(where), where
            frozen.add(os.path.relpath(where, os.path.join(ROOT, "firmware")))
    top = set(rel.split("/")[0] for rel in mpybuild.discover() if rel.endswith(".py"))
    assert frozen == top - set(mpybuild.SOURCE_ONLY)
    assert ("require", ("umqtt.simple",), {}) in calls
