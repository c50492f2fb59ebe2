"""DSMR P1 telegram text -> readings (DSMR 5.0.2 P1 Companion Standard,
clause 6: the data objects); ``dsmr.parse`` is the entry point.

One line per reading (the telegram is drawn in dsmr.py), and lists::

    1-0:99.97.0(1)(0-0:96.7.19)(190326095015W)(0000002014*s)
    0-1:24.3.0(121030140000)(00)(60)(1)(0-1:24.2.1)(m3)     DSMR 2.2/3: the value
    (00001.001)                                              on a line of its own

Meter time: DSMR carries local time and only a DST letter. Every meter
speaking DSMR (NL, BE, LU, CH, AT) runs on Central European Time, so S is
written as ``+02:00`` and W as ``+01:00`` (ISO 8601 local time with offset).

Heap (MicroPython, where a telegram arrives every 1-10 s): the text is
copied once into bytes and read in place, by index; only the readings, their
keys and value texts are allocated (~7 kB for 40 readings on the 64-bit
unix port, host_tests/test_frame_heap.py).
"""

from decoder.axdr import odd_utf8, utf8_text
from decoder.compat import const
from decoder.errors import DecodeError

# Values that are text sent as hex digits: the equipment identifiers
# 0-n:96.1.x of the meter and its M-Bus channels and the text message
# 0-0:96.13.x (DSMR 5.0.2 table 6-1; C.D matched whatever A-B say, as
# before), and the logical device name 0-0:42.0.0 of the Luxembourg Smarty
# (Luxembourg P1 specification).
_HEX_ID = const("96.1.")
_HEX_MESSAGE = const("96.13.")
_HEX_DEVICE_NAME = const("0-0:42.0.0")
# The tariff, an octet-string of 4 characters (S4) in DSMR 5.0.2 table 6-1: Dutch and
# Belgian meters send "0002" (tariff 2, a number), an ESR5 "5431", "T1" in hex
# (dsmr_parser issue 160). Text when its bytes are printable, else the number.
_TARIFF = const("96.14.")
_CLOCK = const("0-0:1.0.0")
# Older meters (DSMR 2.2-like, e.g. Iskra AM551) send time hhmmss and date
# YYMMDD as two plain values and no DST flag: kept as text (leading zeros
# matter) and joined into a meter time without offset. C.D.E 0.0.0 is the
# meter's number in IEC 62056-21 (EasyMeter Q3D "0272031312565"): text too, and so are
# versions, C.D 0.2 (firmware "1-0:0.2.0(02.21)" of Lithuanian meters read 2.21; the
# P1 version "1-3:0.2.8(50)" is no quantity either). Five characters at most: see _is_text.
# IEC 62056-21 readouts (mode D, a German "D0" port) write them without "1-0:" or
# under channel 1 (Landis+Gyr ZMD: "1-1:0.9.1"), and Iskra's MT17x a date of seven
# digits, 0YYMMDD ("0220127", the reader's own project takes the last six).
# C.1.0, the meter's serial number in IEC 62056-61's letter codes, is text too
# (leading zeros; Iskra, Landis+Gyr), and so is C.1 without E (an Itron EM214's readout:
# "C.1(53965555)", smartmeter-obis's test). So is every E of C.D 0.0 (identification numbers
# 1 to 10), or none (a Landis+Gyr UH50's "0.0(66153690)"), and 0.2 (firmware, parameter and
# program versions, checksums): a ZMD readout's "1-1:0.2.1(017)" read 17, a Metcom's second
# meter number "0.0.1(10067967)" a number.
_TIME = const("0.9.1")
_DATE = const("0.9.2")
_CLOCK_MEDIA = const(("1-0:", "", "1-1:", "0-0:"))
_TEXT = const(("0.9.1", "0.9.2", "0.0", "0.2.", "C.1"))
# An error register is a bit field written in hex digits, kept as sent: C F, IEC 62056-61's
# letter for 97, error messages ("F.F(00000000)" of Landis+Gyr, Iskra and Itron readouts,
# "FF" of an Iskra MT171's, a Landis+Gyr UH50's error number "F(0)"), or 97.97 as a DSMR
# telegram spells it ("0-0:97.97.0(00000000)", an Iskra AM551). Read as a decimal number,
# F.F(00002000), bit 13 (a LEM EM4T II's manual lists its error bits so), was 2000, and
# F.F(0000000A) text: the reading changed its JSON type with the bits set, and a numeric
# sensor broke. smartmeter-obis and the UH50's own reader keep it as text too.
_ERRORS = const("97.97.")
# So is a status word, OBIS 96.5 (internal operating status; C.5 in IEC 62056-61's letters):
# an EasyMeter Q3D's 1-0:96.5.5 is one byte "transmitted in hexadecimal presentation" (its
# manual), a Landis+Gyr readout's C.5.0 a word of hex digits (a ZMR120's 0004E0F0, a ZMF100's
# 0401, a ZMD's "1-1:C.5(0000E0F0)"), an eBZ's 96.5.0 001C0104. Read as decimal, 0401 was 401
# and 0004E0F0 text: the number was not the bits, and its type followed them.
_STATUS = const("96.5.")
# A Hager eHZ's own block 96.50.0*0 to *7 (the makers' range, 96.50 up) is hex as well: a
# grid status EE, its period 07CE in 10 us, chip temperatures 19, 07, 26, 09 (0x19 = 25 C).
# Read as decimal, 19 was 19 where 1A stayed text. Only E 0 with its F: a Holley D545's
# 0-0:96.50.68(02) is another maker's code, left a number.
_HAGER_HEX = const("96.50.0.")
# And the time of operation, OBIS 96.8: an eBZ DD3 counts its seconds in hex digits
# ("0-0:96.8.0*255(00104443)", "sensor lifetime in secs, 0x" as its owner's README says;
# 02FAB8BF another's). Read as decimal, 00104443 was 104443 s, not 1066051, and 02FAB8BF
# text. Kept as sent. Letters' C.8 is left alone: the readouts we know give it a unit
# ("C.8.1(024616.21*h)", an Itron's hours), and a unit makes any value a number.
_OPERATING = const("96.8.")
# First characters of an OBIS code: a digit, or without "A-B:" one of IEC 62056-61's
# letters for value group C (F.F the error register, C.1.0 the serial number, L and P
# lists and profiles), as IEC 62056-21 readouts of Landis+Gyr and Iskra meters send them.
# Such a code holds digits, dots, those letters and "*" only ("FF" too): a line of plain
# text ("Please call (0800 …)") or a damaged letter code ("F?F.0") is none.
_CODE_LETTERS = const(b"CFLP")
_LETTER_CODE = const(b"CFLP0123456789.*")
_MINUTES = const(2)  # _timestamp: a capture time after its reading, to the minute as well
_DASHED = const(14)  # ... or to the minute with separators, "17-11-02 08:30"
# DSMR 2.2/3 gas: "0-1:24.3.0(capture time)(00)(60)(1)(0-1:24.2.1)(m3)", then the
# value "(00001.001)" on the next line. The reading is that value in that unit.
_OLD_GAS = const("24.3.0")
# An M-Bus channel's value (DSMR 5.0.2: 0-n:24.2.1 gas, 24.2.3 Belgian gas, water, heat).
_CHANNEL_VALUE = const("24.2.")
_OLD_GAS_GROUPS = const(7)
# Units handed out without copying them from the telegram (DSMR 5.0.2
# table 6-1, and the reactive and heat units of the Swiss, Austrian and
# Luxembourg variants); any other unit is decoded as sent. _UNIT_TEXT
# spells _UNITS, each followed by a blank, for a byte-wise comparison.
_UNITS = const(("kWh", "kW", "Wh", "W", "kvarh", "kvar", "varh", "var", "V", "A", "m3", "s", "GJ"))
_UNIT_TEXT = const(b"kWh kW Wh W kvarh kvar varh var V A m3 s GJ ")
# Up to this many digits a decimal fits a 64-bit float's mantissa exactly
# (10**15 < 2**53), so m / 10**k rounds as float(text) does, without the
# text; longer ones are left to float().
_EXACT_DIGITS = const(15)
_STAMP = const(13)  # YYMMDDhhmmss + S/W
_COSEM_HEX = const(24)  # a COSEM date-time's 12 bytes as hex digits
# The meter time's text, rewritten in place for each timestamp: a
# %-format of six fields would cost its tuple and a heap frame as well.
_ISO = bytearray(b"2000-00-00T00:00:00+00:00")
_ISO_DIGITS = const(b"\x02\x05\x08\x0b\x0e\x11")  # where YY MM DD hh mm ss go
_ISO_HOUR = const(21)  # the offset's hour digit
_ISO_LOCAL = const(19)  # the date and time before the offset
_OPEN = const(0x28)  # "("
_CLOSE = const(0x29)  # ")"
_BLOCK = const("(")  # the key while _Lines passes over a block of lines (see _line)
_UNREADABLE = const(0x3F)  # "?" for a byte of a telegram that is neither ASCII nor UTF-8
_FILL = const(0xFF)
_MINUS = const(0x2D)
_PLUS = const(0x2B)


def parse(text, vouched=None):
    """``dsmr.parse``: one bytes copy of the telegram, then its lines read in place.
    ``vouched`` True: a GCM tag held over the text (see _checked)."""
    binary = False
    if isinstance(text, str):
        data = text.encode()
    else:
        data = bytes(text)
        if data and max(data) > 0x7F:
            from decoder.dsmr import binary_block_end

            if binary_block_end(data, 0, len(data)) > 0:
                raise DecodeError("DSMR telegram with an encrypted block after its header, as "
                                  "Polish Stoen meters send it: not read")
            try:
                if odd_utf8(data):  # what CPython refuses, refused on MicroPython as well
                    raise UnicodeError()
                data.decode()
            except UnicodeError:
                # DSMR text is ASCII, but the CRC (when there is one) vouched for these bytes:
                # a stray byte in the header line or a message must not cost the readings.
                # 0xFF is fill (a Hungarian meter's unused 1024-byte message): nothing.
                data = bytes(c if c < 0x80 else _UNREADABLE for c in data if c != _FILL)
                binary = True
    if not data.startswith(b"/"):
        raise DecodeError("DSMR telegram must start with /")
    if _Lines.one is None:  # one for every telegram: its attributes cost ~800 bytes
        _Lines.one = _Lines()
    _Lines.one.vouched = vouched is True
    readings = _Lines.one.walk(data)
    if binary and not readings:
        # Binary through and through, and its CRC holds: counted, so the dongle does not
        # report telegrams decoded while it publishes nothing.
        raise DecodeError("DSMR telegram of binary data, no readings")
    return readings, _meter_time(readings)


class _Lines:
    """The readings of a telegram's lines, read by index into its bytes.

    ``_spans`` holds [start, stop) of each line of the current reading (its
    OBIS line from the first "(", then continuation lines). A group runs
    from "(" to ")" (or the line's end); blanks before "(" and ")" do not
    count; other text between groups is dropped. Results pass through
    attributes: on MicroPython a method with more than 11 words of locals
    and stack gets its frame from the heap on every call.
    """

    one = None

    def __init__(self):
        self.data = None
        self._view = None
        self.readings = None
        self.key = None  # OBIS text of the current reading
        self.unit = None  # the unit of the value _value just read
        self.vouched = False  # a GCM tag held over the telegram (_checked)
        self._code = 0  # where C.D.E starts in key (after "A-B:")
        self._spans = []
        self.keys = []  # the first pass's keys, in order
        self.count = 0  # how many of them the second pass has used
        self._pos = 0  # index in _spans of the part groups are read from
        self._at = 0  # where the next group is looked for ...
        self._stop = 0  # ... up to here
        self._start = 0  # the group just read: data[_start:_end]
        self._end = 0

    def walk(self, data):
        """The readings of ``data``: a pass for the keys, so that the dict is
        made at its final size (grown key by key, MicroPython discards ~3 kB
        of tables for 40 readings), then one for the values."""
        self.data = data
        self._view = memoryview(data)
        self.readings = None
        # The one _Lines serves every telegram: what a telegram that raised (a MemoryError
        # in the second pass) left goes first, or the next one's values took its codes.
        del self.keys[:]
        self._scan()
        readings = self.readings = dict.fromkeys(self.keys)
        self._scan()
        del self.keys[:]
        self.data = self._view = self.readings = self.key = None  # the caller's now
        return readings

    def _scan(self):
        self.key = None
        self.count = 0
        pos = 0
        while pos < len(self.data):
            stop = _line_end(self.data, pos)
            self._line(_lstrip(self.data, pos, stop), _rstrip(self.data, pos, stop))
            pos = stop + 1

    def _line(self, start, stop):
        # A stripped line: a reading, the continuation of one, or nothing to keep.
        if start >= stop:
            return
        if self.key == _BLOCK:
            if stop - start == 1 and self.data[start] == _CLOSE:
                self.key = None
            return
        if stop - start == 1 and self.data[start] == _OPEN:
            # A "(" alone on its line opens a block, to a ")" alone: a Hungarian Holley
            # D545 sends last month's values there after 0-0:98.1.0 (esphome issues 3042,
            # 7019), under the codes of the current ones, whose place they took.
            self.key = _BLOCK
            return
        i = start if self.data[start] == _OPEN else self.data.find(b"(", start, stop)
        if i == start:
            if self.key is None:  # also while the first pass collects keys
                return
        elif i < 0 or not _plain_key(self.data, start, i):
            return
        elif self.readings is None:
            self.keys.append(self._obis(start, i))
            return
        else:
            self._begin()
            if self.readings.get(self.key) is not None:
                # A code sent twice keeps its first reading, as Holley's billing block and
                # Fluvius's empty channels (above, _store) already did: a Landis+Gyr ZMD's
                # readout sends 32.7.0(239.5*V), later 32.7.0(0000)(00-00-00 00:00), which
                # took the voltage's place. (None: the lines that continue it go too.)
                self.key = None
                return
        self._spans.append(i)
        self._spans.append(stop)
        self._store()

    def _obis(self, start, stop):
        # The key of a reading; F = 255 ("any") is dropped as obis.obis_text does.
        # IEC 62056-21 writes F after "*" ("1-0:1.8.0*255", EasyMeter Q3D): the same
        # code, so the same key ("1-0:1.8.0", "1-0:1.8.0.1" for F = 1).
        star = self.data.find(b"*", start, stop)
        if star >= 0:
            if stop - star == 4 and self.data.startswith(b"*255", star):
                return self._text(start, star)
            if self.data.count(b".", start, star) < 2 and self.data.find(b":", start, star) < 0:
                # C.D*F, no E for F to follow (a Landis+Gyr UH50's last-year values, 6.8*01):
                # as sent. Made "6.8.01", F took E's place: Home Assistant named it "tariff 1",
                # as 6.8.1 beside it, and the VSE layout sent 6.6*01 as the register 6.6.01.
                # A code with "A-B:" has its E in DSMR and readouts alike: "1-0:1.8*1" is a
                # "." a bit error turned "*" (bit 2) in a telegram without CRC, still read as
                # 1-0:1.8.1, where as written it stayed in the store as a reading of its own.
                return self._text(start, stop)
            return self._text(start, star) + "." + self._text(star + 1, stop)
        if stop - start > 4 and self.data.startswith(b".255", stop - 4) and self.data.count(b".", start, stop) == 3:
            stop -= 4
        return self._text(start, stop)

    def _begin(self):
        # The next reading of the second pass: its key from the first.
        self.key = self.keys[self.count]
        self.count += 1
        self._code = self.key.find(":") + 1
        self._spans.clear()

    def _store(self):
        count = self._groups()
        self._next()
        stamped = True  # False: a capture time that is none; None: an M-Bus channel's value without one
        if count == 1 and self.key.startswith(_CHANNEL_VALUE, self._code):
            stamped = None
        elif count == 2 and self._timestamp(True):  # the letter left out, as on the clock line
            stamped = _set_time(self.data, self._start)
            self._next()  # a capture time, then the reading
            count = 1
        elif count == _OLD_GAS_GROUPS and self.key.endswith(_OLD_GAS) and len(self.key) - self._code == len(_OLD_GAS):
            self._old_gas()
            return
        if count == 1:
            value = self._value()
            if (not stamped and value == 0 and (stamped is False or self.unit is None)
                    and self.key.startswith(_CHANNEL_VALUE, self._code)):
                # An M-Bus channel with no device behind it: Fluvius and Luxembourg meters
                # send 0-2:24.2.1(632525252525S)(00000.000), a reading that never was;
                # others a zero stamped with a clock never set, or a bare "(0)". Not a
                # month's peak with no peak yet, 1-0:1.6.0(632525252525W)(00.000*kW): 0 kW.
                if self.readings.get(self.key) is None:  # a real one before it stays
                    self.readings.pop(self.key, None)  # (or this empty line's twin took it)
                return
        else:
            value = self._several(count)
        self.readings[self.key] = (value, self.unit)

    def _several(self, count):
        # The values of a line of ``count`` groups, the first just read: a list (no unit
        # kept), or the reading when a capture time follows it (a Belgian Iskra MIE5T
        # writes 1-0:1.6.0(08.796*kW)(260102010000), the month's peak, then its moment).
        # Apart from _store: one more local there put its frame on the heap, per line.
        value = [self._value()]
        unit = self.unit
        for _ in range(count - 1):
            self._next()
            if count == 2 and self._timestamp(_MINUTES):
                self.unit = unit
                return value[0]
            value.append(self._value())
        self.unit = None
        return value

    def _old_gas(self):
        # Groups 1-5 (capture time, status, period, count, code) go; 6 is the unit.
        for _ in range(_OLD_GAS_GROUPS - 2):
            self._next()
        unit = _unit(self.data, self._start, self._end) or self._text(self._start, self._end)
        self._next()
        self.readings[self.key] = (self._value(), unit)

    def _groups(self):
        # How many groups the reading has; the next _next reads the first.
        count = 0
        self._pos = -2
        self._at = self._stop = 0
        while self._next():
            count += 1
        self._pos = -2
        self._at = self._stop = 0
        return count

    def _next(self):
        # The next group into _start.._end; False after the last.
        while True:
            if self._at >= self._stop:
                self._pos += 2
                if self._pos >= len(self._spans):
                    return False
                self._at = self._spans[self._pos]
                self._stop = self._spans[self._pos + 1]
            elif self._part(self.data.find(b")", self._at, self._stop)):
                return True

    def _part(self, close):
        # The text up to the next ")": a group when it starts with "(".
        if close < 0:
            close = self._stop
        start = _lstrip(self.data, self._at, close)
        self._at = close + 1
        if start < close and self.data[start] == _OPEN:
            if start + 1 < close and self.data[start + 1] == _OPEN:
                start += 1  # "((ER11))" of an Iskra 2M550T: the inner ")" closes the group
            self._start = start + 1
            self._end = _rstrip(self.data, start + 1, close)
            return True
        return False

    def _value(self):
        """The group just read -> value: number*unit, timestamp, hex text, text, number; unit in .unit."""
        self.unit = None
        star = self.data.find(b"*", self._start, self._end)
        if star >= 0:
            # A unit ends at a ",": a meter writes its fuse limits in one group,
            # "1-1:31.4.0(100.0*A,-100.0*A)" (dsmr_parser issue 108), the unit read
            # "A,-100.0*A". The first value in its unit is the reading.
            # So does a unit that "&" follows: a heat meter's readout writes two values in
            # one group, 9.4(098.5*C&096.1*C) (a Landis+Gyr UH50's flow and return
            # temperatures), whose unit read "C&096.1*C".
            comma = star + 1
            while comma < self._end and self.data[comma] != 0x2C and self.data[comma] != 0x26:
                comma += 1
            self.unit = _unit(self.data, star + 1, comma) or self._text(star + 1, comma)
            self._end = _rstrip(self.data, self._start, star)
        elif self._timestamp():
            real = (_set_time if self.key == _CLOCK else _real_time)(self.data, self._start)
            return self._stamp() if real else None
        elif self._start == self._end:
            return ""  # what every kind of value below makes of nothing
        elif self._is_hex_text():
            return _hex_text(self._text(self._start, self._end))
        elif self._is_text():
            return self._text(self._start, self._end)
        elif self.key == _CLOCK and self._end - self._start == _COSEM_HEX:
            return _cosem_clock(self._text(self._start, self._end))
        number = self._number()
        return self._glued(number) if type(number) is str else number

    def _glued(self, text):
        # Some meters' IEC 62056-21 readouts glue the unit to the number, no "*" between
        # ("001.322kW", an Iskra MT382's optical port, dsmr_parser issue 81): a number
        # followed by one of _UNITS reads as it would with the "*"; other text as sent.
        end = self._end
        i = at = 0
        while i < len(_UNITS):
            self._end = end - len(_UNITS[i])
            if self._end > self._start and _same(self.data, self._end, end, at):
                # A blank before the unit: Iskra MT171s write "(024562 kWh)".
                self._end = _rstrip(self.data, self._start, self._end)
                number = self._number()
                # "A" is a hex digit too: glued to a whole number it is hex text (a Hager
                # eHZ's chip temperature 1-0:96.50.0*5(1A), an eBZ's operating seconds in
                # hex), no current. Amperes glue to a decimal fraction or follow a blank.
                if type(number) is float or type(number) is int and (
                        self.data[self._end] <= 0x20 or self.data[end - 1] != 0x41):
                    self.unit = _UNITS[i]
                    return number
            at += len(_UNITS[i]) + 1
            i += 1
        self._end = end
        return text

    def _is_text(self):
        # A code of _TEXT (five characters at most: C.D.E), an error register (_ERRORS), a
        # status word (_STATUS), a time of operation (_OPERATING) or a Hager's hex (_HAGER_HEX).
        code = self._code
        if self.key.startswith("F", code) or self.key.startswith(_ERRORS, code) or self.key.startswith(_STATUS, code):
            return True
        if self.key.startswith(_OPERATING, code) or self.key.startswith(_HAGER_HEX, code):
            return True
        if self.key.startswith("C.5", code) and (len(self.key) == code + 3 or self.key[code + 3] == "."):
            return True  # the status word in letters (not C.51 and up)
        if len(self.key) - code > len(_TEXT[0]):
            return False
        for text in _TEXT:
            if self.key.startswith(text, code):
                return True
        return False

    def _is_hex_text(self):
        # The OBIS codes whose value is text sent as hex digits (see _HEX_ID).
        code = self._code
        if self.key.startswith(_TARIFF, code):
            text = self._text(self._start, self._end)
            return _hex_text(text) != text
        return self.key.startswith(_HEX_ID, code) or self.key.startswith(_HEX_MESSAGE, code) or self.key == _HEX_DEVICE_NAME

    def _text(self, start, stop):
        # str() of a view copies once (bytes.decode() of a slice copies twice).
        return str(self._view[start:stop], "utf-8") if start < stop else ""

    def _number(self):
        """int without a decimal point, float with one; other text stays text."""
        # Before a unit, a sign may be "+", or a space where it goes (IEC 62056-21 readouts
        # of Landis+Gyr ZMD meters: "( 001.67*kW)"); read as text, the value went out as
        # " 001.67" with its unit, a state Home Assistant refuses. Without a unit such
        # text stays as sent.
        digits = self._start if self.unit is None else _lstrip(self.data, self._start, self._end)
        minus = digits < self._end and self.data[digits] == _MINUS
        if minus or self.unit is not None and digits < self._end and self.data[digits] == _PLUS:
            digits += 1
        dot = self.data.find(b".", digits, self._end)
        value = _digits(self.data, digits, self._end if dot < 0 else dot)
        if value >= 0 and dot >= 0:
            value = self._float(digits, dot)
        if value is None or value < 0:
            if self.unit is not None and self._start < self._end:
                self._checked()
            return self._text(self._start, self._end)
        return -value if minus else value

    def _checked(self):
        # A value with a unit that is no number, "00012#.345*kWh" or "0001 2.345*kWh": DSMR
        # 5.0.2 writes a quantity as digits and one point (its formats F and I), IEC 62056-21
        # a value in a unit as a number. Where a CRC after the "!", a readout's ETX and BCC or
        # the GCM tag of a ciphered telegram (a Smarty's, whose text need carry no CRC) vouched
        # for the text, it is the meter's, kept as sent. Without one (DSMR 2.2 and 3,
        # a D0 port's push, a readout without STX) it is a bit error on the line ("3" 0x33
        # lost bit 4: "#"), and the telegram is refused, as one whose ")" became "!" is
        # (dsmr._check_text): published as text, the reading broke Home Assistant's numeric
        # sensor and turned from a number into a string for one telegram, and a digit that
        # turned into another digit beside it would pass unseen.
        # A value of no digit at all ("-----*kW", "--.---*kW") is a placeholder the meter
        # writes for a register it does not have: refused, every telegram of such a meter
        # would be lost, where a bit error leaves a number's other digits standing.
        for i in range(self._start, self._end):
            if 0x30 <= self.data[i] <= 0x39:
                break
        else:
            return
        at = self.data.rfind(b"!") + 1
        if self.vouched or self.data.find(b"\x03") > 0 or 0 < at < len(self.data) and self.data[at] != 0x0D and self.data[at] != 0x0A:
            return
        raise DecodeError("DSMR telegram without a CRC holds a value that is no number before its unit, %s(%s*%s): "
                          "a bit error on the line" % (self.key, self._text(self._start, self._end), self.unit))

    def _float(self, start, pos):
        # data[start:_end], a "." at pos -> float; None when the fraction is not digits.
        frac = _digits(self.data, pos + 1, self._end)
        if frac < 0:
            return None
        if self._end - start > _EXACT_DIGITS:
            return float(self._text(start, self._end))
        scale = 10 ** (self._end - pos - 1)
        return (_digits(self.data, start, pos) * scale + frac) / scale

    def _timestamp(self, bare=False):
        # The group just read is YYMMDDhhmmss + S/W, or on the clock's line the 12 digits
        # alone: Wallonia's Iskra IE.5 (ORES) sends no DST letter. ``bare``: the 12 digits
        # alone anywhere (a capture time after its reading, see _several); _MINUTES: or a
        # time to the minute, YYMMDDhhmm, as a Landis+Gyr ZMD's readout writes its demand
        # peak 1-1:1.6.1(10.102*kW)(2104070015), which read as a list without the unit.
        # (Not _real_time's month lengths: split to share them, it took one function name
        # too many for a DSMR gateway serving /config, docs/memory.md pass 34.)
        t = self._start
        if bare == _MINUTES and self._end - t == _DASHED and self.data[t + 2] == 0x2D:
            # Written "17-11-02 08:30", as Landis+Gyr ZMD readouts do: the same check.
            return (self.data[t + 5] == 0x2D and self.data[t + 8] == 0x20 and self.data[t + 11] == 0x3A
                    and _digits(self.data, t, t + 2) >= 0
                    and 1 <= _digits(self.data, t + 3, t + 5) <= 12 and 1 <= _digits(self.data, t + 6, t + 8) <= 31
                    and 0 <= _digits(self.data, t + 9, t + 11) < 24 and 0 <= _digits(self.data, t + 12, t + 14) < 60)
        if bare == _MINUTES and self._end - t == _STAMP - 3:
            return (_digits(self.data, t, t + _STAMP - 3) >= 0 and 1 <= _two(self.data, t + 2) <= 12
                    and 1 <= _two(self.data, t + 4) <= 31 and _two(self.data, t + 6) < 24
                    and _two(self.data, t + 8) < 60)
        if self._end - t == _STAMP - 1 and (bare or self.key == _CLOCK):
            return _digits(self.data, t, t + 12) >= 0
        return self._end - t == _STAMP and _digits(self.data, t, t + 12) >= 0 and self.data[t + 12] | 0x20 in b"sw"

    def _stamp(self):
        """YYMMDDhhmmss + S/W -> ISO 8601 with the CET/CEST offset (digits copied into _ISO);
        without the letter, local time without an offset."""
        t = self._start
        for i in range(6):
            _ISO[_ISO_DIGITS[i]] = self.data[t + 2 * i]
            _ISO[_ISO_DIGITS[i] + 1] = self.data[t + 2 * i + 1]
        if self._end - t < _STAMP:
            return str(memoryview(_ISO)[:_ISO_LOCAL], "utf-8")
        _ISO[_ISO_HOUR] = 0x32 if self.data[t + 12] | 0x20 == 0x73 else 0x31  # S: +02:00, W: +01:00 (either case)
        return str(_ISO, "utf-8")


# Days in each month (February as in a leap year: the century is not sent).
_MONTH_DAYS = const(b"\x1f\x1d\x1f\x1e\x1f\x1e\x1f\x1f\x1e\x1f\x1e\x1f")


def _real_time(data, t):
    # Whether the YYMMDDhhmmss at t is a date and time that exist. Fluvius meters write
    # 632525252525W for a month with no peak yet, others 000000000000W or 123412341234W
    # for a clock not set: the value is null, not "2063-25-25T25:25:25".
    month = _two(data, t + 2)
    day = _two(data, t + 4)
    if month == 2 and day == 29 and _two(data, t) % 4:
        return False  # YY is 20YY, where the leap years are those divisible by 4
    return (1 <= month <= 12 and 1 <= day <= _MONTH_DAYS[month - 1] and _two(data, t + 6) < 24
            and _two(data, t + 8) < 60 and _two(data, t + 10) < 60)


def _plain_key(data, start, stop):
    # Whether data[start:stop], before a "(", is a code to keep: a digit first and printable
    # ASCII without quotes or backslash, or a letter code of IEC 62056-61's shape (see
    # _CODE_LETTERS). A telegram without a CRC (DSMR 2.2, 3) that lost a bit can turn "2"
    # into '"' or "7" into "'": such a code would break the snapshot's JSON and Home
    # Assistant's template for good, since the store keeps every code it was sent. The
    # line is skipped like any garbled one. (One function for both: a new function name
    # took a DSMR gateway serving /config past its name pool's next block.)
    if not 0x30 <= data[start] <= 0x39:
        if data[start] not in _CODE_LETTERS or stop - start < 2 or data[start + 1] not in b".F":
            # "F" alone is a code too: a Landis+Gyr UH50 heat meter's readout sends its error
            # number so, "F(0)9.20(66153690)...", and it was lost.
            return stop - start == 1 and data[start] == 0x46
        for i in range(start, stop):
            if data[i] not in _LETTER_CODE:
                return False
        return True
    for i in range(start, stop):
        c = data[i]
        if c < 0x20 or c > 0x7E or c == 0x22 or c == 0x27 or c == 0x5C:
            return False
    return True


def _set_time(data, t):
    # A real time that is no clock never set's: 1 January 1970 or 2000. An Iskra AM550's
    # empty M-Bus channel sends 0-1:24.2.1(700101010000W)(00000000), a Landis+Gyr E350's
    # (000101010000W)(0000000000), an XMX5 whose clock was never set 0-0:1.0.0(000101000000W).
    # (Elsewhere such a time stays: a power failure log's unused entry is 000101000001W.)
    year = _two(data, t)
    if (year == 0 or year == 70) and _two(data, t + 2) == 1 and _two(data, t + 4) == 1:
        return False
    return _real_time(data, t)


def _two(data, at):
    return (data[at] - 0x30) * 10 + data[at + 1] - 0x30


def _line_end(data, pos):
    # LF ends a line, and so does a CR alone: a few serial bridges and old meters
    # send only CR, and their telegram (CRC and all) would read as one line.
    lf = data.find(b"\n", pos)
    if lf < 0:
        lf = len(data)
    cr = data.find(b"\r", pos, lf)
    if cr >= 0:
        lf = cr
    # So does a ")" that a code and its "(" follow: an IEC 62056-21 data line may hold
    # several data sets ("6.8(0029.055*MWh)6.26(01589.28*m3)", a heat meter's readout),
    # where only the first was read. Not a ")" in a message's text, "(jan. 12.)8-12 oraig
    # (…)": no blank in a code. (The ")" is left out: a group also ends at its line's end.)
    cr = data.find(b")", pos, lf - 1)
    while cr >= 0:
        pos = cr + 1
        while pos < lf and (data[pos] in _LETTER_CODE or data[pos] == 0x2D or data[pos] == 0x3A):
            pos += 1  # (0x2D "-", 0x3A ":": "1-0:")
        if pos > cr + 1 and pos < lf and data[pos] == _OPEN:
            return cr
        cr = data.find(b")", cr + 1, lf - 1)
    return lf


def _digits(data, start, stop):
    # The number data[start:stop] spells in decimal; -1 when empty or not all digits.
    if start >= stop:
        return -1
    value = 0
    for i in range(start, stop):
        if not 0x30 <= data[i] <= 0x39:
            return -1
        value = value * 10 + data[i] - 0x30
    return value


def _unit(data, start, stop):
    # The entry of _UNITS that data[start:stop] spells, or None.
    i = at = 0  # at: where _UNITS[i] is in _UNIT_TEXT
    while i < len(_UNITS):
        if len(_UNITS[i]) == stop - start and _same(data, start, stop, at):
            return _UNITS[i]
        at += len(_UNITS[i]) + 1
        i += 1
    return None


def _same(data, start, stop, at):
    for i in range(start, stop):
        if data[i] != _UNIT_TEXT[at + i - start]:
            return False
    return True


def _lstrip(data, start, stop):
    # (STX: a readout's data block opens with it, dsmr.text_end.)
    while start < stop and data[start] in b" \t\n\r\x0b\x0c\x02":
        start += 1
    return start


def _rstrip(data, start, stop):
    while stop > start and data[stop - 1] in b" \t\n\r\x0b\x0c":
        stop -= 1
    return stop


def _meter_time(readings):
    when = readings.get(_CLOCK)
    if when is not None:
        return _clock_time(when[0])
    for media in _CLOCK_MEDIA:
        day = readings.get(media + _DATE)
        if day is not None:
            day = day[0]
            time = readings.get(media + _TIME, ("",))[0]
            if not isinstance(day, str) or not isinstance(time, str):
                return None  # the values of a garbled line
            # Written "21-01-04" and "23:16:43" (Landis+Gyr ZMD, Siemens TD-3511), or after
            # a VDEW season digit, 0 winter and 1 summer: "1190714", "1185411" (EMH LZQJ).
            day = day.replace("-", "")
            time = time.replace(":", "")
            if len(day) == 7 and day[0] <= "1":
                day = day[1:]
            if len(time) == 7 and time[0] <= "1":
                time = time[1:]
            if len(day) == 6 and len(time) == 6 and day.isdigit() and time.isdigit():
                return "20%s-%s-%sT%s:%s:%s" % (day[0:2], day[2:4], day[4:6], time[0:2], time[2:4], time[4:6])
            return None
    return None


def _clock_time(value):
    # The clock as ISO 8601, or None. _stamp wrote the DSMR form already; a Danish NES
    # meter writes "20240111 09:35:00" (no DST letter: no offset either).
    if not isinstance(value, str):
        return None
    if len(value) > 18 and value[4] == "-" and value[10] == "T":
        return value
    if len(value) == 17 and value[8] == " " and value[:8].isdigit() and value[11] == ":" and value[14] == ":":
        return "%s-%s-%sT%s" % (value[0:4], value[4:6], value[6:8], value[9:])
    return None


def _cosem_clock(text):
    # A clock written as a COSEM date-time in hex (12 bytes, deviation and DST status
    # included): an "ESR5" meter sends 0-0:1.0.0(07E8061C050A2B2B00FF8880), dsmr_parser
    # issue 160. Anything else stays as sent.
    from decoder.cosem_datetime import datetime_text, is_datetime

    raw = _from_hex(text)
    return datetime_text(raw) if raw is not None and is_datetime(raw) else text


def _hex_text(text):
    """Hex digits that spell printable text (ASCII, or UTF-8 past it: a message with
    accents) become that text; the rest stays as sent."""
    if len(text) % 2 or not text:
        return text
    raw = _from_hex(text) if text.strip("0123456789abcdefABCDEF") else bytes.fromhex(text)
    if raw is None:
        return text
    # An id padded with blanks or NUL bytes to its field's width (a Landis+Gyr E350's
    # "12693072" and eight 0x20) is the id, as a DLMS meter's NUL padding is. Stripped
    # as bytes: str.rstrip() takes Unicode blanks (U+00A0) on CPython and not on
    # MicroPython. One character left is no padded text: a tariff "3000" is the number.
    stripped = raw.rstrip(b" \x00")
    raw = stripped if len(stripped) > 1 else raw
    for c in raw:
        if c < 0x20 or c > 0x7E:
            return utf8_text(raw) or text if c > 0x7F else text
    return raw.decode().rstrip()


def _from_hex(text):
    # bytes.fromhex of text that is not only hex digits (it may skip blanks);
    # None when it fails. Apart: the try would put _hex_text's frame on the heap.
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None
