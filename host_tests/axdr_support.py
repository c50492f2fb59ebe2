"""Test helpers for the A-XDR, OBIS and profile tests (CPython only).

Two things the firmware must not be trusted to provide for its own tests:

- an independent A-XDR *encoder* (the firmware only decodes), written from
  IEC 62056-6-2 / IEC 61334-6 directly, used to build frames and round-trip;
- a throw-away unwrapper that digs the notification body out of the corpus
  captures (HDLC / M-Bus / GBT / general-glo-ciphering) with the
  `cryptography` package, so these tests do not depend on stream.py/apdu.py.
"""

import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# ---------------------------------------------------------------- encoder

TAGS = {
    "null": 0, "array": 1, "structure": 2, "boolean": 3, "bit-string": 4,
    "int32": 5, "uint32": 6, "octet-string": 9, "visible-string": 10,
    "utf8-string": 12, "bcd": 13, "int8": 15, "int16": 16, "uint8": 17,
    "uint16": 18, "compact-array": 19, "int64": 20, "uint64": 21, "enum": 22,
    "float32": 23, "float64": 24, "date-time": 25, "date": 26, "time": 27,
}
PACK = {
    "int32": ">i", "uint32": ">I", "bcd": ">B", "int8": ">b", "int16": ">h",
    "uint8": ">B", "uint16": ">H", "int64": ">q", "uint64": ">Q", "enum": ">B",
    "float32": ">f", "float64": ">d",
}


def length(n):
    """A-XDR length: short form below 128, else 0x80|count + big-endian bytes."""
    if n < 0x80:
        return bytes([n])
    for size in (1, 2, 3, 4):
        if n < 1 << (8 * size):
            return bytes([0x80 | size]) + n.to_bytes(size, "big")
    raise ValueError(n)


def content(kind, value):
    """The untagged encoding of ``value`` as type ``kind``."""
    if kind == "null":
        return b""
    if kind in ("array", "structure"):
        return length(len(value)) + b"".join(encode(v) for v in value)
    if kind == "boolean":
        return b"\x01" if value else b"\x00"
    if kind == "bit-string":
        bits = value + "0" * (-len(value) % 8)
        raw = bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
        return length(len(value)) + raw
    if kind in PACK:
        return struct.pack(PACK[kind], value)
    if kind == "octet-string":
        return length(len(value)) + bytes(value)
    if kind in ("visible-string", "utf8-string"):
        raw = value.encode("utf-8")
        return length(len(raw)) + raw
    if kind in ("date-time", "date", "time"):
        return bytes(value)
    if kind == "compact-array":
        desc, rows = value
        body = b"".join(typed(desc, row) for row in rows)
        return description(desc) + length(len(body)) + body
    raise ValueError(kind)


def encode(item):
    """Encode ``(kind, value)`` with its tag; nested items for array/structure."""
    kind, value = item
    return bytes([TAGS[kind]]) + content(kind, value)


def description(desc):
    """compact-array TypeDescription: "uint16" | ("array", n, d) | ("structure", [d…])."""
    if isinstance(desc, str):
        return bytes([TAGS[desc]])
    if desc[0] == "array":
        return b"\x01" + struct.pack(">H", desc[1]) + description(desc[2])
    return b"\x02" + length(len(desc[1])) + b"".join(description(d) for d in desc[1])


def typed(desc, value):
    if isinstance(desc, str):
        return content(desc, value)
    if desc[0] == "array":
        return b"".join(typed(desc[2], v) for v in value)
    return b"".join(typed(d, v) for d, v in zip(desc[1], value))


def obis(text):
    """"1-0:1.8.0" or "1-0:1.8.0.255" -> six bytes."""
    a, rest = text.split("-")
    b, rest = rest.split(":")
    parts = rest.split(".")
    if len(parts) == 3:
        parts.append("255")
    return bytes([int(a), int(b)] + [int(p) for p in parts])


def cosem_datetime(year, month, day, hour, minute, second, hundredths=0,
                   deviation=-0x8000, status=0, weekday=0xFF):
    """12-byte COSEM date-time (IEC 62056-6-2 4.1.6.1); deviation in minutes."""
    return (struct.pack(">HBBB", year, month, day, weekday)
            + bytes([hour, minute, second, hundredths])
            + struct.pack(">h", deviation) + bytes([status]))


def push_setup_body(objects, values, push_obis="0-0:25.9.0", listed=True):
    """A push-setup body: capture list (led by the push object) then values.

    ``objects``: [(class_id, obis_text, attribute)], ``values``: items, one
    per object. ``listed=False`` leaves the push object out of the list, as
    some meters do (then element i belongs to object i-1).
    """
    entries = ([(40, push_obis, 2)] if listed else []) + list(objects)
    capture = ("array", [("structure", [("uint16", c), ("octet-string", obis(o)),
                                        ("int8", a), ("uint16", 0)])
                         for c, o, a in entries])
    return encode(("structure", [capture] + list(values)))


# The SiL "Consumer information 1" list as the notice prints it (typed here
# from /work/shared/spec/sil-push-lists.md, not taken from profiles.py).
SIL_INFO_1 = [
    "0-0:96.1.1", "1-0:1.7.0", "1-0:2.7.0", "1-0:3.7.0", "1-0:4.7.0",
    "1-0:32.7.0", "1-0:52.7.0", "1-0:72.7.0", "1-0:31.7.0", "1-0:51.7.0",
    "1-0:71.7.0", "1-0:91.7.0", "1-0:21.7.0", "1-0:41.7.0", "1-0:61.7.0",
    "1-0:22.7.0", "1-0:42.7.0", "1-0:62.7.0", "1-0:23.7.0", "1-0:43.7.0",
    "1-0:63.7.0", "1-0:24.7.0", "1-0:44.7.0", "1-0:64.7.0",
]
SIL_MESSAGE = [
    "0-0:96.1.1", "0-0:1.0.0", "0-0:96.13.0", "1-0:1.8.1", "1-0:1.8.2",
    "1-0:2.8.1", "1-0:2.8.2", "1-0:3.8.1", "1-0:3.8.2", "1-0:4.8.1",
    "1-0:4.8.2", "1-0:1.8.0", "1-0:2.8.0", "1-0:3.8.0", "1-0:4.8.0",
]


def sil_info_values(seed=0):
    """24 values in SiL info-1 order: id, powers, 0.1 V, 0.01 A, powers."""
    values = [("octet-string", b"71000000")]
    values += [("uint32", 1000 + seed + i) for i in range(4)]
    values += [("uint16", 2297 + seed + i) for i in range(3)]      # 229.7 V …
    values += [("uint16", 123 + seed + i) for i in range(4)]       # 1.23 A …
    values += [("uint32", 10 * i + seed) for i in range(12)]
    return values


def sil_info_push_body(seed=0, push_obis="0-6:25.9.0"):
    """A push-setup body carrying the 24 SiL info-1 objects (5-second push)."""
    objects = [(1 if o.startswith("0-") else 3, o, 2) for o in SIL_INFO_1]
    return push_setup_body(objects, sil_info_values(seed), push_obis=push_obis)


# ------------------------------------------------- corpus unwrapping

def _hdlc_frames(data):
    pos = 0
    while pos < len(data):
        if data[pos] != 0x7E or pos + 3 > len(data):
            pos += 1
            continue
        size = ((data[pos + 1] & 0x07) << 8) | data[pos + 2]
        frame = data[pos + 1:pos + 1 + size]
        yield frame
        pos += size + 2  # frame + closing flag (shared flags are tolerated)


def _hdlc_info(frame):
    """Information field of one HDLC frame (format 2 bytes, addresses, control, HCS)."""
    pos = 2
    for _ in range(2):  # destination, then source address: low bit ends each
        while not frame[pos] & 1:
            pos += 1
        pos += 1
    pos += 1 + 2  # control, HCS
    return frame[pos:-2]  # drop FCS


def _hdlc_payloads(data):
    pending = b""
    for frame in _hdlc_frames(data):
        pending += _hdlc_info(frame)
        if not frame[0] & 0x08:  # segmentation bit clear: message complete
            yield pending
            pending = b""


def _mbus_payloads(data):
    pos, pending = 0, b""
    while pos < len(data):
        if data[pos] != 0x68:
            pos += 1
            continue
        size = data[pos + 1]
        end = pos + 4 + size + 1  # index of the stop byte 0x16
        if end >= len(data) or data[end] != 0x16:
            size += 256  # old Sagemcom writes only the low byte of L = 257
            end += 256
        ci = data[pos + 6]
        pending += data[pos + 9:end - 1]  # after C, A, CI, STSAP, DTSAP; before CS
        pos = end + 1
        if ci & 0x10:
            yield pending
            pending = b""


def _gbt(apdu):
    """Reassemble back-to-back GBT blocks (E0 ctrl blk(2) ack(2) len data)."""
    out, pos = b"", 0
    while pos < len(apdu) and apdu[pos] == 0xE0:
        n, p = _ber_length(apdu, pos + 6)
        out += apdu[p:p + n]
        pos = p + n
    return out


def _ber_length(buf, pos):
    if buf[pos] < 0x80:
        return buf[pos], pos + 1
    size = buf[pos] & 0x7F
    return int.from_bytes(buf[pos + 1:pos + 1 + size], "big"), pos + 1 + size


def decrypt(apdu, key):
    """general-glo/ded-ciphering -> (system title, plaintext); GCM-CTR, tag unchecked."""
    st_len = apdu[1]
    title = apdu[2:2 + st_len]
    n, pos = _ber_length(apdu, 2 + st_len)
    sc = apdu[pos]
    fc = apdu[pos + 1:pos + 5]
    end = pos + n
    cipher = apdu[pos + 5:end - 12 if sc & 0x10 else end]
    counter = title + fc + b"\x00\x00\x00\x02"
    dec = Cipher(algorithms.AES(key), modes.CTR(counter)).decryptor()
    return bytes(title), dec.update(cipher) + dec.finalize(), end


def split_notification(apdu):
    """data-notification -> (header date-time bytes or None, body bytes, end)."""
    pos = 5  # tag 0F + long-invoke-id-and-priority
    if apdu[pos] == 0x0C:
        stamp, pos = apdu[pos + 1:pos + 13], pos + 13
    elif apdu[pos] == 0x09:  # Norwegian Kaifa: tagged octet-string
        stamp, pos = apdu[pos + 2:pos + 14], pos + 14
    else:
        stamp, pos = None, pos + 1
    return stamp, apdu[pos:]


def notifications(entry):
    """Every (system_title, header date-time, body) the capture carries."""
    data = bytes.fromhex(entry["hex"])
    if entry["transport"] == "hdlc":
        payloads = list(_hdlc_payloads(data))
    elif entry["transport"] == "mbus":
        payloads = list(_mbus_payloads(data))
    else:
        payloads = [data]
    key = bytes.fromhex(entry["key_hex"]) if entry.get("key_hex") else None
    out = []
    apdus = []
    for p in payloads:
        if p[:3] == b"\xE6\xE7\x00":
            p = p[3:]
        apdus.append(p)
    # GBT blocks of one message arrive in separate frames: join them in order.
    joined, gbt = [], b""
    for p in apdus:
        if p[:1] == b"\xE0":
            gbt += p
            if p[1] & 0x80:
                joined.append(_gbt(gbt))
                gbt = b""
            elif p[2:4] == b"\x00\x01" and gbt != p:
                gbt = p  # a new block 1 abandons the unfinished push
        else:
            joined.append(p)
    for apdu in joined:
        while apdu:
            title = None
            if apdu[0] in (0xDB, 0xDC):
                if key is None:
                    break
                title, plain, end = decrypt(apdu, key)
                apdu, rest = plain, apdu[end:]
            else:
                rest = b""
            if apdu[0] != 0x0F:
                break
            stamp, body = split_notification(apdu)
            size = _body_size(body)
            out.append((title, stamp, body[:size]))
            apdu = body[size:] + rest
            if apdu[:3] == b"\xE6\xE7\x00":
                apdu = apdu[3:]
    return out


def _body_size(body):
    from decoder import axdr  # the firmware's own skip: only to split APDUs
    return axdr.skip(body, 0)


def plaintext_notification(entry):
    """The body from ``expected_plaintext_hex`` (a full APDU starting at 0F)."""
    apdu = bytes.fromhex(entry["expected_plaintext_hex"])
    stamp, body = split_notification(apdu)
    return stamp, body[:_body_size(body)]
