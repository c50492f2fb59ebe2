"""Reassembly of segmented link messages into one bounded buffer.

Two link-layer segmentations carry one APDU in several frames:

- HDLC (IEC 62056-46, frame format type 3): the segmentation bit S of the format
  field is set on every frame but the last. Frames are UI (no sequence
  numbers), so the only marks are the LLC header, which opens the first
  segment only, and the S bit, which closes the message::

      [S=1: E6 E7 00 APDU part 1] [S=1: part 2] ... [S=0: last part]

- DLMS over wired M-Bus (EN 13757-3): the CI field numbers
  the segments 0, 1, 2 ... 15, 0, 1 ... (mod 16) and sets 0x10 on the last one.

A message that cannot be completed (a segment missing, out of order, a new
first segment before the last, or longer than the buffer) is counted once
("sequence" or "overflow"); its remaining segments are skipped quietly. A
segment the framer dropped as corrupt was counted there (``lost``). Segments
of a message begun before the decoder started (a dongle joins the line in the
middle of a push) are skipped without a count, as GBT blocks are in apdu.py.
Payloads are memoryviews valid until the next call. Only segments of a
longer message are copied; a message in one frame is a view of the framer's
buffer.

Heap: the reassembly buffer is allocated by the first segmented message, not
with the framer. Most meters send a push in one frame and never need it; one
that segments does so from its first push, seconds after boot, while the
heap is still whole, and keeps the buffer from then on (a meter does not
change its framing).
"""

from decoder import hdlc
from decoder.compat import const

_HDLC = const(1)
_MBUS = const(2)
# The M-Bus CI field's segment bits as mbus.py reads them (EN 13757-3:
# 000F SSSS), stated here so that HDLC meters never load mbus.py.
_LAST_SEGMENT = const(0x10)
_SEQUENCE_MASK = const(0x0F)
_IDLE = const(-1)  # _len when no segmented message is under way
_DISCARD = const(-2)  # _len while the rest of a lost message goes by


class Reassembly:
    """Joins segments of one message read from ``source``, the framer's buffer.

    ``starts_apdu(byte)`` tells an APDU tag. Segments are given as positions
    in ``source``; only the ones that must be kept are copied.
    """

    def __init__(self, errors, size, starts_apdu, source):
        self.errors = errors
        self._size = size
        self._mv = None  # memoryview of the reassembly buffer, made by the first _begin
        self.source = source  # the framer's buffer, as a memoryview (Framer._grow replaces it)
        self._len = _IDLE
        self._link = 0
        self._seq = 0
        # A frame was lost and counted: the orphans it leaves are not news. So are those
        # before the first message: a dongle joins the line in the middle of one.
        self._quiet = True
        self._starts_apdu = starts_apdu

    def hdlc(self, start, stop, segmented):
        """An HDLC information field source[start:stop] -> the APDU payload or None."""
        if stop <= start:
            # No information field: a client's RR between the I-frames of a segmented
            # reply (both directions on one tap), an empty UI frame. Nothing to join;
            # its S bit of 0 does not end the message under way.
            return None
        llc = self._llc(start, stop)
        if llc or self._link != _HDLC:
            self._end("HDLC message cut short: a new one started")
        start += llc
        if self._len == _DISCARD:  # the rest of a message already lost
            if not segmented:
                self._len = _IDLE
            return None
        if self._len == _IDLE:
            # A first segment carries the LLC, or at least opens with an APDU tag; so does
            # a message in one frame (else it is the last segment of one lost before).
            if not llc and (stop <= start or not self._starts_apdu(self.source[start])):
                return self._lose(_HDLC, segmented, "HDLC segment without the first segment of its message")
            if not segmented:
                self._quiet = False
                return self.source[start:stop] if stop > start else None
            self._begin(_HDLC)
        if not self._append(start, stop, segmented) or segmented:
            return None
        return self._message()

    def _llc(self, start, stop):
        # The LLC's length, 0 for none. Within a message, bytes that read as an LLC
        # open a new message only if an APDU tag follows: a continuation segment's
        # data may begin with E6 E6 00 (ciphertext does, once in 2^23 segments).
        llc = hdlc.llc_length(self.source, start, stop)
        if llc and self._len >= 0 and self._link == _HDLC:
            if start + llc >= stop or not self._starts_apdu(self.source[start + llc]):
                return 0
        return llc

    def mbus(self, start, stop, ci):
        """An M-Bus APDU segment source[start:stop] with its CI -> the APDU payload or None."""
        more = not ci & _LAST_SEGMENT
        if not self._follows(ci & _SEQUENCE_MASK, more):
            return None
        if self._len == _IDLE:  # a message in one segment
            self._quiet = False
            return self.source[start:stop]
        if not self._append(start, stop, more) or more:
            return None
        return self._message()

    def _follows(self, seq, more):
        # Whether M-Bus segment ``seq`` belongs to the message (or is one by itself).
        # The numbers count mod 16: a 0 right after a 15 of the message under way is
        # its 17th segment, not a new message (frames of < 128 bytes make such messages).
        first = seq == 0 and not (self._len >= 0 and self._seq == _SEQUENCE_MASK)
        if first or self._link != _MBUS:
            self._end("M-Bus message cut short: a new one started")
        if self._len == _DISCARD:
            if not more:
                self._len = _IDLE
            return False
        if first:
            if more:
                self._begin(_MBUS)
            return True
        if self._len == _IDLE or seq != (self._seq + 1) & _SEQUENCE_MASK:
            self._lose(_MBUS, more, "M-Bus segment %d out of order" % seq)
            return False
        self._seq = seq
        return True

    def lost(self):
        """The framer dropped a frame where one was due, and counted it: the message
        under way is lost with it, and its remaining segments go by quietly, as do those
        of a message whose first segment it was. Counting the gap they leave as well
        would count one corrupt frame twice."""
        if self._len >= 0:
            self._len = _DISCARD
        self._quiet = True

    def _begin(self, link):
        if self._mv is None:
            self._mv = memoryview(bytearray(self._size))
        self._len = 0
        self._link = link
        self._seq = 0
        self._quiet = False

    def _end(self, message):
        # Silent when idle or already discarding: that loss was counted.
        if self._len >= 0:
            self.errors.count("sequence", message)
        self._len = _IDLE

    def _lose(self, link, more, message):
        # Count the lost message once (unless its first segment was counted by the
        # framer: lost()) and skip its remaining segments.
        if not self._quiet:
            self.errors.count("sequence", message)
        self._quiet = False
        self._link = link
        self._len = _DISCARD if more else _IDLE
        return None

    def _append(self, start, stop, more):
        end = self._len + stop - start
        if end > self._size:
            self._len = _DISCARD if more else _IDLE
            self.errors.count("overflow", "segmented message longer than %d bytes" % self._size)
            return False
        self._mv[self._len : end] = self.source[start:stop]
        self._len = end
        return True

    def _message(self):
        n = self._len
        self._len = _IDLE
        return self._mv[:n]
