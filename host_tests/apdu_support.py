"""Test helpers for the APDU and GCM layers: an independent encoder and a
minimal link-layer unwrapper for the corpus captures.

The encoder side uses the ``cryptography`` package's AESGCM, never our
``decoder/gcm.py``, so a round trip checks our GCM against another
implementation. The unwrapper is deliberately naive (it trusts the corpus
checksums, which were verified when it was gathered): it only has to hand
``apdu.ApduReader`` the payloads a real framer would.
"""

import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from decoder.errors import ErrorLog

LLC = bytes.fromhex("E6E700")


def ber(n):
    """BER length as DLMS writes it."""
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    return bytes([0x82]) + struct.pack(">H", n)


def notification(body, invoke_id=1, datetime=None, typed=False):
    """0x0F data-notification; ``datetime`` is 12 bytes or None (absent)."""
    head = b"\x0f" + struct.pack(">I", invoke_id)
    if datetime is None:
        return head + b"\x00" + body
    return head + (b"\x09" if typed else b"") + b"\x0c" + bytes(datetime) + body


def iv(system_title, frame_counter):
    return bytes(system_title) + struct.pack(">I", frame_counter)


def cipher(plaintext, key, sc=0x30, auth_key=bytes(16), system_title=b"LGZgTEST", frame_counter=1, tag="dlms",
           tag_byte=0xDB):
    """A general-glo-ciphering APDU made with AESGCM.

    ``tag`` "dlms" keeps the first 12 tag bytes (what meters send).
    """
    gcm = AESGCM(bytes(key))
    nonce = iv(system_title, frame_counter)
    if sc & 0x20:
        sealed = gcm.encrypt(nonce, bytes(plaintext), bytes([sc]) + bytes(auth_key))
        body, full_tag = sealed[:-16], sealed[-16:]
    else:
        full_tag = gcm.encrypt(nonce, b"", bytes([sc]) + bytes(auth_key) + bytes(plaintext))
        body = bytes(plaintext)
    content = bytes([sc]) + struct.pack(">I", frame_counter) + body
    if sc & 0x10:
        content += full_tag[:12]
    return bytes([tag_byte, 8]) + bytes(system_title) + ber(len(content)) + content


def gbt_block(number, data, last=False, ack=0, streaming=True):
    control = (0x80 if last else 0) | (0x40 if streaming else 0)
    return bytes([0xE0, control]) + struct.pack(">HH", number, ack) + ber(len(data)) + bytes(data)


def gbt_blocks(apdu, size, first=1):
    """Split one APDU into GBT blocks of ``size`` data bytes, numbered from ``first``."""
    pieces = [apdu[i : i + size] for i in range(0, len(apdu), size)]
    return [gbt_block(first + i, p, last=(i == len(pieces) - 1)) for i, p in enumerate(pieces)]


def hdlc_payloads(raw):
    """Information fields of the HDLC frames in ``raw``, segments joined.

    Frame: 7E | A0-AF + len (11 bits) | dest addr | src addr | control | HCS | info | FCS | 7E.
    Addresses end at the first byte with bit 0 set. The LLC header is left
    to the APDU reader's tolerance only when it is not at the start.
    """
    out = []
    pending = b""
    pos = 0
    while pos < len(raw):
        if raw[pos] != 0x7E or pos + 3 > len(raw) or raw[pos + 1] & 0xF0 != 0xA0:
            pos += 1
            continue
        length = ((raw[pos + 1] & 0x07) << 8) | raw[pos + 2]
        frame = raw[pos + 1 : pos + 1 + length]
        p = 2
        for _ in range(2):  # destination, then source address
            while not frame[p] & 1:
                p += 1
            p += 1
        info = frame[p + 3 : length - 2]  # skip control and HCS; drop FCS
        pending += info
        if not frame[0] & 0x08:
            out.append(_strip_llc(pending))
            pending = b""
        pos += length + 2
    return out


def mbus_payloads(raw):
    """APDU bytes of M-Bus long frames, DLMS segments joined (CI bit 0x10 = last)."""
    out = []
    pending = b""
    pos = 0
    while pos + 4 <= len(raw):
        if raw[pos] != 0x68:
            pos += 1
            continue
        length = raw[pos + 1]
        if length < 5:  # old Sagemcom T210-D writes the low byte of 0x101
            length += 0x100
        user = raw[pos + 4 : pos + 4 + length]  # C A CI STSAP DTSAP data
        pending += user[5:]
        if user[2] & 0x10:
            out.append(pending)
            pending = b""
        pos += 4 + length + 2
    return out


def _strip_llc(info):
    return info[3:] if info[:3] == LLC else info


def payloads(entry):
    """The APDU payloads of a corpus entry, as a framer would hand them over."""
    raw = bytes.fromhex(entry["hex"])
    if entry["transport"] == "hdlc":
        return hdlc_payloads(raw)
    if entry["transport"] == "mbus":
        return mbus_payloads(raw)
    return [raw]


def key_of(entry, name="key_hex"):
    value = entry.get(name)
    return None if not value else bytes.fromhex(value)


def read_all(reader, items):
    """Push every payload; -> list of (Notification, body bytes) copied out at once."""
    out = []
    for payload in items:
        for note in reader.push(payload):
            out.append(snapshot(note))
    return out


def snapshot(note):
    """Plain, comparable copy of a Notification (its views die at the next push)."""
    return {
        "system_title": None if note.system_title is None else bytes(note.system_title).hex(),
        "frame_counter": note.frame_counter,
        "invoke_id": note.invoke_id,
        "datetime": None if note.datetime is None else bytes(note.datetime).hex(),
        "body": bytes(note.body).hex(),
        "dsmr": note.dsmr,
        "tag_checked": note.tag_checked,
    }


def fresh_log():
    return ErrorLog()


# --- MicroPython side ------------------------------------------------------
# Scripts run with ``mp.run_micropython(["-c", SCRIPT], input_bytes=json)``:
# the case data goes in as JSON on stdin, the results come back as one JSON
# line, and the CPython test compares them with its own.

GCM_MP_SCRIPT = """
import json, sys
from decoder import gcm, gcm_plain, gcm_viper
from decoder.errors import SecurityError
cases = json.loads(sys.stdin.read())
h = bytes.fromhex
out = {"kernel": gcm.KERNEL, "nist": [], "dlms": [], "ghash": [], "ctr": []}
for c in cases["nist"]:
    g = gcm.Gcm(h(c["key"]))
    ct = h(c["ct"])
    pt = bytearray(len(ct))
    tag = gcm_plain.decrypt_raw(g, h(c["iv"]), h(c["aad"]), ct, pt)
    out["nist"].append([bytes(pt).hex(), tag.hex()])
def dlms(name):
    out[name] = []
    for c in cases["dlms"]:
        g = gcm.Gcm(h(c["key"]), h(c["ak"]) if c["ak"] else None)
        ct = h(c["ct"])
        pt = bytearray(len(ct))
        try:
            n = g.decrypt(c["sc"], h(c["title"]), c["fc"], ct, h(c["tag"]) if c["tag"] else None, pt)
            out[name].append(bytes(pt[:n]).hex())
        except SecurityError as e:
            out[name].append("error: " + str(e))
dlms("dlms")
# The fallback a port without native emitters would take, end to end.
kernels = (gcm._ghash, gcm._counter_blocks, gcm._xor_into)
gcm._ghash, gcm._counter_blocks, gcm._xor_into = (
    gcm_plain._ghash_bits, gcm_plain._counter_blocks_py, gcm_plain._xor_into_py)
dlms("dlms_plain")
gcm._ghash, gcm._counter_blocks, gcm._xor_into = kernels
for c in cases["ghash"]:
    hk = h(c["h"])
    data = h(c["data"])
    y1 = bytearray(h(c["y"]))
    y2 = bytearray(h(c["y"]))
    gcm_viper.ghash(y1, hk, data, len(data))
    gcm_plain._ghash_bits(y2, hk, data, len(data))
    out["ghash"].append([bytes(y1).hex(), bytes(y2).hex()])
for c in cases["ctr"]:
    j0 = h(c["j0"])
    k1 = bytearray(16 * c["blocks"])
    k2 = bytearray(16 * c["blocks"])
    gcm_viper.counter_blocks(k1, j0, c["counter"], c["blocks"])
    gcm_plain._counter_blocks_py(k2, j0, c["counter"], c["blocks"])
    a = h(c["a"])
    x1 = bytearray(len(a))
    x2 = bytearray(len(a))
    gcm_viper.xor_into(x1, a, 0, k1, len(a))
    gcm_plain._xor_into_py(x2, a, 0, k1, len(a))
    out["ctr"].append([bytes(k1).hex(), bytes(k2).hex(), bytes(x1).hex(), bytes(x2).hex()])
print(json.dumps(out))
"""

APDU_MP_SCRIPT = """
import json, sys
from decoder import apdu
from decoder.errors import ErrorLog
h = bytes.fromhex
# One case per input line, one result per output line: the heap holds one
# case at a time, so this also runs in an ESP32-sized heap.
line = sys.stdin.readline()
while line:
    c = json.loads(line)
    log = ErrorLog()
    reader = apdu.ApduReader(log, h(c["key"]) if c["key"] else None, h(c["ak"]) if c["ak"] else None)
    notes = []
    for p in c["payloads"]:
        for n in reader.push(h(p)):
            notes.append({
                "system_title": None if n.system_title is None else bytes(n.system_title).hex(),
                "frame_counter": n.frame_counter,
                "invoke_id": n.invoke_id,
                "datetime": None if n.datetime is None else bytes(n.datetime).hex(),
                "body": bytes(n.body).hex(),
                "dsmr": n.dsmr,
                "tag_checked": n.tag_checked,
            })
    print(json.dumps({"notes": notes, "errors": log.counts}))
    line = sys.stdin.readline()
"""
