"""OBIS readings from a notification body (IEC 62056-6-1 OBIS, IEC 62056-62 units,
DLMS UA Blue Book push-setup class 40).

Three body styles, told apart by their shape:

push-setup (Swiss E450/E360/AM550/E570)::

    02 n                                  structure of n
      01 n  { 02 04  12 class  09 06 OBIS  0F attr  12 index } × n   capture list
      value_1 … value_n-1                  untagged, in capture-list order

  element i is the value of capture object i; object 0 is the push object
  itself (class 40), whose value is the list. Values carry no scaler/unit.

OBIS-tagged (Austrian, Nordic, Kamstrup meters)::

    02 n  09 06 OBIS  value  [02 02 0F scaler 16 unit]  09 06 OBIS value …
    01 n  { 02 2|3  09 06 OBIS  value  [02 02 0F scaler 16 unit] } × n

untagged: values only; their OBIS order comes from a named list
(lists.find_list) with the same number of values.

Readings are ``{"A-B:C.D.E": (value, unit or None)}``. Scaler and unit in the
frame win; otherwise the profile gives the exponent and the OBIS C/D group the
unit (profiles.py has the table).
"""

import struct

from decoder import axdr, profiles
from decoder.compat import const
from decoder.cosem_datetime import _date_ok
from decoder.cosem_datetime import datetime_text, is_datetime  # noqa: F401  (obis API)
from decoder.errors import AxdrError

# Blue Book: class 40 is push setup; attribute 2 is an object's value (and
# the push object's capture list).
PUSH_SETUP_CLASS = const(40)
VALUE_ATTRIBUTE = const(2)

# A-XDR tags push_cursor() looks for (IEC 62056-6-2).
_ARRAY = const(0x01)
_STRUCTURE = const(0x02)
_OCTET_STRING = const(0x09)
_UINT16 = const(0x12)
_HZ_LOW = const(40)  # mains frequency bounds, see _mains_exponent
_HZ_HIGH = const(70)
_VOLTS_MAX = const(1000)  # low-voltage bound, see reading()

# IEC 62056-62 unit enumeration (Blue Book 4.3.2): the symbol of code n is
# field n between "|" (field 0, empty, is no unit). One str constant rather
# than a tuple: a .mpy loads it as one object, where a tuple of 58 strings
# made 58 entries, ~40 new qstrs and a qstr pool block (~2.9 kB resident).
_UNIT_SYMBOLS = const((
    "|a|mo|wk|d|h|min|s|°|°C|currency|m|m/s|m3|m3|m3/h|m3/h|m3/d|m3/d|l|kg|N|Nm"
    "|Pa|bar|J|J/h|W|VA|var|Wh|VAh|varh|A|C|V|V/m|F|Ω|Ωm2/m|Wb|T|A/m|H|Hz"
    "|1/(Wh)|1/(varh)|1/(VAh)|V2h|A2h|kg/s|S|K|1/(V2h)|1/(A2h)|1/m3|%|Ah"
    "|||Wh/m3|J/m3|Mol %|g/m3|Pa s|J/kg|g/cm2|atm|||dBm|dBµV|dB"  # 58, 59, 68, 69 unused
))

# Electricity OBIS C -> kind letter (profiles.py table): P active, Q
# reactive, S apparent (each: power at D=7, energy at D=8), U voltage,
# I current, F power factor, H frequency, "." none of these.
_KIND_BY_C = const((
    b".PPQQQQQQSSIUFHPP....PPQQ....SSIUF.......PPQQ."
    b"...SSIUF.......PPQQ....SSIUF.................I"
))
_KINDS = {
    ord("P"): ("power", "energy"), ord("Q"): ("reactive", "renergy"),
    ord("S"): ("apparent", "aenergy"), ord("U"): ("voltage", None),
    ord("I"): ("current", None), ord("F"): ("pf", None), ord("H"): ("frequency", None),
}
_QUANTITY_UNIT = {
    "power": "W", "reactive": "var", "apparent": "VA", "energy": "Wh",
    "renergy": "varh", "aenergy": "VAh", "voltage": "V", "current": "A",
    "pf": None, "frequency": "Hz",
}


_unit_symbols = {}  # enum -> symbol (None past the table), filled as codes are seen: at most 255


def unit_symbol(code):
    """IEC 62056-62 unit enum -> symbol; None for 255 ("count"), 0 and unknown codes."""
    # Cached: a tagged meter sends a unit with every value of every push, and a
    # fresh slice each time would leave short-lived strings between the
    # readings the push keeps, fragmenting a small heap.
    symbol = _unit_symbols.get(code)
    if symbol is None and 0 < code < 256:
        symbol = _unit_symbols[code] = _symbol_at(code)
    return symbol


def _symbol_at(code):
    at = 0
    for _ in range(code):
        at = _UNIT_SYMBOLS.find("|", at) + 1
        if at == 0:
            return None
    end = _UNIT_SYMBOLS.find("|", at)
    return (_UNIT_SYMBOLS[at:] if end < 0 else _UNIT_SYMBOLS[at:end]) or None


def obis_text(six):
    """Six OBIS bytes -> "A-B:C.D.E" (".F" appended unless F is 255)."""
    if six[5] == 255:
        return "%d-%d:%d.%d.%d" % (six[0], six[1], six[2], six[3], six[4])
    return "%d-%d:%d.%d.%d.%d" % (six[0], six[1], six[2], six[3], six[4], six[5])


def quantity(six):
    """Physical quantity of an electricity OBIS code (profiles.py table) or None."""
    if six[0] != 1 or six[2] >= len(_KIND_BY_C) or not 7 <= six[3] <= 8:
        return None
    kind = _KINDS.get(_KIND_BY_C[six[2]])
    return None if kind is None else kind[six[3] - 7]


def default_scale(six, profile, overrides=None):
    """(exponent, unit) for a value that came without {scaler, unit}."""
    q = quantity(six)
    if q is None:
        return 0, None
    if overrides is not None and q in overrides:
        return overrides[q], _QUANTITY_UNIT[q]
    return profile[q], _QUANTITY_UNIT[q]


def is_clock(value):
    """Whether a decoded A-XDR value is a date-time: a tagged one (0x19), or an
    octet-string of 12 bytes that reads as one (how most meters send the clock)."""
    if type(value) is bytes:
        return is_datetime(value)
    return axdr.is_stamp(value) and value.tag == axdr.DATE_TIME


def _ascii_text(raw):
    """Printable text as str, NUL padding at the end dropped; else None. ASCII, or
    UTF-8 once a byte is past it (axdr.utf8_text).

    Meters pad text to a fixed field: an E450 (Cyprus) sends its tariff
    "RATE2" in 8 bytes, an Energomera its serial number in 32."""
    end = len(raw)
    while end and raw[end - 1] == 0:
        end -= 1
    if not end:
        return None  # all NUL: a blank binary field, kept as hex
    for i in range(end):
        if raw[i] < 32 or raw[i] > 126:
            return axdr.utf8_text(raw[:end]) if raw[i] > 127 else None
    return str(raw[:end] if end < len(raw) else raw, "ascii")


def plain(value):
    """A decoded A-XDR value as JSON-friendly data (text, numbers, lists)."""
    t = type(value)
    if t is bytes:
        if len(value) == 12 and is_datetime(value):
            return datetime_text(value)
        text = _ascii_text(value)
        return value.hex() if text is None else text
    if t is str and value.endswith("\x00"):
        return value.rstrip("\x00")  # a visible-string padded the same way
    if axdr.is_stamp(value):
        return _stamp_text(value.tag, value.raw)
    if t is list or t is tuple:
        return [plain(v) for v in value]
    return value


def _stamp_text(tag, raw):
    # An axdr.Stamp as ISO 8601 date-time, date or time (hex when not a valid one).
    if tag == axdr.DATE_TIME:
        return datetime_text(raw)
    if tag == axdr.DATE:
        year, month, day = struct.unpack_from(">HBB", raw, 0)
        return "%04d-%02d-%02d" % (year, month, day) if _date_ok(year, month, day) else raw.hex()
    if raw[0] >= 24:
        return raw.hex()  # no hour: nothing a clock reads
    # An unspecified (0xFF) minute or second reads as 0, as in datetime_text.
    return "%02d:%02d:%02d" % (raw[0], raw[1] if raw[1] < 60 else 0, raw[2] if raw[2] < 60 else 0)


def reading(value, exponent, unit, default=False):
    """(value scaled by 10**exponent, unit); non-numbers get unit None.

    ``default``: the exponent is the profile's or a value list's (default_scale), not a
    {scaler, unit} the frame sent, which is taken as sent. A default says how a meter
    counts its integers (0.1 V, 0.01 A), so a float is not scaled by it: it holds the
    quantity itself (230.1 read as 23.01 V under the AM550's). Every body style's
    defaults come here (tagged, push-setup, values only), so they all read alike.

    Dividing by 10**n gives the double nearest the decimal (2357 / 10 is
    235.7 exactly as printed), so no rounding step is needed.
    """
    t = type(value)
    if t is int:
        if default and unit == "Hz":
            # A scaler the frame sends is the meter's word, as for volts below.
            exponent = _mains_exponent(value, exponent)
        elif default and unit == "V":
            # A customer port's meter is low voltage: a phase reads under 1000 V. Some
            # Kamstrup Omnipowers (Denmark, Sweden: amsreader-firmware issues 814, 970 and
            # its Bornholm capture) send 0.01 V under the list id whose voltages are whole
            # volts elsewhere: 22199 is 221.99 V.
            while exponent > -3 and value * 10 ** (exponent + 3) > _VOLTS_MAX * 1000:
                exponent -= 1
        if exponent < 0:
            return value / 10 ** -exponent, unit
        return (value * 10 ** exponent if exponent else value), unit
    if t is float:
        return (value * 10.0 ** exponent if exponent and not default else value), unit
    return plain(value), None


def _mains_exponent(value, exponent):
    # Mains frequency is 40-70 Hz in every grid (EN 50160: 50 Hz within -6/+4 %).
    # A reading outside that under ``exponent`` has the wrong exponent: an E450 in
    # Cyprus sends whole hertz, without a scaler, where the E450 profile (and most
    # meters) say 0.01 Hz. Take the power of ten that lands in range, if one does.
    for e in (exponent, 0, -1, -2, -3):
        if e <= 0 and _HZ_LOW * 10 ** -e <= value <= _HZ_HIGH * 10 ** -e:
            return e
    return exponent  # 0 Hz (no voltage) or a real fault: as the exponent says


def _frame_scale(su):
    """Whether ``su`` is a {scaler int8, unit enum} structure from the frame."""
    return (type(su) is tuple and len(su) == 2 and type(su[0]) is int and type(su[1]) is int
            and -128 <= su[0] <= 127)


def scaled(six, value, su, profile):
    """(value, unit) of a tagged entry: its frame's {scaler, unit} when valid, else the profile's."""
    if su is not None and _frame_scale(su):
        return reading(value, su[0], unit_symbol(su[1]))
    scale = default_scale(six, profile)
    return reading(value, scale[0], scale[1], True)


NAME_KEYS = ("0-0:42.0.0", "1-1:0.2.129", "1-0:0.2.129")


def name_key(out):
    """Key of the logical device name (0-0:42.0.0) or list id in readings, or None."""
    for key in NAME_KEYS:
        if key in out and type(out[key][0]) is str:
            return key
    return None


def logical_name(out):
    """The logical device name or list id among readings, or None."""
    key = name_key(out)
    return None if key is None else out[key][0]


# The one cursor of the push-setup path, reused for every push (a new Cursor
# costs ~150 bytes of heap per push on MicroPython). Besides buf/pos/end
# obis_push.py has it carry the current call's inputs, so that its helpers
# take one argument and keep small frames: count (elements of the body
# structure), first (offset of element 0, the capture list), profile_name,
# title and out (the readings dict being filled).
_push_cursor = axdr.Cursor(b"")


def push_cursor(body):
    """The push cursor at element 0 when the body is push-setup style: a
    structure whose element 0 is a capture list ({uint16 class,
    octet-string[6] OBIS, ...}: four elements, or six where the meter adds
    Blue Book edition 15's restriction and columns); else None. The cursor is shared: valid
    until the next call."""
    cur = _push_cursor
    cur.buf = body
    cur.end = len(body)
    cur.pos = 0
    try:
        if cur.byte() != _STRUCTURE:
            return None
        cur.length()
        if cur.byte() != _ARRAY or cur.length() == 0:
            return None
        if cur.byte() != _STRUCTURE or cur.byte() not in (4, 6) or cur.byte() != _UINT16:
            return None
        cur.pos = cur.need(2)
        if cur.byte() != _OCTET_STRING or cur.byte() != 6:
            return None
    except AxdrError:
        return None
    cur.pos = 0
    return cur


def readings(body, profile_name, system_title=None, lists=None):
    """Notification body (A-XDR, memoryview) -> {OBIS text: (value, unit)}.

    ``profile_name``: a profiles.PROFILES key or "auto" (resolved from the
    system title, else the logical device name in the body). ``lists``:
    names of untagged lists to try (default: every list, lists.find_list).
    Raises AxdrError on malformed data.
    """
    # Small on purpose (MicroPython keeps a frame of few locals off the
    # heap): push-setup bodies, the common case, take the cached fast path.
    cur = push_cursor(body)
    if cur is not None:
        return _loaded("obis_push").readings(body, profile_name, system_title, cur)
    out = _loaded("obis_tagged").streamed(body, profile_name, system_title)
    return _loaded("obis_untagged").decoded(body, profile_name, system_title, lists) if out is None else out


_lazy = {}  # name -> module, for the modules _loaded() has imported


def _loaded(name):
    # Each body style loads its reader with its first telegram: obis_push.py the
    # push-setup bodies, obis_tagged.py the others, obis_untagged.py (the A-XDR tree
    # path) those the entry-by-entry reader leaves (flat tagged, untagged, XT211), and
    # lists.py the first body of values only (obis_untagged.py asks here too). A
    # meter holds the one it needs (~2 kB each from ROMFS, where an import allocates
    # only the module's objects; a gateway may still import them up front). Cached
    # because an import statement allocates on every call.
    module = _lazy.get(name)
    if module is None:
        module = _lazy[name] = getattr(__import__("decoder." + name), name)
    return module

