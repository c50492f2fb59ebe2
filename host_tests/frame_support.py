"""Independent link-layer encoder and reference splitter for the framing tests.

Written from the standards, not from firmware/decoder: CRCs bit by bit
(no tables), frames built field by field, whole captures split by walking
length fields (no streaming). The tests compare the streaming Framer with
these.
"""

import random

LLC = b"\xe6\xe7\x00"


def crc16_reflected(data, poly, init, xorout):
    """Bitwise reflected CRC-16 (the CRC catalogue's definition)."""
    crc = init
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc ^ xorout


def x25(data):
    return crc16_reflected(data, 0x8408, 0xFFFF, 0xFFFF)


def arc(data):
    return crc16_reflected(data, 0xA001, 0, 0)


def hdlc_address(value, size):
    """An HDLC address of ``size`` bytes: 7 bits a byte, bit 0 set on the last."""
    out = []
    for i in range(size):
        out.append(((value >> (7 * (size - 1 - i))) & 0x7F) << 1)
    out[-1] |= 1
    return bytes(out)


def hdlc_frame(info=b"", segmented=False, dest=b"\x03", src=b"\x21", control=0x13):
    """One frame with both flags: 7E format dest src control [HCS info] FCS 7E."""
    header_len = 2 + len(dest) + len(src) + 1
    length = header_len + 2 + (len(info) + 2 if info else 0)
    fmt = 0xA000 | (0x0800 if segmented else 0) | length
    body = bytes([fmt >> 8, fmt & 0xFF]) + dest + src + bytes([control])
    if info:
        hcs = x25(body)
        body += bytes([hcs & 0xFF, hcs >> 8]) + info
    fcs = x25(body)
    return b"\x7e" + body + bytes([fcs & 0xFF, fcs >> 8]) + b"\x7e"


def hdlc_segments(apdu, size, llc=LLC):
    """An APDU cut into segmented frames of ``size`` information bytes each."""
    data = llc + apdu
    parts = [data[i : i + size] for i in range(0, len(data), size)]
    frames = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        frames.append(hdlc_frame(part, segmented=not last, control=0x13 if last else 0x03))
    return frames


def share_flags(frames):
    """Back-to-back frames where each closing flag opens the next frame."""
    out = frames[0]
    for f in frames[1:]:
        out += f[1:]
    return out


def mbus_frame(segment, ci, c=0x53, a=0xFF, saps=b"\x01\x67", quirk=False):
    """68 L L 68 C A CI STSAP DTSAP segment CS 16 (``quirk``: L written mod 256)."""
    body = bytes([c, a, ci]) + saps + segment
    length = len(body) & 0xFF if quirk else len(body)
    assert length < 256 or quirk
    return bytes([0x68, length, length, 0x68]) + body + bytes([sum(body) & 0xFF, 0x16])


def mbus_segments(apdu, size):
    """An APDU as DLMS M-Bus segments: CI = sequence | 0x10 on the last."""
    parts = [apdu[i : i + size] for i in range(0, len(apdu), size)]
    return [mbus_frame(p, (i & 0x0F) | (0x10 if i == len(parts) - 1 else 0)) for i, p in enumerate(parts)]


def dsmr_telegram(lines, header="/ISK5\\2M550T-1012", with_crc=True):
    """A telegram with CR LF line ends; the CRC over "/" .. "!" when asked."""
    text = header + "\r\n\r\n" + "".join(line + "\r\n" for line in lines) + "!"
    if with_crc:
        text += "%04X" % arc(text.encode())
    return (text + "\r\n").encode()


def notification(n):
    """A small plain data-notification APDU: 0F, invoke id, no date-time, and a body
    of one uint32 n in a structure (as Kaifa's one-value list 1 sends it)."""
    return b"\x0f" + n.to_bytes(4, "big") + b"\x00" + b"\x02\x01\x06" + n.to_bytes(4, "big")


def reference_hdlc(data):
    """Split a whole HDLC capture by its length fields; reassemble segments."""
    out, message, pos = [], b"", 0
    while pos < len(data):
        if data[pos] != 0x7E or pos + 1 >= len(data) or data[pos + 1] >> 4 != 0xA:
            pos += 1
            continue
        length = ((data[pos + 1] & 0x07) << 8) | data[pos + 2]
        body = data[pos + 1 : pos + 1 + length]
        assert x25(body[:-2]) == int.from_bytes(body[-2:], "little")
        info = _hdlc_info(body)
        if info.startswith(LLC):
            info = info[3:]
        message += info
        if not data[pos + 1] & 0x08:
            if message:
                out.append(message)
            message = b""
        pos += 1 + length
    return out


def _hdlc_info(body):
    i = 2
    for _ in range(2):
        while not body[i] & 1:
            i += 1
        i += 1
    i += 1  # control
    return body[i + 2 : -2] if i + 2 < len(body) else b""


def reference_mbus(data):
    """Split a whole M-Bus capture; T210-D L quirk by the stop byte; join segments."""
    out, message, pos = [], b"", 0
    while pos < len(data):
        length = data[pos + 1]
        if length < 3:
            length += 256
        body = data[pos + 4 : pos + 4 + length]
        assert sum(body) & 0xFF == data[pos + 4 + length] and data[pos + 5 + length] == 0x16
        message += body[5:]
        if body[2] & 0x10:
            out.append(message)
            message = b""
        pos += length + 6
    return out


def chunked(data, rng=None, sizes=None):
    """Cut ``data`` into chunks of the given sizes (cycled) or of random sizes 1..64."""
    rng = rng or random.Random(1)
    out, pos, i = [], 0, 0
    while pos < len(data):
        n = sizes[i % len(sizes)] if sizes else rng.randint(1, 64)
        out.append(data[pos : pos + n])
        pos += n
        i += 1
    return out


def run(framer, chunks):
    """Feed every chunk, drain after each; the payloads as (kind, bytes)."""
    out = []
    for chunk in chunks:
        framer.feed(chunk)
        item = framer.next()
        while item is not None:
            out.append((item[0], bytes(item[1])))
            item = framer.next()
    return out


def nonzero(log):
    """The ErrorLog counters that are not 0."""
    return {k: v for k, v in log.counts.items() if v}
