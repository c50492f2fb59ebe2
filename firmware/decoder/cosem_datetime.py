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
MicroPython, against ~60 now).
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

# Offsets into the text, "YYYY-MM-DDTHH:MM:SS+HH:MM".
_HOUR_AT = const(11)
_SIGN_AT = const(19)
_PLUS = const(0x2B)
_MINUS = const(0x2D)
_ZERO = const(0x30)

_TEXT = bytearray(b"0000-00-00T00:00:00+00:00")
_FULL = memoryview(_TEXT)
_LOCAL = _FULL[:_SIGN_AT]  # date and time, no offset
_DATE = _FULL[:10]
_TIME = _FULL[_HOUR_AT:_SIGN_AT]


def date_ok(year, month, day):
    """True for a plausible calendar date (day 1-31 whatever the month)."""
    return _YEAR_MIN <= year <= _YEAR_MAX and 1 <= month <= 12 and 1 <= day <= 31


def _two(at, v):
    # Two decimal digits of v (0..99) at offset ``at``.
    _TEXT[at] = _ZERO + v // 10
    _TEXT[at + 1] = _ZERO + v % 10


def _put_date(year, raw):
    _two(0, year // 100)
    _two(2, year % 100)
    _two(5, raw[2])
    _two(8, raw[3])


def _put_time(raw):
    # Unspecified (0xFF) minute and second read as 0.
    _two(_HOUR_AT, raw[5])
    _two(14, raw[6] if raw[6] < 60 else 0)
    _two(17, raw[7] if raw[7] < 60 else 0)


def deviation(raw):
    """The signed deviation in minutes (bytes 9-10)."""
    dev = (raw[9] << 8) | raw[10]
    return dev - 0x10000 if dev & 0x8000 else dev


def _with_offset(dev):
    if dev == _NO_DEVIATION or not -_MAX_DEVIATION <= dev <= _MAX_DEVIATION:
        return str(_LOCAL, "ascii")
    # UTC = local + deviation, so the ISO 8601 offset is its negation.
    offset = -dev
    _TEXT[_SIGN_AT] = _PLUS if offset >= 0 else _MINUS
    offset = abs(offset)
    _two(_SIGN_AT + 1, offset // 60)
    _two(_SIGN_AT + 4, offset % 60)
    return str(_FULL, "ascii")


def datetime_text(raw):
    """12-byte COSEM date-time -> ISO 8601 text, or None.

    The deviation counts minutes from local time to UTC, so CEST is -120,
    which ISO 8601 writes "+02:00"; without one the text is local time.
    An unspecified date or hour leaves out that half; both -> None.
    """
    year = (raw[0] << 8) | raw[1]
    dated = date_ok(year, raw[2], raw[3])
    timed = raw[5] < 24
    if dated:
        _put_date(year, raw)
    if timed:
        _put_time(raw)
    if dated and timed:
        return _with_offset(deviation(raw))
    if dated:
        return str(_DATE, "ascii")
    return str(_TIME, "ascii") if timed else None


def _field_ok(v, limit):
    return v < limit or v == 0xFF


def is_datetime(raw):
    """True when 12 bytes look like a COSEM date-time: a real date (or year
    0xFFFF), valid or unspecified time fields, a plausible deviation. A
    12-digit meter number in ASCII fails on the year."""
    if len(raw) != 12:
        return False
    year = (raw[0] << 8) | raw[1]
    if not (year == 0xFFFF or date_ok(year, raw[2], raw[3])):
        return False
    if not (_field_ok(raw[5], 24) and _field_ok(raw[6], 60) and _field_ok(raw[7], 60) and _field_ok(raw[8], 100)):
        return False
    dev = deviation(raw)
    return dev == _NO_DEVIATION or -_MAX_DEVIATION <= dev <= _MAX_DEVIATION
