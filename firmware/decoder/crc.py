"""CRC-16 checks of the link layers, table driven.

Two reflected CRC-16s, each one 256-entry table of 16-bit words (512 bytes;
the ARC one is built on first use):

- CRC-16/X.25 (IEC 62056-46 HCS and FCS, the ISO/IEC 13239 FCS-16):
  polynomial 0x1021 reflected (0x8408), init 0xFFFF, output xor 0xFFFF;
  the frame carries it least significant byte first.
- CRC-16/ARC (DSMR 5.0.2 P1 Companion Standard, "CRC16"): polynomial 0x8005
  reflected (0xA001), init 0, no output xor; the telegram carries it as
  four upper-case hex digits after the "!".

Check values (the CRC catalogue's "123456789"): X.25 0x906E, ARC 0xBB3D.

The byte loop is the hot spot of framing (every frame byte passes it once):
on MicroPython it is the viper kernel of ``crc_viper.py``; the plain
function below is its twin on CPython and the fallback where viper is
missing. Both take (table, buffer, start, end, crc) and allocate nothing.
"""

from array import array

from decoder.compat import IS_MICROPYTHON, const

_X25_POLY = const(0x8408)  # 0x1021 bit-reversed
_ARC_POLY = const(0xA001)  # 0x8005 bit-reversed
_X25_INIT = const(0xFFFF)
_X25_XOROUT = const(0xFFFF)


def _table(poly):
    """The 256 CRC values of a single byte for a reflected polynomial."""
    table = array("H", bytes(512))
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table[byte] = crc
    return table


X25_TABLE = _table(_X25_POLY)
_arc = None  # the ARC table: built by the first DSMR telegram, HDLC and M-Bus meters never need it


def arc_table():
    """The CRC-16/ARC table (~560 bytes of RAM once built)."""
    global _arc
    if _arc is None:
        _arc = _table(_ARC_POLY)
    return _arc


def crc16_plain(table, buf, start, end, crc):
    """Run ``crc`` over buf[start:end] with ``table``: the portable kernel."""
    for i in range(start, end):
        crc = (crc >> 8) ^ table[(crc ^ buf[i]) & 0xFF]
    return crc


_kernel = crc16_plain
if IS_MICROPYTHON:
    try:
        from decoder.crc_viper import crc16 as _kernel  # noqa: F811
    except (ImportError, SyntaxError):
        # A build without the native emitters keeps the plain kernel.
        pass


def x25(buf, start=0, end=None):
    """CRC-16/X.25 of buf[start:end] (the HDLC HCS/FCS value)."""
    if end is None:
        end = len(buf)
    return _kernel(X25_TABLE, buf, start, end, _X25_INIT) ^ _X25_XOROUT


def arc(buf, start=0, end=None):
    """CRC-16/ARC of buf[start:end] (the DSMR telegram CRC)."""
    if end is None:
        end = len(buf)
    return _kernel(arc_table(), buf, start, end, 0)
