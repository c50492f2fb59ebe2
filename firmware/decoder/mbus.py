"""Wired M-Bus long frames (EN 13757-2, link layer) carrying DLMS/COSEM
(EN 13757-3 application layer: CI 0x00-0x1F, DLMS transport segmentation).

One long frame::

    68 | L | L | 68 | C | A | CI | STSAP | DTSAP | APDU segment ... | CS | 16
                    '------------- L bytes --------------------------'
    CS = sum of C .. last data byte, modulo 256

    CI: 000 F SSSS   F = 1 on the last segment, SSSS = segment number (mod 16)

STSAP/DTSAP (source/destination transport service access points, 01 and 67
on Kaifa and Sagemcom meters) come in every segment and are stripped; the
framer concatenates the segments (``sequence``, ``is_last``).

Vendor quirk, Sagemcom T210-D (old firmware, Austria): L holds only the low
byte of the length, so a 257-byte body arrives as ``68 01 01 68``. A long
frame needs at least C, A and CI (L >= 3), so a smaller L can only be such a
wrap: it is read as L + 256 and believed only if the checksum and the 16
stop byte land where that longer length puts them.
"""

from decoder.compat import const
from decoder.errors import DecodeError, checksum_error, overflow_error

START = const(0x68)
_STOP = const(0x16)
# C + A + CI: the shortest body a long frame can have (EN 13757-2).
_MIN_BODY = const(3)
# C + A + CI + STSAP + DTSAP: the fixed part before the APDU segment.
_HEADER = const(5)
_LAST_SEGMENT = const(0x10)
_SEQUENCE_MASK = const(0x0F)
# CI values 0x00-0x1F are reserved for DLMS/COSEM (EN 13757-3).
_CI_DLMS_MASK = const(0xE0)
_WRAP = const(256)  # one byte of L lost (the T210-D quirk)


class Parser:
    """Parses long frames in place in one buffer; the result stays in attributes.

    After ``parse`` returned a count: ``start``..``stop`` is the APDU
    segment after STSAP/DTSAP and ``ci`` the CI field, until the next
    ``parse``. Few locals per function: MicroPython then keeps each call's
    frame off the heap.
    """

    def __init__(self, buf, limit):
        self.buf = buf
        self.limit = limit
        self.start = -1
        self.stop = -1
        self.ci = 0
        # After a raise: the end of a whole frame whose data did not check; minus where L
        # puts it when no 16 is there (68 L L 68 in place: a frame that lost or gained a byte).
        self.end = -1

    def parse(self, pos, end):
        """Parse the long frame starting at buf[pos] (0x68): bytes consumed, 0 while incomplete.

        Raises DecodeError, checksum_error, or overflow_error when the frame
        would not fit in ``limit`` bytes. A frame whose 68 L L 68 head and 16
        stop byte are in place, but whose checksum or CI does not check,
        leaves where it ends in ``end``: its extent is known.
        """
        self.end = -1
        self.ci = 0
        if end - pos < 4:
            return 0
        body = _body_length(self.buf, pos)
        if body + 6 > self.limit:
            raise overflow_error("M-Bus frame of %d bytes exceeds the %d-byte buffer" % (body + 6, self.limit))
        if end - pos < body + 6:
            self.end = -(pos + body + 6)  # 68 L L 68 in place: for the framer, as below
            return 0
        if self.buf[pos + 5 + body] != _STOP:
            self.end = -(pos + body + 6)
            raise DecodeError("M-Bus frame does not end with 16")
        self.end = pos + body + 6
        self.ci = self.buf[pos + 6]  # kept when _check refuses it: the framer asks (stream._count)
        self.ci = _check(self.buf, pos + 4, pos + 4 + body)
        self.start = pos + 4 + _HEADER
        self.stop = pos + 4 + body
        return body + 6

    def closes(self, pos, end):
        """For a 68 at buf[pos]: 1 when 68 L L 68 follows and the 16 stop byte sits where
        L puts it, -1 while that end has not arrived, else 0. A cheap screen before
        ``parse``, raising nothing (the framer looks for a whole frame inside one still
        waiting)."""
        buf = self.buf
        if pos + 4 > end:
            return -1
        body = buf[pos + 1]
        if buf[pos + 2] != body or buf[pos + 3] != START:
            return 0
        if body < _MIN_BODY:
            body += _WRAP
        stop = pos + 5 + body
        if stop >= end:
            return -1
        return 1 if buf[stop] == _STOP else 0


def frame(buf, pos, end, limit):
    """``Parser.parse`` as a tuple: ``(consumed, data_start, data_stop, ci)``, None while incomplete.

    Allocates a Parser and a tuple: for tests and tools, not for the
    framer's hot path.
    """
    parser = Parser(buf, limit)
    n = parser.parse(pos, end)
    if n == 0:
        return None
    return n, parser.start, parser.stop, parser.ci


def _body_length(buf, pos):
    body = buf[pos + 1]
    if buf[pos + 2] != body or buf[pos + 3] != START:
        raise DecodeError("M-Bus start 68 L L 68 malformed")
    return body + _WRAP if body < _MIN_BODY else body


def _check(buf, first, cs):
    """Check checksum and CI of the body buf[first:cs]; return the CI."""
    if _sum(buf, first, cs) != buf[cs]:
        raise checksum_error("M-Bus checksum mismatch")
    ci = buf[first + 2]
    if ci & _CI_DLMS_MASK:
        raise DecodeError("M-Bus CI 0x%02x is not a DLMS segment" % ci)
    if cs - first < _HEADER:
        raise DecodeError("M-Bus DLMS frame without STSAP/DTSAP")
    return ci


def _sum(buf, start, stop):
    total = 0
    for i in range(start, stop):
        total += buf[i]
    return total & 0xFF


def sequence(ci):
    """Segment number carried in the CI field."""
    return ci & _SEQUENCE_MASK


def is_last(ci):
    """True when the CI field marks the last segment of an APDU."""
    return bool(ci & _LAST_SEGMENT)
