"""An independent encoder for end-to-end tests: readings in, meter bytes out.

Written from the standards, sharing no code with firmware/decoder, so that a
frame it builds checks the decoder rather than mirroring it:

- A-XDR data (IEC 62056-6-2 types, IEC 61334-6 A-XDR lengths),
- data-notification (0x0F) and General Block Transfer (0xE0) of the Green Book,
- general-glo-/ded-ciphering (0xDB/0xDC) with the ``cryptography`` package's
  AESGCM (IEC 62056-5-3 security suite 0),
- HDLC frame format type 3 (IEC 62056-46: 7E | A0+len | addr | ctrl | HCS |
  info | FCS | 7E) with the segmentation bit,
- wired M-Bus long frames (EN 13757-2: 68 L L 68 C A CI ... CS 16) with the
  DLMS segmentation of CI and STSAP/DTSAP,
- DSMR P1 telegrams with CRC-16/ARC.

CPython only (tests and the benchmark): it may use anything.
"""

import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# --- A-XDR -------------------------------------------------------------------


def length(n):
    """A-XDR/BER length: one byte below 0x80, else 0x81 nn or 0x82 nnnn."""
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    return bytes([0x82]) + struct.pack(">H", n)


def null():
    return b"\x00"


def array(items):
    return b"\x01" + length(len(items)) + b"".join(items)


def structure(items):
    return b"\x02" + length(len(items)) + b"".join(items)


def boolean(v):
    return b"\x03" + (b"\xff" if v else b"\x00")


def int32(v):
    return b"\x05" + struct.pack(">i", v)


def uint32(v):
    return b"\x06" + struct.pack(">I", v)


def octets(b):
    return b"\x09" + length(len(b)) + bytes(b)


def visible(s):
    b = s.encode("ascii")
    return b"\x0a" + length(len(b)) + b


def int8(v):
    return b"\x0f" + struct.pack(">b", v)


def int16(v):
    return b"\x10" + struct.pack(">h", v)


def uint8(v):
    return b"\x11" + struct.pack(">B", v)


def uint16(v):
    return b"\x12" + struct.pack(">H", v)


def int64(v):
    return b"\x14" + struct.pack(">q", v)


def uint64(v):
    return b"\x15" + struct.pack(">Q", v)


def enum(v):
    return b"\x16" + struct.pack(">B", v)


def float32(v):
    return b"\x17" + struct.pack(">f", v)


def float64(v):
    return b"\x18" + struct.pack(">d", v)


def obis(text):
    """'1-0:1.7.0' or '1-0:1.7.0.255' -> the six OBIS bytes."""
    ab, cde = text.split(":")
    a, b = ab.split("-")
    parts = [int(a), int(b)] + [int(x) for x in cde.split(".")]
    if len(parts) == 5:
        parts.append(255)
    return bytes(parts)


def cosem_datetime(year, month, day, hour, minute, second, deviation=None, status=0x00):
    """The 12 bytes of a COSEM date-time; deviation in minutes (DLMS sign) or None."""
    dev = 0x8000 if deviation is None else deviation & 0xFFFF
    weekday = 0xFF
    return struct.pack(
        ">HBBBBBBBHB", year, month, day, weekday, hour, minute, second, 0xFF, dev, status
    )


# --- bodies --------------------------------------------------------------------


def push_setup_body(items, push_obis="0-0:25.9.0", with_name=True):
    """Push-setup style: element 0 the capture-object list, then untagged values.

    ``items`` is a list of (class_id, OBIS text, encoded value). As in the
    Swiss captures, capture object 0 is the push object's own attribute 2
    (the list itself, which *is* element 0) and, with ``with_name``, object 1
    its attribute 1 (its logical name): the body has one element per capture
    object.
    """
    captures = [structure([uint16(40), octets(obis(push_obis)), int8(2), uint16(0)])]
    values = []
    if with_name:
        captures.append(structure([uint16(40), octets(obis(push_obis)), int8(1), uint16(0)]))
        values.append(octets(obis(push_obis)))
    for class_id, code, value in items:
        captures.append(structure([uint16(class_id), octets(obis(code)), int8(2), uint16(0)]))
        values.append(value)
    return structure([array(captures)] + values)


def tagged_body(items):
    """OBIS-tagged array of structures {OBIS, value[, {scaler, unit}]}.

    ``items``: (OBIS text, encoded value, (scaler, unit enum) or None).
    """
    entries = []
    for code, value, scaler_unit in items:
        parts = [octets(obis(code)), value]
        if scaler_unit is not None:
            parts.append(structure([int8(scaler_unit[0]), enum(scaler_unit[1])]))
        entries.append(structure(parts))
    return array(entries)


def flat_tagged_body(items):
    """A flat structure of OBIS, value[, {scaler, unit}] (Austrian style)."""
    parts = []
    for code, value, scaler_unit in items:
        parts += [octets(obis(code)), value]
        if scaler_unit is not None:
            parts.append(structure([int8(scaler_unit[0]), enum(scaler_unit[1])]))
    return structure(parts)


# --- APDUs ------------------------------------------------------------------------


def data_notification(body, invoke_id=1, when=None, typed=False):
    """0x0F long-invoke-id-and-priority, date-time (absent, 0C+12 or 09 0C+12), body."""
    if when is None:
        stamp = b"\x00"
    elif typed:
        stamp = b"\x09\x0c" + when
    else:
        stamp = b"\x0c" + when
    return b"\x0f" + struct.pack(">I", invoke_id) + stamp + body


def _keystream_ctr(key, iv, data):
    # GCM encrypts with CTR starting at inc32(J0) = IV || 00000002.
    enc = Cipher(algorithms.AES(key), modes.CTR(iv + b"\x00\x00\x00\x02")).encryptor()
    return enc.update(data) + enc.finalize()


def cipher(plain, key, system_title, frame_counter, auth_key=None, sc=0x30, tag=0xDB):
    """general-glo-ciphering (0xDB) or general-ded-ciphering (0xDC) of ``plain``."""
    iv = bytes(system_title) + struct.pack(">I", frame_counter)
    if sc & 0x30 == 0x30:
        sealed = AESGCM(key).encrypt(iv, plain, bytes([sc]) + auth_key)
        content = sealed[:-16] + sealed[-16:-4]
    elif sc & 0x30 == 0x20:
        content = _keystream_ctr(key, iv, plain)
    elif sc & 0x30 == 0x10:
        mac = AESGCM(key).encrypt(iv, b"", bytes([sc]) + auth_key + plain)
        content = plain + mac[:12]
    else:
        content = plain
    inner = bytes([sc]) + struct.pack(">I", frame_counter) + content
    return bytes([tag, 8]) + bytes(system_title) + length(len(inner)) + inner


def general_ciphering(glo, transaction_id=b"\x2a", recipient=b"", date_time=b"", other=b"", key_info=b"\x00"):
    """The general-glo-ciphering APDU ``glo`` (from cipher()) as general-ciphering (0xDD,
    IEC 62056-5-3): transaction-id, originator title (the same), recipient title,
    date-time and other-information as length-prefixed strings, key-info (00 absent;
    01 00 kk an identified key), then the same ciphered content."""
    assert glo[0] == 0xDB and glo[1] == 8
    title, rest = glo[2:10], glo[10:]
    content_at = 1 if rest[0] < 0x80 else 1 + (rest[0] & 0x7F)
    content = rest[content_at:]
    fields = b"".join(bytes([len(f)]) + f for f in (transaction_id, title, recipient, date_time, other))
    return b"\xdd" + fields + key_info + length(len(content)) + content


def general_suite1(plain, key, system_title, frame_counter, auth_key, sc=0x31, transaction_id=b"\x2a",
                   recipient=b"", date_time=b"", other=b"", key_info=b"\x00"):
    """general-ciphering (0xDD) of ``plain`` at security suite 1, whose tag covers the
    header too (IEC 62056-5-3's AAD table; Gurux): A = SC || AK || transaction-id ||
    originator || recipient || date-time || other-information, each with its length
    byte, then || plaintext when authenticated only. Encrypted and/or authenticated."""
    fields = b"".join(bytes([len(f)]) + f for f in (transaction_id, system_title, recipient, date_time, other))
    iv = bytes(system_title) + struct.pack(">I", frame_counter)
    aad = bytes([sc]) + auth_key + fields
    if sc & 0x20:
        sealed = AESGCM(key).encrypt(iv, plain, aad)
        content = sealed[:-16] + sealed[-16:-4]
    else:
        content = plain + AESGCM(key).encrypt(iv, b"", aad + plain)[:12]
    inner = bytes([sc]) + struct.pack(">I", frame_counter) + content
    return b"\xdd" + fields + key_info + length(len(inner)) + inner


def gbt_blocks(apdu, size):
    """Split ``apdu`` into General Block Transfer blocks of ``size`` data bytes."""
    pieces = [apdu[i : i + size] for i in range(0, len(apdu), size)] or [b""]
    out = []
    for n, piece in enumerate(pieces, 1):
        control = 0x40 | (0x80 if n == len(pieces) else 0)
        out.append(bytes([0xE0, control]) + struct.pack(">HH", n, 0) + length(len(piece)) + piece)
    return out


# --- link framing -------------------------------------------------------------------

LLC = b"\xe6\xe7\x00"


def crc16_x25(data):
    """CRC-16/X.25 (reflected 0x1021, init and xorout 0xFFFF), the HDLC FCS."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


def hdlc_frame(info, segmented=False, dest=b"\xce\xff", src=b"\x03", control=0x13):
    """One HDLC frame format type 3; addresses given already encoded (LSB=1 ends)."""
    size = 2 + len(dest) + len(src) + 1 + 2 + len(info) + (2 if info else 0)
    fmt = 0xA000 | (0x0800 if segmented else 0) | size
    head = struct.pack(">H", fmt) + dest + src + bytes([control])
    body = head + struct.pack("<H", crc16_x25(head))
    if info:
        body += info
        body += struct.pack("<H", crc16_x25(body))
    return b"\x7e" + body + b"\x7e"


def hdlc_segmented(apdu, max_info=120, **kw):
    """LLC + APDU cut into HDLC frames with the segmentation bit on all but the last."""
    data = LLC + apdu
    pieces = [data[i : i + max_info] for i in range(0, len(data), max_info)]
    return b"".join(
        hdlc_frame(p, segmented=(i < len(pieces) - 1), **kw) for i, p in enumerate(pieces)
    )


def hdlc_gbt(apdu, block_size=110, **kw):
    """E450 style: one HDLC frame per GBT block, the LLC only before block 1."""
    blocks = gbt_blocks(apdu, block_size)
    frames = [hdlc_frame((LLC if i == 0 else b"") + b, **kw) for i, b in enumerate(blocks)]
    return b"".join(frames)


def mbus_long(data, ci, c=0x53, a=0xFF):
    """One EN 13757-2 long frame carrying CI + data."""
    inner = bytes([c, a, ci]) + data
    return bytes([0x68, len(inner) & 0xFF, len(inner) & 0xFF, 0x68]) + inner + bytes([sum(inner) & 0xFF, 0x16])


def mbus_segmented(apdu, max_data=200, stsap=0x01, dtsap=0x67):
    """DLMS over M-Bus: CI low nibble the sequence, 0x10 on the last segment."""
    pieces = [apdu[i : i + max_data] for i in range(0, len(apdu), max_data)]
    out = b""
    for seq, piece in enumerate(pieces):
        ci = (seq & 0x0F) | (0x10 if seq == len(pieces) - 1 else 0)
        out += mbus_long(bytes([stsap, dtsap]) + piece, ci)
    return out


def crc16_arc(data):
    """CRC-16/ARC (reflected 0x8005, init 0), the DSMR P1 telegram CRC."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def dsmr_telegram(lines, ident="ISK5\\2M550T-1012", crc=True):
    """A DSMR P1 telegram: /ident, blank line, data lines, '!' and CRC."""
    text = "/" + ident + "\r\n\r\n" + "".join(line + "\r\n" for line in lines) + "!"
    if crc:
        text += "%04X" % crc16_arc(text.encode("ascii"))
    return (text + "\r\n").encode("ascii")


# --- the SiL consumer-information-1 push (the benchmark's budget frame) ---------------

SIL_INFO_1 = (
    "0-0:96.1.1 1-0:1.7.0 1-0:2.7.0 1-0:3.7.0 1-0:4.7.0 1-0:32.7.0 1-0:52.7.0 1-0:72.7.0 "
    "1-0:31.7.0 1-0:51.7.0 1-0:71.7.0 1-0:91.7.0 1-0:21.7.0 1-0:41.7.0 1-0:61.7.0 "
    "1-0:22.7.0 1-0:42.7.0 1-0:62.7.0 1-0:23.7.0 1-0:43.7.0 1-0:63.7.0 1-0:24.7.0 "
    "1-0:44.7.0 1-0:64.7.0"
).split()

SIL_KEY = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
SIL_AUTH_KEY = bytes.fromhex("d0d1d2d3d4d5d6d7d8d9dadbdcdddedf")
SIL_TITLE = b"LGZ" + bytes.fromhex("6773b0a1b2")


def sil_values(seed=0):
    """Plausible raw values for the 24 objects: W/var, whole-volt tenths, 0.01 A."""
    raw = {}
    for i, code in enumerate(SIL_INFO_1[1:]):
        c = int(code.split(":")[1].split(".")[0])
        if c in (32, 52, 72):
            raw[code] = 2300 + (seed + 7 * i) % 100
        elif c in (31, 51, 71, 91):
            raw[code] = (seed * 13 + i * 31) % 6000
        else:
            raw[code] = (seed * 101 + i * 997) % 40000
    return raw


def sil_info_1_body(seed=0, serial="71000000"):
    raw = sil_values(seed)
    items = [(1, SIL_INFO_1[0], octets(serial.encode("ascii")))]
    for code in SIL_INFO_1[1:]:
        c = int(code.split(":")[1].split(".")[0])
        value = uint16(raw[code]) if c in (32, 52, 72, 31, 51, 71, 91) else uint32(raw[code])
        items.append((3, code, value))
    return push_setup_body(items), raw


def sil_push(seed=0, frame_counter=1, gbt=True, **hdlc):
    """The SiL 5-second push: push-setup body, DB 0x30, HDLC (GBT blocks or one frame).

    ``hdlc`` passes addresses on to hdlc_frame (E450 style CE FF / 03 by default).
    """
    body, raw = sil_info_1_body(seed)
    when = cosem_datetime(2026, 11, 23, 21, 5, 5 + seed % 50, deviation=-60)
    plain = data_notification(body, invoke_id=frame_counter, when=when)
    apdu = cipher(plain, SIL_KEY, SIL_TITLE, frame_counter, SIL_AUTH_KEY, sc=0x30)
    frame = hdlc_gbt(apdu, **hdlc) if gbt else hdlc_frame(LLC + apdu, **hdlc)
    return frame, raw


# --- running the decoder ------------------------------------------------------------


def decode_all(data, chunk=None, **kw):
    """Feed ``data`` to a fresh Decoder (in ``chunk``-sized pieces); -> (telegrams, decoder)."""
    import decoder

    dec = decoder.Decoder(**kw)
    out = []
    step = chunk or len(data) or 1
    for i in range(0, len(data), step):
        out += dec.feed(data[i : i + step])
    return out, dec


def plain_readings(telegram):
    """Readings as the JSON contract shows them: OBIS -> {"value", ["unit"]}."""
    from decoder.jsonline import telegram_dict

    return telegram_dict(telegram)["readings"]
