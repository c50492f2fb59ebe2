"""Viper kernel for the APDU layer: joining General Block Transfer blocks.

Imported by ``decoder/apdu.py`` only under MicroPython; ``apdu.py`` keeps the
plain-Python twin (a slice assignment) and the tests check both agree. The
kernel exists because the slice of the source block that the twin needs is
a 32-byte heap object on every block (IEC 62056-5-3 GBT: one per frame).
"""

import micropython


@micropython.viper
def copy_at(dst: ptr8, d: int, src: ptr8, s: int, n: int):
    """dst[d:d+n] = src[s:s+n] (the ranges do not overlap)."""
    i = 0
    while i < n:
        dst[d + i] = src[s + i]
        i += 1
