"""The CPython ``cryptolib`` stand-in behaves like MicroPython's built-in.

The same script runs on CPython (with tools/shims on the path) and on the
MicroPython unix port (the real module); the transcripts must be equal.
"""

import subprocess
import sys

from mp import ROOT, run_micropython

SCRIPT = r"""
import sys
sys.path.append(sys.argv[-1])
import cryptolib
from cryptolib import aes

def show(label, f):
    try:
        r = f()
        print(label, "->", bytes(r).hex() if r is not None else None)
    except ValueError as e:
        print(label, "ValueError", e)

zero = bytes(16)
e = aes(zero, 1)
show("ecb fips-197 zero key", lambda: e.encrypt(zero))
buf = bytearray(48)
show("ecb into larger out", lambda: e.encrypt(bytes(range(32)), buf))
mv = memoryview(buf)
show("ecb memoryview in place", lambda: e.encrypt(mv[0:16], mv[0:16]))
print("returns out", e.encrypt(zero, buf) is buf)
show("ecb then decrypt", lambda: e.decrypt(zero))
show("short input", lambda: aes(zero, 1).encrypt(bytes(15)))
show("small out", lambda: aes(zero, 1).encrypt(zero, bytearray(8)))
show("bad key", lambda: aes(bytes(15), 1))
show("ctr mode", lambda: aes(zero, 6, zero))
show("cbc without iv", lambda: aes(zero, 2))
c = aes(bytes(range(16)), 2, bytes(16))
first = c.encrypt(bytes(16))
show("cbc chains across calls", lambda: first + c.encrypt(bytes(16)))
d = aes(bytes(range(16)), 2, bytes(16))
show("cbc decrypt", lambda: d.decrypt(first))
show("aes-256 ecb", lambda: aes(bytes(32), 1).encrypt(zero))
print("has MODE_ECB", hasattr(cryptolib, "MODE_ECB"))
"""


def test_shim_transcript_equals_micropython_builtin(tmp_path):
    script = tmp_path / "cryptolib_probe.py"
    script.write_text(SCRIPT)
    shims = ROOT + "/tools/shims"
    cpython = subprocess.run([sys.executable, str(script), shims], capture_output=True, text=True, check=True)
    # The unix port gets a path without the shim: its own cryptolib answers.
    micro = run_micropython([str(script), "/nonexistent"])
    assert micro.returncode == 0, micro.stderr.decode()
    assert cpython.stdout == micro.stdout.decode()
    assert "ecb fips-197 zero key -> 66e94bd4ef8a2c3b884cfa59ca342b2e" in cpython.stdout
