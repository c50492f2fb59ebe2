"""OBIS-tagged notification bodies read entry by entry (IEC 62056-6-2 A-XDR, IEC 62056-6-1 OBIS).

The common tagged shape (AM550, Aidon, the simulator; the flat Kamstrup/Kaifa form is not it)::

    01|02 n  { 02 2-5  09 06 OBIS  value  [02 02 {scaler} {unit}  [status]  [capture time]] } × n
                       (06 09 from a Landis+Gyr ZMF100: the same)

read with a cursor, one entry at a time, into a dict sized up front, with the key strings
of the previous push reused. obis.py's tree path reads the same bodies to the same readings
(host_tests/test_obis_streamed.py checks every capture both ways), but it first builds the
whole A-XDR tree and keeps every entry alive until the last is read, with the decode's
short-lived objects between them: on a small heap that leaves the free space in holes too
small for the next large allocation. Every other shape, or a fault, returns None and is left
to the tree path, which also words the errors.
"""

from decoder import axdr, profiles
from decoder.compat import const
from decoder.errors import AxdrError
from decoder.obis import logical_name, obis_text, reading, scaled, unit_symbol

# A-XDR tags of the entries read here (IEC 62056-6-2).
_ARRAY = const(0x01)
_STRUCTURE = const(0x02)
_OCTET_STRING = const(0x09)
_INTEGER = const(0x0F)
_ENUM = const(0x16)
_OBIS_BYTES = const(6)
_SCALE_UNIT_BYTES = const(6)  # 02 02 0F scaler 16 unit
_NESTED = const((0x01, 0x02, 0x13))  # array, structure, compact-array: values the tree path reads
# OBIS codes whose key strings are kept between pushes: twice the longest list in the
# corpus (~60 values); past it keys are made per push.
_MAX_KEYS = const(128)


def streamed(body, profile_name, system_title):
    """Readings of a body of {OBIS, value[, {scaler, unit}]} entries only, or None."""
    if profile_name != "auto" or system_title is not None:
        profile = _profile(profile_name, system_title)
        if profile_name != "auto" or profile["name"] != "generic":
            return _entries(body, profile)
    # No sender to go by (or a title that names no maker profiles.py knows): a first
    # pass finds the logical device name.
    generic = profiles.resolve("generic")
    out = _entries(body, generic)
    if out is None:
        return None
    profile = profiles.resolve("auto", None, logical_name(out))
    return out if profile is generic else _entries(body, profile)


# The profile of the last sender: [profile name, system title, profile]. A meter keeps
# its title, and resolving it anew cost ~250 bytes of heap per push (slices, str, upper).
_last = [None, None, None]


def _profile(profile_name, system_title):
    if _last[2] is None or _last[0] != profile_name or _last[1] != system_title:
        _last[2] = profiles.resolve(profile_name, system_title)
        _last[0] = profile_name
        _last[1] = None if system_title is None else bytes(system_title)
    return _last[2]


# The cursor of the entry loop, reused for every push (a new Cursor is ~100 bytes of
# heap per push on MicroPython); its buffer is dropped after each body.
_cursor = axdr.Cursor(b"")


def _entries(body, profile):
    try:
        out = _entry_loop(body, profile)
    except AxdrError:
        out = None
    _cursor.buf = b""  # the caller's buffer is not kept alive
    return out


def _entry_loop(body, profile):
    end = len(body)
    if end < 2 or body[0] not in (_ARRAY, _STRUCTURE):
        return None
    cur = _cursor
    cur.buf = body
    cur.pos = 1
    cur.end = end
    count = cur.length()
    if count == 0:
        return None
    out = _presized(count)
    for _ in range(count):
        at = cur.pos
        if (at + 10 > end or body[at] != _STRUCTURE or body[at + 1] not in (2, 3, 4, 5)
                or not _obis_head(body[at + 2], body[at + 3])):
            return None
        cur.pos = at + 10
        tag = cur.byte()
        if tag in _NESTED:
            return None
        value = cur.content(tag, 2)
        out[_key(body, at + 4)] = _reading(cur, value, at, profile)
    return out


def _obis_head(tag, length):
    # 09 06: an OBIS code's octet-string. A Landis+Gyr ZMF100 writes 06 09 before the
    # OBIS of its currents (a firmware bug dlms_parser also reads through); read as
    # A-XDR, 06 would take 4 bytes of the code as a number and the body would be lost.
    return (tag == _OCTET_STRING and length == _OBIS_BYTES) or (tag == _OBIS_BYTES and length == _OCTET_STRING)


# The helpers below keep to few locals: MicroPython puts the frame of a call with
# more than 11 slots of locals and value stack on the heap, and they run per value.

def _reading(cur, value, at, profile):
    # (value, unit) of the entry at ``at``; its {scaler, unit}, if it has one, is next.
    # An extended register (Blue Book 4.3.3) may bring its status and capture time
    # after those: passed over, as the DSMR reader drops a reading's capture time.
    if cur.buf[at + 1] > 2 and _plain_scale(cur.buf, cur.pos, cur.end):
        value = _scaled_in_place(cur, value)
    else:
        su = cur.value(2) if cur.buf[at + 1] > 2 else None
        value = scaled(cur.buf[at + 4:at + 10], value, su, profile)
    if cur.buf[at + 1] > 3:
        cur.value(2)
        if cur.buf[at + 1] > 4:
            cur.value(2)
    return value


def _plain_scale(buf, pos, end):
    # The {scaler, unit} every tagged meter sends: 02 02 0F ss 16 uu.
    return (pos + _SCALE_UNIT_BYTES <= end and buf[pos] == _STRUCTURE and buf[pos + 1] == 2
            and buf[pos + 2] == _INTEGER and buf[pos + 4] == _ENUM)


def _scaled_in_place(cur, value):
    # A plain {scaler, unit} read where it lies: no 2-tuple per value (~32 bytes each).
    pos = cur.pos
    cur.pos = pos + _SCALE_UNIT_BYTES
    scaler = cur.buf[pos + 3]
    if scaler > 127:
        scaler -= 256
    return reading(value, scaler, unit_symbol(cur.buf[pos + 5]))


def _presized(count):
    # MicroPython sizes a dict from fromkeys() to the length, and deleting keeps
    # the table: the readings then fill it without growing it step by step, where
    # each step copies the table into a bigger block of a heap the push is
    # fragmenting anyway (a 24-value push needed 464 contiguous bytes at the end).
    n = min(count, _MAX_KEYS)
    out = dict.fromkeys(range(n))
    for i in range(n):
        del out[i]
    return out


# The key strings of the tagged bodies seen so far: _texts[i] is the key of the OBIS
# code at _codes[6 * i:6 * i + 6]. A meter sends the same lists push after push (the SiL
# meter two: 24 values every 5 s, 15 every minute), so each key is made once, not per
# push. The codes sit in one bytearray: a list of [bytes, str] pairs held ~100 bytes per
# key (list, items, bytes object) where this holds 6 bytes and a list slot.
_codes = bytearray()
_texts = []
_next = 0  # the entry after the last one found: where a list sent in order goes on


def _key(body, at):
    # The key of the OBIS code at body[at:at + 6]; no slice of the body unless it is new.
    global _next
    i = _next if _next < len(_texts) and _same_code(_next, body, at) else _find(body, at)
    if i < 0:
        six = body[at:at + _OBIS_BYTES]
        if len(_texts) >= _MAX_KEYS:
            return obis_text(six)
        _codes.extend(six)
        _texts.append(obis_text(six))
        i = len(_texts) - 1
    _next = i + 1
    return _texts[i]


def _find(body, at):
    # The entry holding the code at body[at:], or -1: a scan, but only where a list changes.
    for i in range(len(_texts)):
        if _same_code(i, body, at):
            return i
    return -1


def _same_code(i, body, at):
    start = i * _OBIS_BYTES
    for k in range(_OBIS_BYTES):
        if _codes[start + k] != body[at + k]:
            return False
    return True
