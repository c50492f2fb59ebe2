"""Viper kernel of the table-driven CRC-16 (see ``crc.py`` for the CRCs).

Imported by ``crc.py`` only under MicroPython. ``table`` is the 512-byte
table of ``crc.py`` (low byte first; read a byte at a time, so the host's
byte order does not matter); ``buf`` any bytes-like object; the loop runs
over buf[start:end]. Every value stays below 0x10000, so the 32-bit viper
integers of the ESP32 and the 64-bit ones of the unix port agree and no
literal needs binding outside the loop (micropython issue 9114 concerns
literals above 0x3FFFFFFF only).
"""

import micropython


@micropython.viper
def crc16(table: ptr8, buf: ptr8, start: int, end: int, crc: int) -> int:
    """Reflected CRC-16 of buf[start:end] from the running value ``crc``."""
    while start < end:
        at = ((crc ^ buf[start]) & 0xFF) << 1
        crc = (crc >> 8) ^ table[at] ^ (table[at + 1] << 8)
        start += 1
    return crc
