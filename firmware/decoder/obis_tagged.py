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
# Entries whose key strings are kept between pushes: twice the longest list in the
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
    for index in range(count):
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
        out[_key(six, index)] = scaled(six, value, su, profile)
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


# The key strings of the last tagged body, by entry: [six OBIS bytes, "A-B:C.D.E"].
# A meter sends the same list push after push, so each key is made once, not per
# push; a second list (the minute push) replaces the entries where it differs.
_keys = []


def _key(six, index):
    if index < len(_keys):
        known = _keys[index]
        if _same_code(known[0], six):
            return known[1]
        known[0] = bytes(six)
        known[1] = obis_text(six)
        return known[1]
    key = obis_text(six)
    if index < _MAX_KEYS:
        _keys.append([bytes(six), key])
    return key


def _same_code(a, b):
    for i in range(_OBIS_BYTES):
        if a[i] != b[i]:
            return False
    return True
