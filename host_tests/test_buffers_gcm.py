"""GCM decryption in place, across the keystream chunk (IEC 62056-5-3 suite 0, SP 800-38D).

The APDU reader decrypts the framer's payloads where they lie, so
``Gcm.decrypt`` / ``Gcm.run`` with ``out`` the ciphertext itself must give
what AESGCM (the ``cryptography`` package, an independent implementation)
sealed, for every security control and every length around the keystream
chunk (``gcm._CHUNK`` bytes made per ECB call, 128 since the buffer was cut
from 512). A wrong tag is still "authentication failed" in place. The same
cases run under MicroPython with the viper kernels and with the plain twins.
"""

import json
import random

import pytest
from apdu_support import iv
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from mp import run_micropython

from decoder import gcm
from decoder.errors import SecurityError

KEY = bytes(range(16))
AK = bytes(range(16, 32))
TITLE = b"LGZgTEST"
C = gcm._CHUNK
SIZES = [0, 1, 15, 16, C - 1, C, C + 1, 2 * C + 17, 1100]
CONTROLS = [0x30, 0x20, 0x10]


def seal(sc, plaintext, fc):
    """(what the meter sends after the header, 12-byte tag or None), by AESGCM."""
    aes = AESGCM(KEY)
    if sc & 0x20:
        sealed = aes.encrypt(iv(TITLE, fc), plaintext, bytes([sc]) + AK)
        return sealed[:-16], (sealed[-16:-4] if sc & 0x10 else None)
    return plaintext, aes.encrypt(iv(TITLE, fc), b"", bytes([sc]) + AK + plaintext)[:12]


def cases():
    out = []
    for sc in CONTROLS:
        for size in SIZES:
            plain = bytes(random.Random(size * 7 + sc).getrandbits(8) for _ in range(size))
            body, tag = seal(sc, plain, size + 1)
            out.append({"sc": sc, "fc": size + 1, "body": body.hex(), "tag": tag.hex() if tag else None,
                        "plain": plain.hex()})
    return out


def in_place(g, c, body=None):
    buf = bytearray(bytes.fromhex(c["body"]) if body is None else body)
    tag = bytes.fromhex(c["tag"]) if c["tag"] else None
    n = g.decrypt(c["sc"], TITLE, c["fc"], buf, tag, buf)
    return bytes(buf[:n])


@pytest.mark.parametrize("c", cases(), ids=lambda c: "sc%02x-%d" % (c["sc"], len(c["plain"]) // 2))
def test_decrypting_in_place_gives_what_aesgcm_sealed(c):
    assert in_place(gcm.Gcm(KEY, AK), c) == bytes.fromhex(c["plain"])


@pytest.mark.parametrize("size", [C - 1, C + 1, 1100])
def test_a_wrong_tag_in_place_is_authentication_failed(size):
    c = [c for c in cases() if c["sc"] == 0x30 and len(c["plain"]) == 2 * size][0]
    body = bytearray(bytes.fromhex(c["body"]))
    body[size // 2] ^= 0x01
    with pytest.raises(SecurityError, match="authentication failed"):
        in_place(gcm.Gcm(KEY, AK), c, body)


MP_SCRIPT = """
import json, sys
from decoder import gcm, gcm_plain
from decoder.errors import SecurityError
cases = json.loads(sys.stdin.read())
TITLE = b"LGZgTEST"
def run(name):
    got = []
    g = gcm.Gcm(bytes(range(16)), bytes(range(16, 32)))
    for c in cases:
        buf = bytearray(bytes.fromhex(c["body"]))
        tag = bytes.fromhex(c["tag"]) if c["tag"] else None
        n = g.decrypt(c["sc"], TITLE, c["fc"], buf, tag, buf)
        got.append(bytes(buf[:n]).hex())
    bad = bytearray(bytes.fromhex(cases[-1]["body"]))
    bad[0] ^= 1
    try:
        g.decrypt(0x30, TITLE, cases[-1]["fc"], bad, bytes.fromhex(cases[-1]["tag"]), bad)
        got.append("accepted")
    except SecurityError as e:
        got.append(str(e))
    out[name] = got
out = {"kernel": gcm.KERNEL}
run("viper")
gcm._ghash, gcm._counter_blocks, gcm._xor_into = (
    gcm_plain._ghash_bits, gcm_plain._counter_blocks_py, gcm_plain._xor_into_py)
run("plain")
# A line per result: one JSON text of them all is a 19 kB string, which a heap the
# script itself fragmented may have no room for (it failed so after an unrelated edit).
print("kernel", out["kernel"])
for name in ("viper", "plain"):
    for result in out[name]:
        print(name, json.dumps(result))
"""


def test_on_micropython_viper_and_plain_kernels_decrypt_in_place_as_aesgcm_sealed():
    job = sorted(cases(), key=lambda c: c["sc"] == 0x30)  # a 0x30 case last: the script spoils it
    proc = run_micropython(["-c", MP_SCRIPT], input_bytes=json.dumps(job).encode())
    assert proc.returncode == 0, proc.stderr.decode() + proc.stdout.decode()
    got = {"viper": [], "plain": []}
    for line in proc.stdout.decode().strip().splitlines():
        name, result = line.split(" ", 1)
        if name == "kernel":
            got[name] = result
        else:
            got[name].append(json.loads(result))
    assert got["kernel"] == "viper"
    want = [c["plain"] for c in job] + [gcm.AUTH_FAILED]
    assert got["viper"] == want
    assert got["plain"] == want
