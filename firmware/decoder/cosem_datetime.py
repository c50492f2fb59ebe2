"""COSEM date-time as text (IEC 62056-6-2 clause 4.1.6.1, "date-time"), for
obis.py: ``obis.datetime_text`` and ``obis.is_datetime`` live here.

The 12 bytes::

    0-1   year (uint16, 0xFFFF unspecified)
    2     month         3  day of month       4  day of week
    5     hour          6  minute             7  second
    8     hundredths    (each 0xFF when unspecified)
    9-10  deviation (int16, minutes local -> UTC; 0x8000 unspecified)
    11    clock status

The text is written digit by digit into one preallocated buffer and copied
out as a single str: it runs on every push, and %-formatting would build a
tuple and several intermediate strings (~630 bytes of heap per call on
MicroPython, against ~60 now). Few names on purpose: each function and
global costs RAM on the device (code and an interned name).
"""

from decoder.compat import const

# deviation 0x8000: "not specified" (IEC 62056-6-2 4.1.6.1).
_NO_DEVIATION = const(-0x8000)
# |deviation| above 12 hours is no time zone: treated as unspecified.
_MAX_DEVIATION = const(720)
# Year range accepted as a real date (and when guessing that 12 bytes are a
# date-time): 4 digits, and no meter predates 1970.
_YEAR_MIN = const(1970)
_YEAR_MAX = const(2199)

# Offsets into the text "YYYY-MM-DDTHH:MM:SS+HH:MM".
_HOUR_AT = const(11)
_SIGN_AT = const(19)
_PLUS = const(0x2B)
_MINUS = const(0x2D)
_ZERO = const(0x30)

_TEXT = bytearray(b"0000-00-00T00:00:00+00:00")
_view = memoryview(_TEXT)[:_SIGN_AT]  # date and time, no offset
_DATE = _view[:10]
_TIME = _view[_HOUR_AT:]


def _date_ok(year, month, day):
    # A date that exists: a 30 February is a damaged or unset clock, not a time to publish
    # (DSMR times are checked the same way). The month lengths come from arithmetic, not a
    # table: a table would be one more object and name in RAM for as long as this runs.
    if not (_YEAR_MIN <= year <= _YEAR_MAX and 1 <= month <= 12 and day >= 1):
        return False
    if month == 2:
        return day <= 28 + (not year % 4 and (year % 100 != 0 or not year % 400))
    return day <= 30 + ((month + (month >> 3)) & 1)  # 31: Jan, Mar, May, Jul, Aug, Oct, Dec


def _two(pos, v):
    # Two decimal digits of v (0..99) at ``pos``.
    _TEXT[pos] = _ZERO + v // 10
    _TEXT[pos + 1] = _ZERO + v % 10


def datetime_text(raw):
    """12-byte COSEM date-time -> ISO 8601 text, or None.

    The deviation counts minutes from local time to UTC (UTC = local +
    deviation), so CEST is -120, which ISO 8601 writes "+02:00"; without one
    the text is local time. Unspecified (0xFF) minute and second read as 0;
    an unspecified date or hour leaves out that half; both -> None.
    """
    year = (raw[0] << 8) | raw[1]
    dated = _date_ok(year, raw[2], raw[3])
    if dated:
        _two(0, year // 100)
        _two(2, year % 100)
        _two(5, raw[2])
        _two(8, raw[3])
    if raw[5] < 24:
        _two(_HOUR_AT, raw[5])
        _two(14, raw[6] if raw[6] < 60 else 0)
        _two(17, raw[7] if raw[7] < 60 else 0)
        if not dated:
            return str(_TIME, "ascii")
        # Both halves: add the offset, the negated deviation.
        v = (raw[9] << 8) | raw[10]
        v = 0x10000 - v if v & 0x8000 else -v
        if v == -_NO_DEVIATION or not -_MAX_DEVIATION <= v <= _MAX_DEVIATION:
            return str(_view, "ascii")
        _TEXT[_SIGN_AT] = _PLUS if v >= 0 else _MINUS
        _two(_SIGN_AT + 1, abs(v) // 60)
        _two(_SIGN_AT + 4, abs(v) % 60)
        return str(_TEXT, "ascii")
    return str(_DATE, "ascii") if dated else None


def _field_ok(v, limit):
    return v < limit or v == 0xFF


def is_datetime(raw):
    """True when 12 bytes look like a COSEM date-time: a real date (or year
    0xFFFF), valid or unspecified time fields, a plausible deviation. A
    12-digit meter number in ASCII fails on the year."""
    if len(raw) != 12:
        return False
    year = (raw[0] << 8) | raw[1]
    # Any day 1-31: this tells a date-time from other 12 bytes (a list's clock slot, the
    # header's), and a clock of 30 February is still the clock, though datetime_text then
    # gives only its time. Refused here, it cost a list its names and the energies with them.
    if not (year == 0xFFFF or _YEAR_MIN <= year <= _YEAR_MAX and 1 <= raw[2] <= 12 and 1 <= raw[3] <= 31):
        return False
    if not (_field_ok(raw[5], 24) and _field_ok(raw[6], 60) and _field_ok(raw[7], 60) and _field_ok(raw[8], 100)):
        return False
    v = (raw[9] << 8) | raw[10]
    v = v - 0x10000 if v & 0x8000 else v
    return v == _NO_DEVIATION or -_MAX_DEVIATION <= v <= _MAX_DEVIATION
