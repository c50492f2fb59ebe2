"""meterlink decoder: the facade the gateway and the CLI use.

Bytes from a meter's customer port go in, telegrams of OBIS readings come out.
The layers below are named after the standards they implement::

    chunk ─► stream.Framer      HDLC (IEC 62056-46) | M-Bus (EN 13757-2) |
                                DSMR P1 ASCII | bare APDUs
          ─► apdu.ApduReader    xDLMS APDUs, General Block Transfer,
                                ciphering (IEC 62056-5-3) via gcm.py
          ─► obis.readings      A-XDR body (IEC 62056-6-2) -> OBIS (IEC 62056-6-1)
             dsmr.parse         DSMR 5.0.2 telegram lines   -> OBIS

``Decoder.feed`` never raises on meter data: every bad frame, APDU or body is
counted in ``Decoder.errors`` (an ``errors.ErrorLog``) and decoding carries on
with the next one. No I/O, no clock: this runs unchanged on the ESP32, the
MicroPython unix port and CPython.
"""

from collections import namedtuple

from decoder.compat import const
from decoder.errors import ErrorLog

# AES-128 keys (GUEK, GAK) are 16 bytes, written as 32 hex digits.
_KEY_BYTES = const(16)
_DATE_AND_TIME = const(19)  # len("2024-03-01T12:00:00"): a date and a time, offset or not

# The clock object (IEC 62056-6-1 0-0:1.0.0): the meter's time when the
# notification header carries no date-time of its own.
_CLOCK = const("0-0:1.0.0")


# One decoded push: read-only attributes over one tuple (~60 bytes per push on
# MicroPython; a class instance with five attributes costs ~280, and the class
# with five properties ~670 bytes of resident RAM, the namedtuple type ~300).
#   meter_time     str ISO 8601 or None
#   system_title   str hex or None
#   frame_counter  int or None
#   readings       dict OBIS text -> (value, unit or None)
#   tag_checked    True / False / None (not ciphered)
Telegram = namedtuple("Telegram", ("meter_time", "system_title", "frame_counter", "readings", "tag_checked"))


def parse_key(key, name="key"):
    """A 16-byte key from bytes or 32 hex digits (None stays None).

    Raises ValueError whose message names the option, so the CLI and the
    configuration page can say which key is wrong.
    """
    if key is None:
        return None
    if isinstance(key, str):
        text = key.strip()
        if len(text) != 2 * _KEY_BYTES:
            raise ValueError("%s must be %d hex digits, got %d characters" % (name, 2 * _KEY_BYTES, len(text)))
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise ValueError("%s must be %d hex digits (0-9, a-f)" % (name, 2 * _KEY_BYTES))
    key = bytes(key)
    if len(key) != _KEY_BYTES:
        raise ValueError("%s must be %d bytes, got %d" % (name, _KEY_BYTES, len(key)))
    return key


class Decoder:
    """Streaming decoder: ``feed(chunk)`` returns the telegrams completed by it."""

    def __init__(self, key=None, auth_key=None, profile="auto", lists=None, errors=None):
        # The layers are imported here, not at module level, so that
        # `import decoder.errors` (every layer does it) never drags in the
        # whole pipeline and a device can import parts of the package alone.
        from decoder import apdu, obis, profiles, stream

        lists = _check_names(profiles, profile, lists)
        self._obis = obis
        self._dsmr_parse = None  # dsmr.parse, loaded by the first DSMR telegram
        self._kind_dsmr = stream.KIND_DSMR
        self.errors = errors if errors is not None else ErrorLog()
        self.telegrams = 0
        self.profile = profile
        self.lists = lists
        self._framer = stream.Framer(self.errors)
        self._out = None  # the list feed() is filling
        self._title = None
        self._title_text = None
        self._reader = apdu.ApduReader(
            self.errors, key=parse_key(key, "key"), auth_key=parse_key(auth_key, "auth_key")
        )

    def feed(self, chunk):
        """Take any number of bytes; return the list of Telegrams they completed.

        The framer copies from ``chunk`` only as far as its bounded buffer
        allows and keeps the rest in view; the loop empties it before this
        returns, so the caller may reuse ``chunk`` (a UART buffer) at once.
        """
        # The decode loop: frame -> APDUs -> readings, one error never stops
        # it. Split into small methods with the output list in self._out:
        # MicroPython allocates the frame of a call with more than 11 locals
        # and stack slots on the heap.
        out = self._out = []
        errors = self.errors
        counted = errors.tally
        self._framer.feed(chunk)
        item = self._framer.next()
        while item is not None:
            if errors.tally != counted:
                # The framer counted a frame it lost on the way to this payload.
                self._reader.lost()
            if item[0] == self._kind_dsmr:
                self._emit(self._dsmr(item[1], None))
            else:
                # The framer's payload is ours to overwrite: decrypted in place.
                self._drain(self._reader.push(item[1], True))
            counted = errors.tally
            item = self._framer.next()
        if errors.tally != counted:
            self._reader.lost()
        self._out = None
        return out

    def _drain(self, items):
        # The notifications of one payload (the list is valid until the
        # reader's next push).
        for index in range(len(items)):
            self._emit(self._notification(items[index]))

    def _emit(self, telegram):
        # telegram: a new Telegram, or None (nothing decoded).
        if telegram is not None:
            self.telegrams += 1
            self._out.append(telegram)

    def _title_hex(self, title):
        # A meter keeps its system title: spell it in hex once, not per push.
        if title is None:
            return None
        if title != self._title:
            self._title = bytes(title)
            self._title_text = self._title.hex()
        return self._title_text

    def _notification(self, note):
        # -> a Telegram, or None when the body is bad (counted).
        if note.dsmr:
            return self._dsmr(note.body, note)
        values = self._checked(note)
        if values is None:
            return None
        when = self._header_time(note.datetime)
        if when is None or len(when) < _DATE_AND_TIME:
            # No header time, or only its date or its time: the body's clock may tell both.
            when = _clock_text(values) or when
        return Telegram(when, self._title_hex(note.system_title), note.frame_counter, values, note.tag_checked)

    def _header_time(self, raw):
        # The notification's own date-time, when it is one: all zeros (a clock never
        # set) would read as "00:00:00" and hide the body's clock.
        if raw is None or not self._obis.is_datetime(raw):
            return None
        return _set(self._obis.datetime_text(raw))

    def _checked(self, note):
        # The with block and the call are split: together they would make
        # a frame too large for the stack (see errors.ErrorLog).
        with self.errors:
            return self._decoded(note)
        return None

    def _decoded(self, note):
        return self._obis.readings(note.body, self.profile, note.system_title, self.lists)

    def _dsmr(self, text, note):
        # -> a Telegram, or None; ``note`` is the DLMS envelope or None.
        parsed = self._parsed(text, None if note is None else note.tag_checked is True)
        if parsed is None:
            return None
        when = parsed[1] if parsed[1] is not None else _clock_text(parsed[0])
        if note is None:
            return Telegram(when, None, None, parsed[0], None)
        return Telegram(when, self._title_hex(note.system_title), note.frame_counter, parsed[0], note.tag_checked)

    def _parsed(self, text, vouched):
        # -> dsmr.parse's (readings, meter time), or None (error counted). ``vouched``: None
        # off the line (the framer checked a CRC, if any), True when the GCM tag held.
        if self._dsmr_parse is None:  # DLMS meters never load dsmr.py
            from decoder import dsmr

            self._dsmr_parse = dsmr.parse
        with self.errors:
            return self._dsmr_parse(text, vouched)
        return None


def _check_names(profiles, profile, lists):
    # Checked once here so that a typo in the configuration is a clear
    # ValueError at start-up, never an exception out of feed() on every push.
    # -> the list names; a list the user defines ("name profile codes...",
    # decoder/lists_user.py) is added to the table and stands for its name.
    if profile != "auto" and not profiles.known(profile):
        raise ValueError("profile: unknown meter profile %r" % (profile,))
    if lists:
        from decoder.lists import names  # only a meter with named lists loads it here

        lists = names(lists)
    return lists


def _clock_text(values):
    # The clock reading when it is a date and/or time as the readers write them
    # ("2024-03-01T12:00:00+01:00", "12:00:00"): a clock they could not read stays
    # hex or as sent ("", a DSMR meter's garbled line), and is no meter time.
    clock = values.get(_CLOCK)
    if clock is None or not isinstance(clock[0], str) or len(clock[0]) < 8:
        return None
    text = clock[0]
    return _set(text) if text[4] == "-" or text[2] == ":" else None


def _set(text):
    # A clock never set counts from 1 January 2000 (or 1970): no meter time, as on DSMR
    # (dsmr_parse._set_time). Kamstrup's example push (node-dsmr-parser) has a header
    # time 2000-01-01 22:33, flagged invalid; its reading still shows what was sent.
    # startswith, not a slice: this runs on every push, and a slice is a new string. The
    # "T" keeps the literals past 10 characters, which the compiler would intern: a
    # decoder process holds ~620 names, and the next qstr pool costs 7 kB at once.
    if text is None or text.startswith("2000-01-01T") or text.startswith("1970-01-01T"):
        return None
    return text


def to_json(obj):
    """JSON text for readings-shaped data, identical on MicroPython and CPython.

    ``json.dumps`` is not used for numbers: MicroPython prints floats with 17
    digits (0.941 becomes 0.9409999999999999), so floats are written with 15
    significant digits, which round-trips every value a meter register holds
    (``float_text``; fewer on a single-precision ESP32 build).
    NaN and infinities (possible in float32 registers) are not JSON: null.
    """
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, float):
        return float_text(obj) if finite(obj) else "null"
    if isinstance(obj, dict):
        return "{%s}" % ", ".join("%s: %s" % (to_json(str(k)), to_json(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return "[%s]" % ", ".join(to_json(v) for v in obj)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return to_json(bytes(obj).hex())
    import json

    return json.dumps(str(obj))


# ESP32 builds of MicroPython compute in single precision (MICROPY_FLOAT_IMPL_FLOAT):
# there 1e-9 vanishes next to 1, and 15 digits would print the float's binary noise.
_SINGLE = 1.0 + 1e-9 == 1.0


def float_text(number):
    """A finite float as JSON text: 15 significant digits of a double, or on a
    single-precision build the shortest text that reads back as the same float
    (235.7, where "%.15g" would print the float32 nearest to it digit by digit)."""
    if not _SINGLE:
        # Near the largest double 15 digits round up past it: 1.79769313486232e+308 reads
        # back as Infinity (JSON.parse, Python's json), which no finite value may. Nine
        # digits stay below it (the single-precision form below: no name more to intern).
        return "%.15g" % number if -1e308 < number < 1e308 else "%.9g" % number
    # The tries written out: a tuple of the forms is ~100 B of heap.
    text = "%.6g" % number
    if _reads_back(text, number):
        return text
    text = "%.7g" % number
    if _reads_back(text, number):
        return text
    text = "%.8g" % number
    return text if _reads_back(text, number) else "%.9g" % number


def _reads_back(text, number):
    return float(text) == number


def finite(number):
    """False for NaN and the infinities a float32 register can hold: no JSON number."""
    return number == number and number - number == 0


def telegram_json(t):
    """One line of JSON: meter_time, system_title, frame_counter, readings (the CLI's
    line; decoder/jsonline.py, which the gateway, writing its own, never loads)."""
    from decoder.jsonline import telegram_json

    return telegram_json(t)
