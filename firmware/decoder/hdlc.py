"""HDLC frames of IEC 62056-46 (DLMS/COSEM "3-layer, connection-oriented
HDLC-based profile"), as smart meters push them on their customer port.

One frame: HDLC frame format type 3 (ISO/IEC 13239 annex H.4) as
IEC 62056-46 / the DLMS Green Book MAC sublayer use it; no byte stuffing,
the length field delimits the frame::

    7E | format(2) | dest addr (1-4) | src addr (1-4) | control | HCS(2) | information ... | FCS(2) | 7E
         |                                                       '- only when an information field follows
         '- 1010 S LLL LLLLLLLL: type 0xA, S = segmentation bit, L = 11-bit length
            counted from the first format byte through the last FCS byte

- Address bytes: bit 0 set marks the last byte of an address.
- HCS covers format..control, FCS covers format..information; both are
  CRC-16/X.25, least significant byte first (``crc.x25``).
- The closing flag may be the opening flag of the next frame, and idle
  lines repeat flags: a parse therefore consumes the opening flag and the
  frame body only, and a flag not followed by a format byte is fill.
- The information field of the first (or only) frame of a message starts
  with the LLC header ``E6 E7 00`` (meter to client) or ``E6 E6 00``
  (client to meter); ``llc_length`` finds it.

No I/O and no heap: ``Parser`` leaves positions into the caller's buffer in
its attributes, and every function here keeps its locals few enough for
MicroPython to hold its frame on the C stack (more than 11 words of locals
and value stack put a call's frame on the heap).
"""

from decoder import crc
from decoder.compat import const
from decoder.errors import DecodeError, checksum_error, overflow_error

FLAG = const(0x7E)
_FORMAT_TYPE = const(0xA0)  # frame format type 3 (0xA in the top nibble)
_TYPE_MASK = const(0xF0)
_SEGMENTED = const(0x08)
_LENGTH_HIGH = const(0x07)
# Longest address IEC 62056-46 allows (1, 2 or 4 bytes; 3 is tolerated).
_MAX_ADDRESS = const(4)
# Shortest frame between the flags: format(2) + addresses(1 + 1) + control + FCS(2).
_MIN_LENGTH = const(7)
_LLC_0 = const(0xE6)
_LLC_RESPONSE = const(0xE7)
_LLC_COMMAND = const(0xE6)

_MORE = const(-1)  # helpers' "not all bytes here yet"

# Returned by ``frame`` for a flag that opens no frame (doubled flag, closing flag, fill).
FILL = (1, -1, -1, False)


class Parser:
    """Parses frames in place in one buffer; the result stays in attributes.

    After ``parse`` returned a count: ``start``..``stop`` is the information
    field (``start`` -1: the flag was fill; ``start == stop``: no
    information field) and ``segmented`` the S bit. The attributes hold
    until the next ``parse``.
    """

    def __init__(self, buf, limit):
        self.buf = buf
        self.limit = limit
        self.start = -1
        self.stop = -1
        self.segmented = False
        # After a raise: the closing flag of a frame that failed only its FCS; minus where
        # its length puts the flag when its HCS checked but no flag is there (a byte lost
        # or gained: a real frame, damaged, whose true end is unknown), and after a 0 when
        # that place has not arrived yet.
        self.end = -1

    def parse(self, pos, end):
        """Parse the frame whose opening flag is buf[pos]; bytes up to ``end`` are valid.

        Returns the bytes consumed (the closing flag is not: it may open
        the next frame), 0 while the frame is incomplete (waiting is the
        common case, and a raise allocates). Raises DecodeError,
        checksum_error, or overflow_error when the frame would not fit in
        ``limit`` bytes. A frame whose HCS checked and whose closing flag
        sits where its length says, but whose FCS did not check, leaves
        that flag's position in ``end``: its extent is known. A frame with
        an information field whose HCS and FCS check is taken without
        waiting for its closing flag, and also when that flag is missing.
        """
        self.end = -1
        if end - pos < 2:
            return 0
        fmt = self.buf[pos + 1]
        if fmt & _TYPE_MASK != _FORMAT_TYPE:
            self.start = -1
            return 1
        if end - pos < 3:
            return 0
        close = _length(fmt, self.buf[pos + 2]) + pos + 1  # this order keeps the value stack at 5
        info = _info_start(self.buf, pos, close, end)
        if info == _MORE:
            return 0
        self._fits(close - pos + 1)
        if info != close - 2:
            self.end = -close  # the HCS checked: a real frame, its flag not (yet) seen in place
        if close > end:
            return 0
        if close == end or self.buf[close] != FLAG:
            # No closing flag, or not yet: a frame whose HCS and FCS both check is whole
            # without it. A Wiener Netze AM550 was seen sending 104 of its 105 bytes, a
            # signature block after; and a frame that checks need not wait for its flag.
            if info == close - 2 or not _fcs_ok(self.buf, pos, close):
                if close == end:
                    return 0
                raise DecodeError("HDLC frame does not end with a flag where its length says")
        else:
            if info != close - 2:
                self.end = close  # the HCS checked and the flag is in place: a real frame
            if not _fcs_ok(self.buf, pos, close):
                raise checksum_error("HDLC FCS mismatch")
        self.start = info
        self.stop = close - 2
        self.segmented = fmt & _SEGMENTED != 0
        return close - pos

    def _fits(self, size):
        if size > self.limit:
            raise overflow_error("HDLC frame of %d bytes exceeds the %d-byte buffer" % (size, self.limit))


def frame(buf, pos, end, limit):
    """``Parser.parse`` as a tuple: ``(consumed, info_start, info_stop, segmented)``.

    ``FILL`` for a flag that opens no frame, None while the frame is
    incomplete. Allocates a Parser and a tuple: for tests and tools, not
    for the framer's hot path.
    """
    parser = Parser(buf, limit)
    n = parser.parse(pos, end)
    if n == 0:
        return None
    if parser.start < 0:
        return FILL
    return n, parser.start, parser.stop, parser.segmented


def closes(buf, pos, end):
    """For a flag at buf[pos]: 1 when a type 3 format field follows and a flag sits where
    its length says the frame ends, -1 while that end has not arrived, else 0. A cheap
    screen before ``Parser.parse``, raising nothing: most 7E bytes inside a frame are
    data (the framer looks for a whole frame inside one still waiting)."""
    if pos + 3 > end:
        return -1
    fmt = buf[pos + 1]
    if fmt & _TYPE_MASK != _FORMAT_TYPE:
        return 0
    close = pos + 1 + (((fmt & _LENGTH_HIGH) << 8) | buf[pos + 2])
    if close >= end:
        return -1
    return 1 if buf[close] == FLAG else 0


def header_fails(buf, pos, end):
    """For a flag at buf[pos] that ``closes`` found waiting for its end: True once its
    header is in and no frame's (an address too long, the HCS wrong), False while it
    may still be one. Raises and allocates nothing: the framer asks on every read."""
    if pos + 3 > end:
        return False
    close = pos + 1 + (((buf[pos + 1] & _LENGTH_HIGH) << 8) | buf[pos + 2])
    at = _address_stop(buf, pos + 3, end)
    if at >= 0:
        at = _address_stop(buf, at, end)
    if at == -1:
        return end >= close - 2  # an address still running at the FCS
    # ``at``: the control byte (Parser.parse's checks, without raising)
    if at < 0 or at >= close - 2 or at + 5 > close and at + 3 != close:
        return True
    if at + 3 == close or at + 3 > end:
        return False  # no information field, whose header has no HCS; or not yet in
    return crc.x25(buf, pos + 1, at + 1) != buf[at + 1] | (buf[at + 2] << 8)


def _address_stop(buf, at, end):
    # Where the address at ``at`` ends; -1 while it has not arrived, -2 too long.
    stop = at + _MAX_ADDRESS
    while at < end:
        at += 1
        if buf[at - 1] & 1:
            return at
        if at == stop:
            return -2
    return -1


def _length(fmt, low):
    length = ((fmt & _LENGTH_HIGH) << 8) | low
    if length < _MIN_LENGTH:
        raise DecodeError("HDLC length %d is shorter than any frame" % length)
    return length


def _info_start(buf, pos, close, end):
    """Where the information field starts (after a checked HCS), or ``_MORE``."""
    header_end = _header_end(buf, pos + 3, close - 2, end)
    if header_end == _MORE:
        return _MORE
    return _check_header(buf, pos + 1, header_end, close, end)


def _header_end(buf, pos, fcs, end):
    """Position after the control byte (``_MORE`` until it has arrived).

    Walks destination and source addresses. ``fcs`` is where the frame's FCS
    starts (the header must end before it), ``end`` where the buffered
    bytes end.
    """
    for _ in range(2):
        pos = _address_end(buf, pos, fcs, end)
        if pos == _MORE:
            return _MORE
    if pos >= fcs:
        raise DecodeError("HDLC length too short for its control byte")
    return pos + 1  # after the control byte


def _address_end(buf, pos, fcs, end):
    stop = pos + _MAX_ADDRESS
    while True:
        if pos >= fcs:
            raise DecodeError("HDLC length too short for its addresses")
        if pos >= end:
            return _MORE
        pos += 1
        if buf[pos - 1] & 1:
            return pos
        if pos == stop:
            raise DecodeError("HDLC address longer than %d bytes" % _MAX_ADDRESS)


def _check_header(buf, start, header_end, body_end, end):
    """Check the HCS when an information field follows; return where it starts (or ``_MORE``)."""
    if header_end + 2 == body_end:
        return body_end - 2  # no information field, FCS only
    if header_end + 4 > body_end:
        raise DecodeError("HDLC length leaves no room for HCS and FCS")
    if header_end + 2 > end:
        return _MORE
    if crc.x25(buf, start, header_end) != buf[header_end] | (buf[header_end + 1] << 8):
        raise checksum_error("HDLC HCS mismatch")
    return header_end + 2


def _fcs_ok(buf, pos, close):
    return crc.x25(buf, pos + 1, close - 2) == buf[close - 2] | (buf[close - 1] << 8)


def llc_length(buf, start, stop):
    """3 when buf[start:stop] opens with the LLC header E6 E7 00 / E6 E6 00, else 0."""
    if stop - start < 3 or buf[start] != _LLC_0 or buf[start + 2] != 0:
        return 0
    second = buf[start + 1]
    return 3 if second == _LLC_RESPONSE or second == _LLC_COMMAND else 0
