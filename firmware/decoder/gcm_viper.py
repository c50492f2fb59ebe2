"""Viper kernels for AES-GCM (NIST SP 800-38D): GHASH, counter blocks, XOR.

Imported by ``decoder/gcm.py`` only under MicroPython (viper annotations are
not CPython syntax that means anything); ``gcm.py`` keeps the plain-Python
twins and the tests check that both give the same bytes.

GHASH works on four 32-bit words, most significant first, the bit order of
SP 800-38D section 6.3 (bit 0 of a block is the top bit of its first byte):

    block:  | w0 (bytes 0-3) | w1 (4-7) | w2 (8-11) | w3 (12-15) |
    R = 0xE1 || 0^120  ->  only w0 carries the reduction constant

Viper integers are machine words: 32 bits on the ESP32, 64 on the x86-64
unix port. Every result that can grow past 32 bits is masked with ``m`` so
that both compute the same. Literals above 0x3FFFFFFF would be Python
objects on a 32-bit target (micropython issue 9114), so they are bound once
through ``int()`` before the loops.
"""

import micropython


@micropython.viper
def ghash(y: ptr8, h: ptr8, data: ptr8, n: int):
    """Y = (Y xor X_i) * H for each 16-byte block X_i of data[0:n] (n % 16 == 0).

    ``y`` (16 bytes) is read and written back; ``h`` is the hash subkey.
    """
    m = uint(int(0xFFFFFFFF))
    r = uint(int(0xE1000000))
    y0 = (uint(y[0]) << 24) | (uint(y[1]) << 16) | (uint(y[2]) << 8) | uint(y[3])
    y1 = (uint(y[4]) << 24) | (uint(y[5]) << 16) | (uint(y[6]) << 8) | uint(y[7])
    y2 = (uint(y[8]) << 24) | (uint(y[9]) << 16) | (uint(y[10]) << 8) | uint(y[11])
    y3 = (uint(y[12]) << 24) | (uint(y[13]) << 16) | (uint(y[14]) << 8) | uint(y[15])
    h0 = (uint(h[0]) << 24) | (uint(h[1]) << 16) | (uint(h[2]) << 8) | uint(h[3])
    h1 = (uint(h[4]) << 24) | (uint(h[5]) << 16) | (uint(h[6]) << 8) | uint(h[7])
    h2 = (uint(h[8]) << 24) | (uint(h[9]) << 16) | (uint(h[10]) << 8) | uint(h[11])
    h3 = (uint(h[12]) << 24) | (uint(h[13]) << 16) | (uint(h[14]) << 8) | uint(h[15])
    p = 0
    while p < n:
        x0 = y0 ^ ((uint(data[p]) << 24) | (uint(data[p + 1]) << 16)
                   | (uint(data[p + 2]) << 8) | uint(data[p + 3]))
        x1 = y1 ^ ((uint(data[p + 4]) << 24) | (uint(data[p + 5]) << 16)
                   | (uint(data[p + 6]) << 8) | uint(data[p + 7]))
        x2 = y2 ^ ((uint(data[p + 8]) << 24) | (uint(data[p + 9]) << 16)
                   | (uint(data[p + 10]) << 8) | uint(data[p + 11]))
        x3 = y3 ^ ((uint(data[p + 12]) << 24) | (uint(data[p + 13]) << 16)
                   | (uint(data[p + 14]) << 8) | uint(data[p + 15]))
        # SP 800-38D algorithm 1: Z accumulates V = H * x^i for every set bit i of X.
        y0 = uint(0)
        y1 = uint(0)
        y2 = uint(0)
        y3 = uint(0)
        v0 = h0
        v1 = h1
        v2 = h2
        v3 = h3
        i = 0
        w = x0
        while i < 128:
            if i == 32:
                w = x1
            elif i == 64:
                w = x2
            elif i == 96:
                w = x3
            if (w >> uint(31 - (i & 31))) & 1:
                y0 ^= v0
                y1 ^= v1
                y2 ^= v2
                y3 ^= v3
            carry = v3 & 1
            v3 = ((v3 >> 1) | (v2 << 31)) & m
            v2 = ((v2 >> 1) | (v1 << 31)) & m
            v1 = ((v1 >> 1) | (v0 << 31)) & m
            v0 = v0 >> 1
            if carry:
                v0 ^= r
            i += 1
        p += 16
    # Store big-endian; the ptr8 store keeps the low 8 bits of each word.
    y[0] = y0 >> 24
    y[1] = y0 >> 16
    y[2] = y0 >> 8
    y[3] = y0
    y[4] = y1 >> 24
    y[5] = y1 >> 16
    y[6] = y1 >> 8
    y[7] = y1
    y[8] = y2 >> 24
    y[9] = y2 >> 16
    y[10] = y2 >> 8
    y[11] = y2
    y[12] = y3 >> 24
    y[13] = y3 >> 16
    y[14] = y3 >> 8
    y[15] = y3


@micropython.viper
def counter_blocks(ks: ptr8, j0: ptr8, counter: int, blocks: int):
    """ks[16*i:16*i+16] = j0[0:12] || BE32(counter + i) for i in range(blocks)."""
    o = 0
    c = uint(counter)
    end = blocks * 16
    while o < end:
        k = 0
        while k < 12:
            ks[o + k] = j0[k]
            k += 1
        ks[o + 12] = c >> 24
        ks[o + 13] = c >> 16
        ks[o + 14] = c >> 8
        ks[o + 15] = c
        c += 1
        o += 16


@micropython.viper
def xor_into(dst: ptr8, src: ptr8, pos: int, ks: ptr8, n: int):
    """dst[pos+i] = src[pos+i] xor ks[i] for i < n (dst may be src).

    ``pos`` saves the caller a memoryview slice (a heap object) per chunk.
    """
    i = 0
    while i < n:
        dst[pos + i] = src[pos + i] ^ ks[i]
        i += 1
