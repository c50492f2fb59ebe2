"""OBIS-tagged notification bodies read entry by entry (IEC 62056-6-2 A-XDR, IEC 62056-6-1 OBIS).

The common tagged shape (AM550, Aidon, the simulator; the flat Kamstrup/Kaifa form is not it)::

    01|02 n  { 02 2|3  09 06 OBIS  value  [02 02 {scaler} {unit}] } × n

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
from decoder.obis import logical_name, obis_text, scaled

# A-XDR tags of the entries read here (IEC 62056-6-2).
_ARRAY = const(0x01)
_STRUCTURE = const(0x02)
_OCTET_STRING = const(0x09)
_OBIS_BYTES = const(6)
_NESTED = (0x01, 0x02, 0x13)  # array, structure, compact-array: values the tree path reads
# OBIS codes whose key strings are kept between pushes: twice the longest list in the
# corpus (~60 values); past it keys are made per push.
_MAX_KEYS = const(128)


def streamed(body, profile_name, system_title):
    """Readings of a body of {OBIS, value[, {scaler, unit}]} entries only, or None."""
    if profile_name != "auto" or system_title is not None:
        return _entries(body, profiles.resolve(profile_name, system_title))
    # No sender to go by: a first pass finds the logical device name.
    generic = profiles.resolve("generic")
    out = _entries(body, generic)
    if out is None:
        return None
    profile = profiles.resolve("auto", None, logical_name(out))
    return out if profile is generic else _entries(body, profile)


def _entries(body, profile):
    try:
        return _entry_loop(body, profile)
    except AxdrError:
        return None


def _entry_loop(body, profile):
    end = len(body)
    if end < 2 or body[0] not in (_ARRAY, _STRUCTURE):
        return None
    cur = axdr.Cursor(body, 1)
    count = cur.length()
    if count == 0:
        return None
    out = _presized(count)
    for _ in range(count):
        at = cur.pos
        if (at + 10 > end or body[at] != _STRUCTURE or body[at + 1] not in (2, 3)
                or body[at + 2] != _OCTET_STRING or body[at + 3] != _OBIS_BYTES):
            return None
        cur.pos = at + 10
        tag = cur.byte()
        if tag in _NESTED:
            return None
        value = cur.content(tag, 2)
        su = cur.value(2) if body[at + 1] == 3 else None
        six = body[at + 4:at + 10]
        out[_key(six)] = scaled(six, value, su, profile)
    return out


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


def _key(six):
    global _next
    i = _next if _next < len(_texts) and _same_code(_next, six) else _find(six)
    if i < 0:
        if len(_texts) >= _MAX_KEYS:
            return obis_text(six)
        _codes.extend(six)
        _texts.append(obis_text(six))
        i = len(_texts) - 1
    _next = i + 1
    return _texts[i]


def _find(six):
    # The entry holding ``six``, or -1: a scan, but only where a list changes.
    for i in range(len(_texts)):
        if _same_code(i, six):
            return i
    return -1


def _same_code(i, six):
    at = i * _OBIS_BYTES
    for k in range(_OBIS_BYTES):
        if _codes[at + k] != six[k]:
            return False
    return True
