"""Keep build/host-mpy/ a precompiled (.mpy) copy of firmware/ for the unix port here.

The ESP32 never compiles the firmware: it loads .mpy files (or frozen bytecode). Compiling
from source needs transient heap the device never spends (the decoder alone is ~75 kB of
bytecode as the 64-bit unix compiler builds it), so low-heap checks on the host only mean
something against the same .mpy build. This module makes that build for the *host* port:

- ``-march`` is the architecture of ``.venv/bin/micropython`` itself (read from its
  ``sys.implementation._mpy``), because viper/native functions hold machine code;
- main.py and boot.py stay source, as on the device; non-Python files are copied;
- it is incremental: a module is recompiled only when its source's mtime differs from
  the one stamped on its .mpy, so a test session pays for the build once;
- several pytest processes (other engineers' included) may share the tree: a file lock
  serialises builders, and each file is written beside its target and renamed into place.

``_mpy`` packs the .mpy format the port loads (MicroPython py/persistentcode.h)::

    bit 15 ........ 10 | 9 ...... 8 | 7 ........ 0
        native arch      sub-version    mpy version

mpy-cross states what it emits in ``--version`` ("... emitting mpy v6.3").
"""

import fcntl
import os
import re
import shutil
import subprocess

import mpybuild

HOST_BUILD = os.path.join(mpybuild.BUILD, "host-mpy")
MICROPYTHON = os.path.join(mpybuild.BIN, "micropython")
STAMP = ".hostmpy"  # mpy-cross version, -march and flags the tree was built with

# py/persistentcode.h MP_NATIVE_ARCH_* in order (0 = no native code); the same names
# mpy-cross takes for -march.
_ARCHES = ("none", "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp",
           "armv7emdp", "xtensa", "xtensawin", "rv32imc", "rv64imc")
_ARCH_SHIFT = 10  # _mpy bits 10.. hold the arch
_SUB_SHIFT = 8  # _mpy bits 8..9 hold the sub-version
_SUB_MASK = 3
_VERSION_MASK = 0xFF


def port_format(micropython=MICROPYTHON):
    """(mpy version, sub-version, arch name) the MicroPython binary loads."""
    done = subprocess.run([micropython, "-c", "import sys; print(sys.implementation._mpy)"],
                          capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise mpybuild.BuildError("%s did not start: %s" % (micropython, done.stderr.strip()))
    word = int(done.stdout.strip())
    arch = word >> _ARCH_SHIFT
    name = _ARCHES[arch] if arch < len(_ARCHES) else "arch%d" % arch
    return word & _VERSION_MASK, (word >> _SUB_SHIFT) & _SUB_MASK, name


def cross_format(mpy_cross=None):
    """(mpy version, sub-version, full version line) that mpy-cross emits."""
    mpy_cross = mpy_cross or mpybuild.tool("mpy-cross")
    line = subprocess.run([mpy_cross, "--version"], capture_output=True, text=True,
                          timeout=30).stdout.strip()
    found = re.search(r"mpy v(\d+)\.(\d+)", line)
    if found is None:
        raise mpybuild.BuildError("cannot read the .mpy version from %r" % line)
    return int(found.group(1)), int(found.group(2)), line


def check_compatible(micropython=MICROPYTHON, mpy_cross=None):
    """The -march for this port; BuildError if mpy-cross writes a format it cannot load."""
    version, sub, arch = port_format(micropython)
    c_version, c_sub, line = cross_format(mpy_cross)
    if (version, sub) != (c_version, c_sub):
        raise mpybuild.BuildError("%s emits mpy v%d.%d but %s loads v%d.%d" % (
            line, c_version, c_sub, micropython, version, sub))
    if arch == "none":
        raise mpybuild.BuildError("%s cannot load native code (no arch in _mpy)" % micropython)
    return arch


def ensure(out=HOST_BUILD, firmware=mpybuild.FIRMWARE, micropython=MICROPYTHON, flags=mpybuild.FIRMWARE_FLAGS):
    """Bring ``out`` up to date with ``firmware``; returns the names (re)written. ``flags``:
    mpy-cross's options for it, as the device build's (third-party code: none)."""
    mpy_cross = mpybuild.tool("mpy-cross")
    march = check_compatible(micropython, mpy_cross)
    stamp = "%s\n-march=%s\n%s\nsources %s\n" % (cross_format(mpy_cross)[2], march, " ".join(flags),
                                                 mpybuild.SOURCE_NAMES)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _update(out, firmware, mpy_cross, march, stamp, flags)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _update(out, firmware, mpy_cross, march, stamp, flags):
    stamp_path = os.path.join(out, STAMP)
    if _read(stamp_path) != stamp and os.path.isdir(out):
        shutil.rmtree(out)  # another mpy-cross, arch or flags: nothing in the tree can be trusted
    written = []
    wanted = set()
    for rel in mpybuild.discover(firmware):
        dest = mpybuild.device_name(rel)
        wanted.add(dest)
        src = os.path.join(firmware, rel)
        target = os.path.join(out, dest)
        when = os.stat(src).st_mtime_ns
        if os.path.exists(target) and os.stat(target).st_mtime_ns == when:
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        part = "%s.%d.part" % (target, os.getpid())
        if dest == rel:
            shutil.copyfile(src, part)
        else:
            mpybuild._compile(mpy_cross, src, rel, part, march, flags)
        # The source's own mtime, not "now": an edit, or a checkout of an older file,
        # shows as a difference whichever way the clock went.
        os.utime(part, ns=(when, when))
        os.replace(part, target)
        written.append(dest)
    _prune(out, wanted)
    with open(stamp_path, "w") as f:
        f.write(stamp)
    return written


def _prune(out, wanted):
    # A module deleted or renamed in firmware/ must not stay importable from here.
    for top, dirs, files in os.walk(out):
        for name in files:
            rel = os.path.relpath(os.path.join(top, name), out).replace(os.sep, "/")
            if rel != STAMP and rel not in wanted:
                os.remove(os.path.join(top, name))


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


if __name__ == "__main__":
    names = ensure()
    print("%s: %d file(s) rebuilt" % (HOST_BUILD, len(names)))
