"""A-XDR data: the COSEM ``Data`` CHOICE of IEC 62056-6-2 (clause 4.1.5),
encoded with the A-XDR rules of IEC 61334-6.

Every value starts with a one-byte tag; what follows depends on the tag::

    tag  type                  content
    00   null-data             -
    01   array                 LEN, then LEN tagged values
    02   structure             LEN, then LEN tagged values
    03   boolean               1 byte (0 = false)
    04   bit-string            LEN = number of BITS, then ceil(LEN/8) bytes, MSB first
    05   double-long           int32        06  double-long-unsigned  uint32
    09   octet-string          LEN, bytes   0A  visible-string        LEN, ASCII
    0C   utf8-string           LEN, UTF-8   0D  bcd                   1 byte
    0F   integer               int8         10  long                  int16
    11   unsigned              uint8        12  long-unsigned         uint16
    13   compact-array         type description, then LEN + packed untagged values
    14   long64                int64        15  long64-unsigned       uint64
    16   enum                  uint8        17  float32 / 18 float64 (IEEE 754)
    19   date-time             12 bytes     1A  date 5 bytes  1B  time 4 bytes

All multi-byte numbers are big-endian. LEN is the A-XDR length: one byte below
0x80, else 0x81..0x84 followed by that many length bytes (BER style).

``decode`` treats a value that runs past the end of the buffer as corrupt
(``AxdrError``): it is only called on complete frames. ``skip`` is for a stream
that is still arriving and says ``Incomplete`` instead.
"""

import struct

from decoder.compat import const
from decoder.errors import AxdrError, Incomplete

_NULL = const(0x00)
_ARRAY = const(0x01)
_STRUCTURE = const(0x02)
_BOOLEAN = const(0x03)
_BIT_STRING = const(0x04)
_OCTET_STRING = const(0x09)
_COMPACT_ARRAY = const(0x13)
DATE_TIME = const(0x19)  # Stamp.tag values
DATE = const(0x1A)
_TIME = const(0x1B)
_LAST_TAG = const(0x1B)

# decode recurses once per level. Real pushes nest four deep (body structure
# > capture list > entry structure > value), and every public capture reads with
# a bound of 5; 8 leaves room for a profile's rows or compact arrays of structures
# while a hostile "01 01 01 01 ..." cannot exhaust the small ESP32 C stack (the
# MicroPython task's 16 kB, checked at 15: ports/esp32/main.c). Measured on the
# 64-bit unix port: ~2.5 kB of C stack a level, 31 kB at the former bound of 12,
# more than that task holds even at half the size, with the reader's and asyncio's
# frames below it: a deep push was the stack check's RuntimeError there, not this
# module's clear error. (skip is iterative and needs no bound.)
MAX_DEPTH = const(8)

# Structures of up to 4 members (an OBIS entry of 3, scaler-unit of 2, a
# capture object definition of 4) are written as tuple displays; longer
# ones go through a list.
_SHORT = const(4)

# A length needs at most four bytes: 0x84 + uint32 (IEC 61334-6 allows more,
# but no COSEM value is longer than 4 GiB and no ESP32 could hold it).
_MAX_LENGTH_BYTES = const(4)

# Content size by tag: 0 = no content (null), 0xFF = variable (length or
# nested values follow), 0xFE = not a Data tag (7, 8, 11 and 14 are unused).
_SIZE = bytes((
    0, 0xFF, 0xFF, 1, 0xFF, 4, 4, 0xFE, 0xFE, 0xFF, 0xFF, 0xFE, 0xFF, 1,
    0xFE, 1, 2, 1, 2, 0xFF, 8, 8, 1, 4, 8, 12, 5, 4,
))
_VARIABLE = const(0xFF)
_UNUSED = const(0xFE)

# Integers of 1, 2 or 4 bytes, read by shifting (no struct tuple on the
# heap), as bit masks over the tag (a dict held ~200 bytes of RAM): bit t
# set when tag t is one, and when it is signed. Unsigned: double-long-unsigned
# 06, bcd 0D, unsigned 11, long-unsigned 12, enum 16; signed: double-long 05,
# integer 0F, long 10.
_INTS = const(1 << 0x05 | 1 << 0x06 | 1 << 0x0D | 1 << 0x0F | 1 << 0x10 | 1 << 0x11 | 1 << 0x12 | 1 << 0x16)
_SIGNED = const(1 << 0x05 | 1 << 0x0F | 1 << 0x10)

# struct format of the other numeric tags.
_FORMAT = {0x14: ">q", 0x15: ">Q", 0x18: ">d"}
_FLOAT32 = const(0x17)


# Date-time, date and time values are axdr_stamp.Stamp objects: that module
# is loaded by the first one (most meters never send one), and reached from
# here as axdr.Stamp, axdr.DateTime, axdr.Date, axdr.Time (PEP 562; on
# MicroPython MICROPY_MODULE_GETATTR).
_stamps = None  # the axdr_stamp module once loaded


def _stamp_module():
    global _stamps
    if _stamps is None:  # an import statement per value would allocate each time
        _stamps = __import__("decoder.axdr_stamp").axdr_stamp
    return _stamps


def __getattr__(name):
    if name == "Stamp" or name == "DateTime" or name == "Date" or name == "Time":
        return getattr(_stamp_module(), name)
    raise AttributeError(name)


def is_stamp(value):
    """Whether ``value`` is a date-time, date or time (loads nothing to tell)."""
    return _stamps is not None and type(value) is _stamps.Stamp


def text(raw):
    """Bytes of a visible/utf8 string as str; undecodable bytes become '?'
    (a meter's odd character must not cost the whole telegram)."""
    try:
        if odd_utf8(raw):
            raise UnicodeError()
        return str(raw, "utf-8")
    except UnicodeError:
        return "".join([chr(b) if 32 <= b < 127 else "?" for b in raw])


def utf8_text(raw):
    """``raw`` as text when it is UTF-8 (RFC 3629) holding no control character, else None.

    For octet-strings past ASCII, which name no character set: a message with accents
    ("Coupure pr\u00e9vue") reads as it is written, while binary bytes rarely form valid
    UTF-8 and printable text both, and text in a code page (Latin-1) stays hex."""
    if odd_utf8(raw):
        return None
    try:
        text = str(raw, "utf-8")
    except UnicodeError:
        return None
    for ch in text:
        if ch < " " or "\x7f" <= ch <= "\x9f":
            return None
    return text


def odd_utf8(raw):
    """Whether ``raw`` holds a form RFC 3629 forbids that MicroPython's str() lets through
    (CPython's refuses it): an overlong form, a surrogate, a code point past U+10FFFF.
    Let through, it went out raw in the state's JSON, which then was no UTF-8 at all, and
    Home Assistant dropped every state message while the store held the text."""
    if not raw or max(raw) < 0xC0:
        return False
    last = len(raw) - 1
    for i in range(last + 1):
        lead = raw[i]
        if lead < 0xC0:
            continue
        if lead < 0xC2 or lead > 0xF4 or i == last:
            return True
        if lead == 0xE0 and raw[i + 1] < 0xA0 or lead == 0xED and raw[i + 1] > 0x9F:
            return True
        if lead == 0xF0 and raw[i + 1] < 0x90 or lead == 0xF4 and raw[i + 1] > 0x8F:
            return True
    return False


def _shortest32(value):
    # A float32 register holding 230.1 is 230.100006103516 once widened to a double:
    # the shortest decimal that is the same float32 is the value the meter holds.
    exact = struct.pack(">f", value)
    for form in ("%.6g", "%.7g", "%.8g"):
        short = float(form % value)
        if struct.pack(">f", short) == exact:
            return short
    return value


def _bits(raw, count):
    return "".join(["1" if raw[i >> 3] & (0x80 >> (i & 7)) else "0" for i in range(count)])


class Cursor:
    """Walks one A-XDR buffer; ``value()`` decodes at ``pos`` and advances it.

    A class rather than (value, pos) tuples so that the readings loop
    allocates nothing per value beyond the value itself.
    """

    # What a value running past ``end`` raises: corrupt inside a complete frame;
    # axdr_compact.skip, reading a stream still arriving, sets Incomplete.
    truncated = AxdrError

    def __init__(self, buf, pos=0, end=None):
        self.buf = buf
        self.pos = pos
        self.end = len(buf) if end is None else end

    def need(self, n):
        """Position after ``n`` more bytes; AxdrError when they are not there."""
        p = self.pos + n
        if n < 0 or p > self.end:
            raise self.truncated("A-XDR value truncated at offset %d (needs %d bytes)" % (self.pos, n))
        return p

    def byte(self):
        p = self.need(1)
        b = self.buf[self.pos]
        self.pos = p
        return b

    def length(self):
        """An A-XDR length (count of elements, bytes or bits)."""
        first = self.byte()
        if first < 0x80:
            return first
        n = first & 0x7F
        if n == 0 or n > _MAX_LENGTH_BYTES:
            raise AxdrError("bad A-XDR length byte 0x%02x at offset %d" % (first, self.pos - 1))
        value = 0
        for _ in range(n):
            value = (value << 8) | self.byte()
        return value

    def take(self, n):
        """The next ``n`` bytes as a new bytes object."""
        p = self.need(n)
        raw = self.buf[self.pos:p]
        self.pos = p
        # Slicing bytes gives bytes already; a view or bytearray is copied.
        return raw if type(raw) is bytes else bytes(raw)

    def integer(self, size, signed):
        """Big-endian integer of 1, 2 or 4 bytes. Few locals on purpose: a
        MicroPython call with more than 11 state slots allocates its frame."""
        p = self.pos
        b = self.buf
        self.pos = self.need(size)
        if size == 1:
            v = b[p]
        elif size == 2:
            v = (b[p] << 8) | b[p + 1]
        else:
            v = (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]
        if signed and v >> (8 * size - 1):
            v -= 1 << (8 * size)
        return v

    def number(self, fmt, size):
        p = self.need(size)
        v = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos = p
        return v

    def value(self, depth=0):
        """Decode the tagged value at ``pos``."""
        tag = self.byte()
        return self.content(tag, depth)

    def content(self, tag, depth):
        """Decode the content of a value whose tag has been read.

        Kept to a dispatch with few locals, as are the helpers it calls:
        a MicroPython call needing more than 11 slots of locals and stack
        takes its frame from the heap, and this one runs once per value."""
        if tag > _LAST_TAG or _SIZE[tag] == _UNUSED:
            raise AxdrError("unknown A-XDR tag 0x%02x at offset %d" % (tag, self.pos - 1))
        if _INTS >> tag & 1:
            return self.integer(_SIZE[tag], _SIGNED >> tag & 1)
        if _SIZE[tag] != _VARIABLE:
            return self.fixed(tag)
        if tag == _ARRAY or tag == _STRUCTURE:
            return self.sequence(tag, depth)
        if tag == _COMPACT_ARRAY:
            return self.compact(depth)
        return self.variable(tag)

    def fixed(self, tag):
        """A fixed-size value other than the short integers."""
        if tag == _FLOAT32:
            return _shortest32(self.number(">f", 4))
        if tag in _FORMAT:
            return self.number(_FORMAT[tag], _SIZE[tag])
        if tag == _NULL:
            return None
        if tag == _BOOLEAN:
            return self.byte() != 0
        return _stamp_module().Stamp(tag, self.take(_SIZE[tag]))  # the fixed tags left: date-time, date, time

    def variable(self, tag):
        """A string of LEN bytes (or LEN bits)."""
        n = self.length()
        if tag == _BIT_STRING:
            return _bits(self.take((n + 7) >> 3), n)
        if tag == _OCTET_STRING:
            return self.take(n)
        # A string is made from a slice of the buffer: no bytes copy first.
        p = self.need(n)
        raw = self.buf[self.pos:p]
        self.pos = p
        return text(raw)

    def compact(self, depth):
        # Rare in pushes: its code is loaded only when one arrives (and in
        # its own method, so content() keeps a frame small enough for the
        # MicroPython stack).
        from decoder import axdr_compact

        return axdr_compact.decode(self, depth)

    def sequence(self, tag, depth):
        if depth >= MAX_DEPTH:
            raise AxdrError("A-XDR nesting deeper than %d at offset %d" % (MAX_DEPTH, self.pos))
        n = self.length()
        # Each element takes at least its tag byte: reject impossible counts
        # before building anything.
        self.need(n)
        if tag == _STRUCTURE and n <= _SHORT:
            return self.short(n, depth + 1)
        items = self.fill(_ONE * n, depth + 1)
        return items if tag == _ARRAY else _tuple(*items)

    def short(self, n, depth):
        """A structure of up to _SHORT members, built as a tuple in one
        allocation (no list to copy from). Python evaluates the members
        left to right, which is their order in the buffer."""
        if n == 2:
            return (self.value(depth), self.value(depth))
        if n == 3:
            return (self.value(depth), self.value(depth), self.value(depth))
        if n == 4:
            return (self.value(depth), self.value(depth), self.value(depth), self.value(depth))
        return (self.value(depth),) if n else ()

    def fill(self, items, depth):
        """Decode len(items) values into the preallocated list ``items``.

        An index loop: a list comprehension would build a function object
        and a range per sequence, and grow its list step by step."""
        i = 0
        while i < len(items):
            items[i] = self.value(depth)
            i += 1
        return items


# One-slot list that ``_ONE * n`` copies into a list of exactly n slots (a
# ``[None] * n`` display would build and drop its one-slot list each time).
_ONE = [None]


def _tuple(*items):
    # tuple(list) on MicroPython iterates into a growing scratch array; a
    # star call copies the list once into an exactly sized tuple.
    return items


# decode() reuses a Cursor: a new one costs ~160 bytes of heap per call
# on MicroPython. A nested or concurrent decode finds none spare and makes
# one, which stays spare after.
_spare = [Cursor(b"")]


def _cursor():
    try:
        return _spare.pop()
    except IndexError:
        return Cursor(b"")


def decode(buf, pos=0):
    """Decode the value at ``pos``: -> (value, next_pos). Raises AxdrError."""
    cur = _cursor()
    cur.buf = buf
    cur.pos = pos
    cur.end = len(buf)
    try:
        return cur.value(), cur.pos
    finally:
        cur.buf = b""  # the caller's buffer is not kept alive
        _spare.append(cur)


def _length_at(buf, pos, end):
    """The A-XDR length whose first byte is at ``pos`` (Incomplete if cut)."""
    if pos >= end:
        raise Incomplete()
    n = buf[pos]
    if n < 0x80:
        return n
    size = n & 0x7F
    if size == 0 or size > _MAX_LENGTH_BYTES:
        raise AxdrError("bad A-XDR length byte 0x%02x at offset %d" % (n, pos))
    if pos + size >= end:
        raise Incomplete()
    n = 0
    while size:
        pos += 1
        size -= 1
        n = (n << 8) | buf[pos]
    return n


def _length_bytes(first):
    return 1 if first < 0x80 else 1 + (first & 0x7F)


def skip(buf, pos=0):
    """Position after the value at ``pos``: Incomplete if it runs past the end.

    Iterative, with one counter of values still to pass over, so that it
    allocates nothing per element (the APDU layer runs it on every push) and
    needs no depth bound: no recursion, no stack to exhaust.
    """
    end = len(buf)
    pending = 1
    while pending:
        if pos >= end:
            raise Incomplete()
        tag = buf[pos]
        pending -= 1
        size = _SIZE[tag] if tag <= _LAST_TAG else _UNUSED
        if size == _UNUSED:
            raise AxdrError("unknown A-XDR tag 0x%02x at offset %d" % (tag, pos))
        pos += 1
        if size != _VARIABLE:
            pos += size
        elif tag == _COMPACT_ARRAY:
            pos = _skip_compact(buf, pos, end)
        else:
            n = _length_at(buf, pos, end)
            pos += _length_bytes(buf[pos])
            if tag == _ARRAY or tag == _STRUCTURE:
                pending += n
            else:
                pos += (n + 7) >> 3 if tag == _BIT_STRING else n
    if pos > end:
        raise Incomplete()
    return pos


def _skip_compact(buf, pos, end):
    from decoder import axdr_compact

    return axdr_compact.skip(buf, pos, end)
