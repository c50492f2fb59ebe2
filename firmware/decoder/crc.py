"""CRC-16 checks of the link layers, table driven.

Two reflected CRC-16s, each one 256-entry table of 16-bit words, stored as
512 bytes least significant byte first (``table[2 * i]``, ``table[2 * i + 1]``)::

    byte i:   lo(crc(i)) hi(crc(i))     i = 0 .. 255

The X.25 one, which every HDLC meter needs, is written out below: as a bytes
constant it stays in the firmware image (ROMFS or frozen) and costs ~30
bytes of RAM instead of the ~560 a table built at import holds. The ARC one
(DSMR only) is built by the first DSMR telegram.

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

from decoder.compat import IS_MICROPYTHON, const

_X25_POLY = const(0x8408)  # 0x1021 bit-reversed
_ARC_POLY = const(0xA001)  # 0x8005 bit-reversed
_X25_INIT = const(0xFFFF)
_X25_XOROUT = const(0xFFFF)


def _table(poly):
    """The 256 CRC values of a single byte for a reflected polynomial, in the
    512-byte layout above."""
    table = bytearray(512)
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table[2 * byte] = crc & 0xFF
        table[2 * byte + 1] = crc >> 8
    return table


# _table(_X25_POLY), written out (test_frame_crc checks that they agree).
X25_TABLE = (
    b"\x00\x00\x89\x11\x12\x23\x9b\x32\x24\x46\xad\x57\x36\x65\xbf\x74"
    b"\x48\x8c\xc1\x9d\x5a\xaf\xd3\xbe\x6c\xca\xe5\xdb\x7e\xe9\xf7\xf8"
    b"\x81\x10\x08\x01\x93\x33\x1a\x22\xa5\x56\x2c\x47\xb7\x75\x3e\x64"
    b"\xc9\x9c\x40\x8d\xdb\xbf\x52\xae\xed\xda\x64\xcb\xff\xf9\x76\xe8"
    b"\x02\x21\x8b\x30\x10\x02\x99\x13\x26\x67\xaf\x76\x34\x44\xbd\x55"
    b"\x4a\xad\xc3\xbc\x58\x8e\xd1\x9f\x6e\xeb\xe7\xfa\x7c\xc8\xf5\xd9"
    b"\x83\x31\x0a\x20\x91\x12\x18\x03\xa7\x77\x2e\x66\xb5\x54\x3c\x45"
    b"\xcb\xbd\x42\xac\xd9\x9e\x50\x8f\xef\xfb\x66\xea\xfd\xd8\x74\xc9"
    b"\x04\x42\x8d\x53\x16\x61\x9f\x70\x20\x04\xa9\x15\x32\x27\xbb\x36"
    b"\x4c\xce\xc5\xdf\x5e\xed\xd7\xfc\x68\x88\xe1\x99\x7a\xab\xf3\xba"
    b"\x85\x52\x0c\x43\x97\x71\x1e\x60\xa1\x14\x28\x05\xb3\x37\x3a\x26"
    b"\xcd\xde\x44\xcf\xdf\xfd\x56\xec\xe9\x98\x60\x89\xfb\xbb\x72\xaa"
    b"\x06\x63\x8f\x72\x14\x40\x9d\x51\x22\x25\xab\x34\x30\x06\xb9\x17"
    b"\x4e\xef\xc7\xfe\x5c\xcc\xd5\xdd\x6a\xa9\xe3\xb8\x78\x8a\xf1\x9b"
    b"\x87\x73\x0e\x62\x95\x50\x1c\x41\xa3\x35\x2a\x24\xb1\x16\x38\x07"
    b"\xcf\xff\x46\xee\xdd\xdc\x54\xcd\xeb\xb9\x62\xa8\xf9\x9a\x70\x8b"
    b"\x08\x84\x81\x95\x1a\xa7\x93\xb6\x2c\xc2\xa5\xd3\x3e\xe1\xb7\xf0"
    b"\x40\x08\xc9\x19\x52\x2b\xdb\x3a\x64\x4e\xed\x5f\x76\x6d\xff\x7c"
    b"\x89\x94\x00\x85\x9b\xb7\x12\xa6\xad\xd2\x24\xc3\xbf\xf1\x36\xe0"
    b"\xc1\x18\x48\x09\xd3\x3b\x5a\x2a\xe5\x5e\x6c\x4f\xf7\x7d\x7e\x6c"
    b"\x0a\xa5\x83\xb4\x18\x86\x91\x97\x2e\xe3\xa7\xf2\x3c\xc0\xb5\xd1"
    b"\x42\x29\xcb\x38\x50\x0a\xd9\x1b\x66\x6f\xef\x7e\x74\x4c\xfd\x5d"
    b"\x8b\xb5\x02\xa4\x99\x96\x10\x87\xaf\xf3\x26\xe2\xbd\xd0\x34\xc1"
    b"\xc3\x39\x4a\x28\xd1\x1a\x58\x0b\xe7\x7f\x6e\x6e\xf5\x5c\x7c\x4d"
    b"\x0c\xc6\x85\xd7\x1e\xe5\x97\xf4\x28\x80\xa1\x91\x3a\xa3\xb3\xb2"
    b"\x44\x4a\xcd\x5b\x56\x69\xdf\x78\x60\x0c\xe9\x1d\x72\x2f\xfb\x3e"
    b"\x8d\xd6\x04\xc7\x9f\xf5\x16\xe4\xa9\x90\x20\x81\xbb\xb3\x32\xa2"
    b"\xc5\x5a\x4c\x4b\xd7\x79\x5e\x68\xe1\x1c\x68\x0d\xf3\x3f\x7a\x2e"
    b"\x0e\xe7\x87\xf6\x1c\xc4\x95\xd5\x2a\xa1\xa3\xb0\x38\x82\xb1\x93"
    b"\x46\x6b\xcf\x7a\x54\x48\xdd\x59\x62\x2d\xeb\x3c\x70\x0e\xf9\x1f"
    b"\x8f\xf7\x06\xe6\x9d\xd4\x14\xc5\xab\xb1\x22\xa0\xb9\x92\x30\x83"
    b"\xc7\x7b\x4e\x6a\xd5\x58\x5c\x49\xe3\x3d\x6a\x2c\xf1\x1e\x78\x0f"
)
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
        at = ((crc ^ buf[i]) & 0xFF) << 1
        crc = (crc >> 8) ^ table[at] ^ (table[at + 1] << 8)
    return crc


_kernel = crc16_plain
if IS_MICROPYTHON:
    try:
        from decoder.crc_viper import crc16 as _kernel  # noqa: F811
    except (ImportError, SyntaxError, ValueError):
        # A build without the native emitters keeps the plain kernel. (ValueError: a
        # .mpy whose native code the firmware cannot load, "incompatible .mpy arch".)
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
