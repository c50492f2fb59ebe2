"""Precompile firmware/ to .mpy for one board (``make mpy``) and report the sizes.

mpy-cross turns each module into MicroPython bytecode (.mpy v6.3, loadable by MicroPython 1.23
and later): the device skips compiling on boot and the compiler's peak RAM use. ``-march`` comes
from the board (xtensawin for ESP32 and S3, rv32imc for C3): bytecode-only modules do not care,
but a module with ``@micropython.native`` or ``@micropython.viper`` functions holds machine code
and only loads on the architecture it was built for.

``main.py`` and ``boot.py`` stay source: MicroPython runs only those two names at boot.
Everything else under firmware/ that is not Python (HTML, JSON) is copied as it is.
"""

import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
BUILD = os.path.join(ROOT, "build")
BIN = os.path.dirname(sys.executable)

# Files that MicroPython only runs as source: the board boots them by name.
SOURCE_ONLY = ("boot.py", "main.py")

# firmware/ is compiled without line-number tables. They are ~7 % of its bytecode (4.4 kB
# of what the gateway keeps loaded), and a device that runs .mpy files from its filesystem
# (the stock ESP32 firmware has no ROMFS) holds the bytecode in its heap. A traceback from
# this code then says "line 1", but still names the module and the function. Not -O3, which
# drops the same tables but also every assert statement. Third-party code (umqtt) is
# compiled as it comes.
FIRMWARE_FLAGS = ("-X", "no-source-lines")


class BuildError(Exception):
    """mpy-cross missing or failing on a module."""


def tool(name):
    """Path of a command installed in the venv next to this Python, else on PATH."""
    path = os.path.join(BIN, name)
    if os.path.exists(path):
        return path
    found = shutil.which(name)
    if found is None:
        raise BuildError("%s not found: run `make venv`" % name)
    return found


def discover(firmware=FIRMWARE):
    """Every file under firmware/ (relative, '/'-separated, sorted), caches left out."""
    found = []
    for top, dirs, files in os.walk(firmware):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for name in files:
            if name.endswith((".pyc", ".mpy")) or name.startswith("."):
                continue
            rel = os.path.relpath(os.path.join(top, name), firmware)
            found.append(rel.replace(os.sep, "/"))
    return sorted(found)


def device_name(rel):
    """Path on the device for firmware file ``rel``: modules become .mpy, the rest keep theirs."""
    if rel.endswith(".py") and rel not in SOURCE_ONLY:
        return rel[:-3] + ".mpy"
    return rel


def build(board, firmware=FIRMWARE, out_root=BUILD):
    """Compile firmware/ into build/<board>/; returns [(rel, device path, .py bytes, bytes)]."""
    out = os.path.join(out_root, board["name"])
    if os.path.isdir(out):
        shutil.rmtree(out)  # a module deleted from firmware/ must not be deployed from here
    mpy_cross = tool("mpy-cross")
    built = []
    for rel in discover(firmware):
        src = os.path.join(firmware, rel)
        dest = device_name(rel)
        target = os.path.join(out, dest)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if dest == rel:
            shutil.copyfile(src, target)
        else:
            _compile(mpy_cross, src, rel, target, board["march"], FIRMWARE_FLAGS)
        built.append((rel, dest, os.path.getsize(src), os.path.getsize(target)))
    return built


# The name a module's .mpy gives its source: the module's dotted name ("portal.app"), which
# tracebacks show ('File "portal.app", line 1, in guarded'). Importing the module interns
# that name anyway, where a path ("portal/app.py") was one more interned name per module
# loaded: MicroPython never frees one, and a gateway serving /config sat a few names from
# its name pool's next block (14 kB in one piece on the unix port).
SOURCE_NAMES = "dotted"


def source_name(rel):
    """"portal/app.py" -> "portal.app", "decoder/__init__.py" -> "decoder"."""
    name = rel[:-3] if rel.endswith(".py") else rel
    if name.endswith("/__init__"):
        name = name[: -len("/__init__")]
    return name.replace("/", ".")


def _compile(mpy_cross, src, rel, target, march, flags=()):
    # -march only matters for @micropython.native/viper code, and those need it.
    cmd = [mpy_cross] + list(flags) + ["-march=" + march, "-s", source_name(rel), "-o", target, src]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise BuildError("mpy-cross (-march=%s) failed on %s:\n%s" % (
            march, rel, (done.stderr or done.stdout).strip()))


def size_report(board, built):
    """The table `make mpy` prints: bytes of source and of what goes on the device, per module."""
    lines = ["%-40s %8s %8s" % ("module (%s, %s)" % (board["name"], board["march"]), "source",
                                "device")]
    src_total = dev_total = 0
    for rel, dest, src_size, dev_size in built:
        lines.append("%-40s %8d %8d" % (dest, src_size, dev_size))
        src_total += src_size
        dev_total += dev_size
    lines.append("%-40s %8d %8d" % ("total (%d files)" % len(built), src_total, dev_total))
    return "\n".join(lines)
