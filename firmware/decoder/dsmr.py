"""DSMR P1 telegrams (DSMR 5.0.2 P1 Companion Standard), the
ASCII push of Dutch, Belgian, Luxembourgish and many Swiss meters.

A telegram::

    /XXX5<identification> CR LF          XXX: manufacturer, three letters
    CR LF
    1-0:1.8.1(001234.567*kWh) CR LF      OBIS(value[*unit])
    0-0:1.0.0(231121150000W) CR LF       YYMMDDhhmmss + S (summer) / W (winter)
    0-1:24.2.1(231121150000W)(00012.345*m3) CR LF   capture time, then value
    !ABCD CR LF                          CRC-16/ARC of "/" .. "!" in hex

Older meters (DSMR 2.2/3, some Swiss P1 ports) end with a bare "!": such
telegrams are accepted without a CRC.

``frame`` finds a telegram in the framer's buffer; ``parse`` turns its text
into readings ``{OBIS text: (value, unit or None)}`` and the meter time.

Meter time: DSMR carries local time and only a DST letter. Every meter
speaking DSMR (NL, BE, LU, CH, AT) runs on Central European Time, so S is
written as ``+02:00`` and W as ``+01:00`` (ISO 8601 local time with offset).
"""

from decoder import crc
from decoder.compat import const
from decoder.errors import ChecksumError, FrameError

START = const(0x2F)  # "/"
_END = const(0x21)  # "!"
_CR = const(0x0D)
_LF = const(0x0A)
_CRC_DIGITS = const(4)
_HEADER_LETTERS = const(3)  # "/XXX": the FLAG manufacturer code
_OBIS_F_ALL = ".255"  # F = 255 means "any": dropped like obis.obis_text does
# Values that are text sent as hex digits: the equipment identifiers
# 0-n:96.1.x of the meter and its M-Bus channels and the text message
# 0-0:96.13.x (DSMR 5.0.2 table 6-1; C.D matched whatever A-B say, as
# before), and the logical device name 0-0:42.0.0 of the Luxembourg Smarty
# (Luxembourg P1 specification).
_HEX_ID = "96.1."
_HEX_MESSAGE = "96.13."
_HEX_DEVICE_NAME = "0-0:42.0.0"
_CLOCK = "0-0:1.0.0"
# Older meters (DSMR 2.2-like, e.g. Iskra AM551) send time hhmmss and date
# YYMMDD as two plain values and no DST flag: kept as text (leading zeros
# matter) and joined into a meter time without offset.
_TIME = "1-0:0.9.1"
_DATE = "1-0:0.9.2"
_TEXT = ("0.9.1", "0.9.2")
_ZONE = {"S": "+02:00", "W": "+01:00"}


def frame(buf, pos, end):
    """Length of the telegram starting at buf[pos] ("/"); 0 while it is incomplete.

    ``buf`` is a bytearray (``find`` is used to look for the "!"). The
    telegram text, "/" through the CRC digits, is the whole length from
    ``pos``. Raises FrameError or ChecksumError. Few locals, no heap: the
    framer calls it on every telegram.
    """
    if end - pos < 1 + _HEADER_LETTERS:
        return 0
    _check_header(buf, pos)
    bang = buf.find(b"!", pos + 1, end)
    if bang < 0 or bang + 1 >= end:
        return 0
    if _is_line_end(buf[bang + 1]):
        _check_text(buf, pos, bang)
        return bang + 1 - pos
    if bang + 1 + _CRC_DIGITS > end:
        return 0
    _check_crc(buf, pos, bang)
    return bang + 1 + _CRC_DIGITS - pos


def _check_header(buf, pos):
    for i in range(pos + 1, pos + 1 + _HEADER_LETTERS):
        if not _is_letter(buf[i]):
            raise FrameError("DSMR header must start with / and three letters")


def _check_crc(buf, pos, bang):
    if crc.arc(buf, pos, bang + 1) != _hex_value(buf, bang + 1, bang + 1 + _CRC_DIGITS):
        raise ChecksumError("DSMR CRC mismatch")


def _is_line_end(c):
    return c == _CR or c == _LF


def _is_letter(c):
    return 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A


def _check_text(buf, start, stop):
    # Without a CRC only the character set tells a telegram from noise.
    for i in range(start, stop):
        c = buf[i]
        if (c < 0x20 or c > 0x7E) and c != _CR and c != _LF:
            raise FrameError("DSMR telegram contains byte 0x%02x" % c)


def _hex_value(buf, start, stop):
    value = 0
    for i in range(start, stop):
        value = (value << 4) | _hex_digit(buf[i])
    return value


def _hex_digit(c):
    c |= 0x20  # fold A-F to a-f
    if 0x30 <= c <= 0x39:
        return c - 0x30
    if 0x61 <= c <= 0x66:
        return c - 0x57
    raise FrameError("DSMR CRC is not four hex digits")


def parse(text):
    """Readings of a telegram: ``({OBIS: (value, unit or None)}, meter_time or None)``.

    ``text`` is str or bytes-like, "/" through "!" (CRC optional). Lines
    that are not ``OBIS(...)`` are skipped; text that is not a telegram at
    all raises FrameError.
    """
    if not isinstance(text, str):
        try:
            text = bytes(text).decode()
        except UnicodeError:
            raise FrameError("DSMR telegram is not ASCII text")
    if not text.startswith("/"):
        raise FrameError("DSMR telegram must start with /")
    readings = {}
    key = None
    for line in text.split("\n"):
        line = line.strip()
        if line.startswith("("):
            if key is not None:  # DSMR 2.2/3: the value continues on its own line
                _store(readings, key, readings[key][2] + _groups(line))
        elif "(" in line and line[0].isdigit():
            i = line.index("(")
            key = _obis(line[:i])
            _store(readings, key, _groups(line[i:]))
    return _finish(readings), _meter_time(readings)


def _meter_time(readings):
    when = readings.get(_CLOCK)
    if when is not None:
        return when[0]
    day = readings.get(_DATE, ("",))[0]
    time = readings.get(_TIME, ("",))[0]
    if len(day) == 6 and len(time) == 6 and day.isdigit() and time.isdigit():
        return "20%s-%s-%sT%s:%s:%s" % (day[0:2], day[2:4], day[4:6], time[0:2], time[2:4], time[4:6])
    return None


def _obis(text):
    if text.endswith(_OBIS_F_ALL) and text.count(".") == 3:
        return text[: -len(_OBIS_F_ALL)]
    return text


def _groups(text):
    """'(a)(b*u)' -> ['a', 'b*u']; raises nothing, keeps what is well formed."""
    parts = []
    for part in text.split(")"):
        part = part.strip()
        if part.startswith("("):
            parts.append(part[1:])
    return parts


def _store(readings, key, groups):
    value, unit = _convert(key, groups)
    readings[key] = (value, unit, groups)


def _finish(readings):
    out = {}
    for key, item in readings.items():
        out[key] = (item[0], item[1])
    return out


def _convert(key, groups):
    """The groups of one line -> (value, unit)."""
    if len(groups) == 1:
        return _value(key, groups[0])
    if len(groups) == 2 and _timestamp(groups[0]) is not None:
        return _value(key, groups[1])  # capture time, then the reading
    values = []
    for g in groups:
        values.append(_value(key, g)[0])
    return values, None


def _is_hex_text(key, code):
    """True for the OBIS codes whose value is text sent as hex digits (see _HEX_ID)."""
    return code.startswith(_HEX_ID) or code.startswith(_HEX_MESSAGE) or key == _HEX_DEVICE_NAME


def _value(key, text):
    """One group -> (value, unit): number*unit, timestamp, hex text, number, text."""
    code = key[key.find(":") + 1 :]
    if "*" in text:
        number, unit = text.split("*", 1)
        return _number(number), unit
    when = _timestamp(text)
    if when is not None:
        return when, None
    if _is_hex_text(key, code):
        return _hex_text(text), None
    if code in _TEXT:
        return text, None
    return _number(text), None


def _number(text):
    """int without a decimal point, float with one; other text stays text."""
    digits = text[1:] if text.startswith("-") else text
    if digits.isdigit():
        return int(text)
    whole, _, frac = digits.partition(".")
    if whole.isdigit() and frac.isdigit():
        return float(text)
    return text


def _timestamp(text):
    """YYMMDDhhmmss + S/W -> ISO 8601 with the CET/CEST offset, else None."""
    if len(text) != 13 or not text[:12].isdigit() or text[12] not in _ZONE:
        return None
    t = text
    return "20%s-%s-%sT%s:%s:%s%s" % (t[0:2], t[2:4], t[4:6], t[6:8], t[8:10], t[10:12], _ZONE[t[12]])


def _hex_text(text):
    """Hex digits that spell printable ASCII become that text; the rest stays as sent."""
    if len(text) % 2 or not text:
        return text
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        return text
    for c in raw:
        if c < 0x20 or c > 0x7E:
            return text
    return raw.decode()
