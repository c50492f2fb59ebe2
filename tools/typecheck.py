"""`make typecheck`: check the hardware-facing firmware against the ESP32's real API.

The unix port has no ``machine.UART``, ``machine.Pin`` or ``network.WLAN``, so a wrong call
there (a misspelt keyword, a string where an int goes, a method the port does not have) would
only show on a device. mypy, given the MicroPython stubs for the esp32 port
(``micropython-esp32-stubs``, installed by ``make venv`` into ``.venv/typings``), finds them on
the host.

    .venv/bin/python tools/typecheck.py [FILE ...]

Without FILEs it checks every module under firmware/ that imports ``machine``, ``network`` or
``esp32`` (firmware/board/esp32.py above all), and ``DEVICE_ONLY``. Checked as MicroPython code:

- the stubs' own stdlib replaces CPython's (``custom_typeshed_dir``): ``time.sleep_ms``,
  ``asyncio`` as MicroPython has them;
- bodies of unannotated functions are checked too (the firmware carries no annotations);
- other firmware modules are read for their types but not reported on (``follow_imports =
  silent``): this check is about the hardware boundary;
- errors inside the stubs themselves (they have a few) are not ours and are ignored;
- ``no-redef`` is off: the ``try: import asyncio / except ImportError: import uasyncio as
  asyncio`` fallback is deliberate MicroPython style, not a mistake.

Exit status: 0 clean, 1 type errors (printed as mypy prints them), 2 stubs or mypy missing.
"""

import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
TYPINGS = os.path.join(ROOT, ".venv", "typings")

# Code that touches no hardware module but runs in practice on the device only, against
# its lwIP sockets (the unix port takes another path unless a test asks): checked too.
DEVICE_ONLY = [os.path.join(FIRMWARE, "net", name) for name in ("__init__.py", "resolve.py", "ntp.py")]

HARDWARE_IMPORT = re.compile(r"^\s*(?:import|from)\s+(?:machine|network|esp32)\b", re.M)


def hardware_modules(firmware=FIRMWARE):
    """Firmware files that import machine, network or esp32, sorted."""
    found = []
    for top, dirs, files in os.walk(firmware):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(top, name)
                with open(path, encoding="utf-8") as f:
                    if HARDWARE_IMPORT.search(f.read()):
                        found.append(path)
    return sorted(found)


def stub_modules(typings=TYPINGS):
    """Top-level module names the esp32 stubs define (their errors are silenced)."""
    names = set()
    for entry in os.listdir(typings):
        if entry.endswith(".pyi"):
            names.add(entry[:-4])
        elif os.path.isdir(os.path.join(typings, entry)) and "." not in entry \
                and entry not in ("stdlib", "__pycache__"):
            names.add(entry)
    return sorted(names)


def config_text(typings=TYPINGS, firmware=FIRMWARE):
    """The mypy configuration described in the module docstring."""
    silenced = ",".join("%s,%s.*" % (n, n) for n in stub_modules(typings))
    return "\n".join([
        "[mypy]",
        "mypy_path = %s:%s" % (typings, firmware),
        "custom_typeshed_dir = %s" % typings,
        "check_untyped_defs = True",
        "follow_imports = silent",
        "cache_dir = /dev/null",
        "show_error_codes = True",
        # `try: import asyncio / except ImportError: import uasyncio as asyncio` is how
        # MicroPython code bridges versions; mypy calls the second import a redefinition.
        "disable_error_code = no-redef",
        "[mypy-%s]" % silenced,
        "ignore_errors = True",
        "",
    ])


def run(paths, typings=TYPINGS):
    """Type-check ``paths``; returns (exit status, mypy's output)."""
    if not os.path.isfile(os.path.join(typings, "machine.pyi")):
        return 2, ("micropython-esp32-stubs are not installed in %s: run `make venv`\n" % typings)
    with tempfile.TemporaryDirectory() as tmp:
        ini = os.path.join(tmp, "mypy.ini")
        with open(ini, "w") as f:
            f.write(config_text(typings))
        cmd = [sys.executable, "-m", "mypy", "--config-file", ini] + list(paths)
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    out = done.stdout + done.stderr
    if "No module named mypy" in out:
        return 2, "mypy is not installed: run `make venv`\n"
    return (0 if done.returncode == 0 else 1), out


def main(argv=None):
    paths = list(sys.argv[1:] if argv is None else argv) or hardware_modules() + DEVICE_ONLY
    if not paths:
        print("typecheck: no firmware module imports machine, network or esp32 yet")
        return 0
    print("typecheck (mypy, micropython-esp32-stubs): %s" % " ".join(
        os.path.relpath(p, ROOT) for p in paths))
    status, out = run(paths)
    sys.stdout.write(out)
    return status


if __name__ == "__main__":
    sys.exit(main())
