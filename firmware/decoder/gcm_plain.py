"""Plain-Python twins of the GCM kernels in ``gcm_viper.py`` (NIST SP 800-38D).

``decoder/gcm.py`` uses these on CPython (GHASH with Shoup's byte tables)
and on a MicroPython port without the native emitters (GHASH bit by bit:
tables would fragment a small heap); the tests check that both agree with
the viper kernels. Split out of ``gcm.py`` to keep it small, as is ``decrypt_raw``,
plain GCM for the published test vectors, which no meter needs.

GHASH bit order (SP 800-38D 6.3): bit 0 of a block is the top bit of its
first byte, so ``int.from_bytes(block, "big")`` puts x^0 at the top and a
multiplication by x is a right shift, folding R = 0xE1 || 0^120 back in.
"""

import struct

from decoder.compat import const

_BLOCK = const(16)


_R = 0xE1 << 120  # SP 800-38D reduction constant R = 11100001 || 0^120
_R8 = []  # _R8[b]: the reduction folded back when 8 bits b are shifted out
_M8 = [None, None]  # (H, [H * b for every byte b]) for the last H seen


def _mulx(v):
    """v * x in GF(2^128), GCM bit order (x^0 is the top bit)."""
    return (v >> 1) ^ _R if v & 1 else v >> 1


def _byte_table(h):
    """Shoup's 8-bit tables (256 products of H and the reduction table),
    built once per key: a block then costs 16 lookups, not 128 steps."""
    if not _R8:
        for b in range(256):
            v = b
            for _ in range(8):
                v = _mulx(v)
            _R8.append(v)
    key = bytes(h)
    if _M8[0] != key:
        m = [0] * 256
        v = int.from_bytes(key, "big")
        bit = 0x80  # the top bit of a byte is its x^0 coefficient
        while bit:
            m[bit] = v
            v = _mulx(v)
            bit >>= 1
        for b in range(3, 256):
            if b & (b - 1):
                m[b] = m[b & -b] ^ m[b & (b - 1)]
        _M8[0] = key
        _M8[1] = m
    return _M8[1]


def _ghash_bits(y, h, data, n):
    """Plain twin of gcm_viper.ghash, bit by bit (SP 800-38D algorithm 1).

    The MicroPython fallback: no tables, so nothing to fragment a small heap.
    """
    hv = int.from_bytes(bytes(h), "big")
    yv = int.from_bytes(bytes(y), "big")
    for p in range(0, n, _BLOCK):
        x = yv ^ int.from_bytes(bytes(data[p : p + _BLOCK]), "big")
        yv = 0
        v = hv
        for i in range(127, -1, -1):
            if (x >> i) & 1:
                yv ^= v
            v = _mulx(v)
    y[0:_BLOCK] = yv.to_bytes(_BLOCK, "big")


def _ghash_table(y, h, data, n):
    """Plain twin of gcm_viper.ghash with byte tables: the CPython path."""
    m = _byte_table(h)
    r8 = _R8
    yv = int.from_bytes(bytes(y), "big")
    for p in range(0, n, _BLOCK):
        x = yv ^ int.from_bytes(bytes(data[p : p + _BLOCK]), "big")
        # Horner over the bytes, last byte (highest powers of x) first.
        z = m[x & 0xFF]
        for shift in range(8, 128, 8):
            z = (z >> 8) ^ r8[z & 0xFF] ^ m[(x >> shift) & 0xFF]
        yv = z
    y[0:_BLOCK] = yv.to_bytes(_BLOCK, "big")


def _counter_blocks_py(ks, j0, counter, blocks):
    """Plain twin of gcm_viper.counter_blocks."""
    for i in range(blocks):
        o = i * _BLOCK
        ks[o : o + 12] = j0[0:12]
        struct.pack_into(">I", ks, o + 12, (counter + i) & 0xFFFFFFFF)


def _xor_into_py(dst, src, pos, ks, n):
    """Plain twin of gcm_viper.xor_into."""
    if n:
        a = int.from_bytes(bytes(src[pos : pos + n]), "big")
        b = int.from_bytes(bytes(ks[0:n]), "big")
        dst[pos : pos + n] = (a ^ b).to_bytes(n, "big")


def decrypt_raw(gcm, iv, aad, ciphertext, out):
    """Plain GCM decryption with ``gcm`` (a gcm.Gcm), a 96-bit IV and any AAD (the NIST
    vectors): the plaintext into ``out``; returns the full 16-byte tag, which the caller
    compares. The DLMS path is ``Gcm.decrypt``."""
    n = len(ciphertext)
    gcm._j0[0:12] = iv  # J0 = IV || 0^31 || 1 (SP 800-38D 7.1 step 2)
    gcm._j0[12:16] = b"\x00\x00\x00\x01"
    gcm.ghash_start()
    gcm._absorb(aad)
    gcm._absorb_pad()
    gcm._absorb(ciphertext)
    gcm.ctr(ciphertext, out, n)
    return bytes(gcm.finish_tag(len(aad), n))
