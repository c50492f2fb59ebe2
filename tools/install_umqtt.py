"""Install umqtt.simple for the MicroPython unix port into .venv/mplib/umqtt/.

The ESP32 firmware has umqtt.simple frozen in; the unix port does not, and the
tests run the gateway there. The module comes from the pinned PyPI sdist
``micropython-umqtt.simple==1.3.4``: pip fetches it (the ordinary client, the
project's index settings), but the sdist has no setup.py, so pip refuses to
build it; ``--no-clean`` keeps the unpacked tree, from which the one module file
is taken and checked against a pinned SHA-256 before it is installed.

Run by ``make venv``; safe to run again (does nothing when the file is there
and matches).
"""

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

PACKAGE = "micropython-umqtt.simple==1.3.4"
# SHA-256 of umqtt/simple.py inside that sdist, checked on every install so a
# changed upload cannot slip into the tests unnoticed.
SHA256 = "8555d2f654deb8eb0d724f79b0811a78cc94029d070f3d96bbd74288653d63a5"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.path.join(ROOT, ".venv", "mplib", "umqtt", "simple.py")


def _sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _fetch(workdir):
    """Let pip download and unpack the sdist; return the path of simple.py."""
    env = dict(os.environ, TMPDIR=workdir)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
           "--no-clean", "-q", "-d", workdir, PACKAGE]
    # pip exits non-zero ("not a Python project") after unpacking: expected.
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    found = glob.glob(os.path.join(workdir, "pip-*", "*", "umqtt", "simple.py"))
    if not found:
        sys.exit("install_umqtt: pip did not unpack %s (network or index problem?)" % PACKAGE)
    return found[0]


def main():
    if os.path.exists(TARGET) and _sha256(TARGET) == SHA256:
        return 0
    workdir = tempfile.mkdtemp(prefix="umqtt-")
    try:
        source = _fetch(workdir)
        digest = _sha256(source)
        if digest != SHA256:
            sys.exit("install_umqtt: %s has sha256 %s, expected %s" % (PACKAGE, digest, SHA256))
        os.makedirs(os.path.dirname(TARGET), exist_ok=True)
        shutil.copyfile(source, TARGET)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("install_umqtt: %s -> %s" % (PACKAGE, os.path.relpath(TARGET, ROOT)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
