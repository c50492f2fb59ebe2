"""Test-side encoder of meter pushes: A-XDR, ciphering, HDLC and M-Bus framing.

Written from the standards, independently of firmware/decoder/, so the
gateway's tests decode frames the decoder's authors did not produce. CPython
only (it uses the ``cryptography`` package for AES-GCM).

Layers, outermost first::

    HDLC (IEC 62056-46, frame format type 3):
        7E | A0/A8 len | dst CE FF | src 03 | ctrl | HCS | [E6 E7 00] APDU part | FCS | 7E
        (A8 = segmentation bit: more segments follow; HCS/FCS CRC-16/X.25, LSB first)
    M-Bus long frame (EN 13757-2), DLMS over M-Bus (EN 13757-3 / IEC 62056-7-3):
        68 L L 68 | C=53 A=FF CI | STSAP 01 DTSAP 67 | APDU part | CS 16
        (CI 0x00.. = segment number, bit 0x10 = last segment)
    general-glo-ciphering (IEC 62056-5-3 9.2.7):
        DB 08 <system title> <len> SC <frame counter:4> <ciphertext> [<tag:12>]
        SC 0x30 = authenticated and encrypted (AAD = SC | GAK), 0x20 = encrypted only
    data-notification (IEC 62056-5-3 8.5.2):
        0F <long-invoke-id:4> 0C <date-time:12> <notification-body>
    body: structure of {octet-string OBIS, value, structure{scaler, unit}}
        entries (the OBIS-tagged style many meters use), or {OBIS, value}
        for values without a unit (ids, texts, the clock).
"""

import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# A-XDR type tags (IEC 62056-6-2 / Blue Book 4.1.5).
T_ARRAY, T_STRUCT, T_OCTETS, T_VISIBLE = 0x01, 0x02, 0x09, 0x0A
T_INT32, T_UINT32, T_INT8, T_INT16, T_UINT16, T_ENUM = 0x05, 0x06, 0x0F, 0x10, 0x12, 0x16
T_INT64, T_UINT64 = 0x14, 0x15

# Physical unit enum values (Blue Book table "Enumeration of unit").
UNIT_CODES = {"W": 27, "var": 29, "Wh": 30, "varh": 32, "A": 33, "V": 35, "Hz": 44}

# Longest information field per HDLC frame we emit: meters use 128-256;
# AM550 frames carry about 160 bytes of APDU each.
HDLC_MAX_INFO = 160
# M-Bus L field counts C, A, CI, STSAP, DTSAP and data: at most 255.
MBUS_MAX_DATA = 255 - 5
TAG_LEN = 12
DEVIATION_UNSPECIFIED = -0x8000


def axdr_length(n):
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    return bytes([0x82]) + struct.pack(">H", n)


def octets(data):
    return bytes([T_OCTETS]) + axdr_length(len(data)) + data


def structure(*items):
    return bytes([T_STRUCT]) + axdr_length(len(items)) + b"".join(items)


def obis_bytes(text):
    """ "1-0:32.7.0" -> six bytes (F = 255 when omitted)."""
    ab, cde = text.split(":")
    a, b = ab.split("-")
    parts = [int(a), int(b)] + [int(p) for p in cde.split(".")]
    while len(parts) < 6:
        parts.append(255)
    return bytes(parts)


def integer(value, tag=T_UINT32):
    fmt = {T_UINT32: ">I", T_INT32: ">i", T_UINT16: ">H", T_INT16: ">h", T_INT8: ">b",
           T_ENUM: ">B", T_INT64: ">q", T_UINT64: ">Q"}[tag]
    return bytes([tag]) + struct.pack(fmt, value)


def date_time(year, month, day, hour, minute, second, deviation=DEVIATION_UNSPECIFIED, status=0):
    """The 12-byte COSEM date-time; day of week computed (Monday = 1)."""
    import datetime

    dow = datetime.date(year, month, day).isoweekday()
    return struct.pack(">HBBBBBBBhB", year, month, day, dow, hour, minute, second, 0xFF, deviation, status)


def register(obis, raw, scaler, unit, tag=T_UINT32):
    """One tagged entry: {OBIS, value, {scaler, unit}}."""
    su = structure(integer(scaler, T_INT8), integer(UNIT_CODES[unit], T_ENUM))
    return structure(octets(obis_bytes(obis)), integer(raw, tag), su)


def plain_entry(obis, value_bytes):
    """An entry without scaler/unit: {OBIS, value} (ids, texts, the clock)."""
    return structure(octets(obis_bytes(obis)), value_bytes)


def data_notification(invoke_id, when, entries):
    body = bytes([T_STRUCT]) + axdr_length(len(entries)) + b"".join(entries)
    return b"\x0f" + struct.pack(">I", invoke_id) + b"\x0c" + when + body


def glo_cipher(plain, key, system_title, frame_counter, auth_key=None):
    """general-glo-ciphering APDU; SC 0x30 with a GAK (12-byte tag), else 0x20."""
    iv = system_title + struct.pack(">I", frame_counter)
    sealed = AESGCM(key).encrypt(iv, plain, bytes([0x30]) + auth_key if auth_key else None)
    ciphertext, tag = sealed[:-16], sealed[-16:-16 + TAG_LEN]
    sc = 0x30 if auth_key else 0x20
    content = bytes([sc]) + struct.pack(">I", frame_counter) + ciphertext + (tag if auth_key else b"")
    return b"\xdb\x08" + system_title + axdr_length(len(content)) + content


def crc16_x25(data):
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


def hdlc_frame(info, more, control):
    """One HDLC frame around ``info``; ``more`` sets the segmentation bit."""
    header_len = 2 + 2 + 1 + 1 + 2  # format, dst, src, ctrl, HCS
    length = header_len + len(info) + (2 if info else 0)
    fmt = 0xA000 | (0x0800 if more else 0) | length
    head = struct.pack(">H", fmt) + b"\xce\xff\x03" + bytes([control])
    head += struct.pack("<H", crc16_x25(head))
    body = head + info
    if info:
        body += struct.pack("<H", crc16_x25(body))
    return b"\x7e" + body + b"\x7e"


def hdlc(apdu, max_info=HDLC_MAX_INFO):
    """The APDU (behind LLC E6 E7 00) in as many segmented HDLC frames as needed."""
    data = b"\xe6\xe7\x00" + apdu
    frames = []
    for start in range(0, len(data), max_info):
        last = start + max_info >= len(data)
        frames.append(hdlc_frame(data[start:start + max_info], not last, 0x13 if last else 0x03))
    return b"".join(frames)


def mbus(apdu, max_data=MBUS_MAX_DATA):
    """The APDU in M-Bus long frames with DLMS segmentation in the CI field."""
    frames = []
    chunks = [apdu[i:i + max_data] for i in range(0, len(apdu), max_data)]
    for number, chunk in enumerate(chunks):
        ci = number | (0x10 if number == len(chunks) - 1 else 0)
        user = bytes([0x53, 0xFF, ci, 0x01, 0x67]) + chunk
        frames.append(bytes([0x68, len(user), len(user), 0x68]) + user + bytes([sum(user) & 0xFF, 0x16]))
    return b"".join(frames)


FRAMINGS = {"hdlc": hdlc, "mbus": mbus}
