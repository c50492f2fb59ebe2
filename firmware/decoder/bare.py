"""Bare APDUs on the wire (no link layer, IEC 62056-5-3 tags 0F DB DC E0),
for the framer (``stream.py``).

A bare APDU has no checksum, so the framer asks two things of one:

- its length, from ``apdu.measure`` (0 while it is still arriving);
  while bytes trickle in (a UART at 9600 baud brings a few per read) it
  is not measured again and again: ``measure`` raises Incomplete, ~200
  bytes of heap each time. A ciphered APDU or GBT block states its
  length in its header (``apdu_parse.header_length``): the framer waits
  for that many bytes. A data-notification is measured again only when
  new bytes arrived;
- whether a frame that does carry a checksum (HDLC 7E, M-Bus 68, DSMR "/")
  starts inside it: then the "APDU" was noise in a checked stream;
- whether a ciphered APDU (DB, DC) was cut short: its first 10 bytes, the
  tag and the meter's system title, recur inside the length it claims.
  That is the meter's next push (an 80-bit match by chance is not a risk),
  and ``end`` says where it starts: without this the cut push's length
  swallows the next push's head, and both fail the GCM tag, reported as a
  wrong key when the line only lost a few bytes. Read in small pieces, the
  claimed length may be complete while that title is still arriving: a copy
  whose last 2 to 9 buffered bytes open it waits for the rest, and after a
  copy whose last byte is the title's first the framer looks again from
  that byte (``end``).

The search for such a frame remembers how far it got. A hit that failed
to parse can never become a frame (the bytes before the end of the buffer
do not change), so a later call for the same APDU starts after it: every
hit is parsed once however the bytes trickle in, and a frame behind many
false hits is still found. Hits still waiting for their bytes are
parsed again on the next call, at most ``_MAX_PENDING`` per framing.

Positions are only valid until the framer moves its bytes: it calls
``forget`` then. Methods keep few locals so that MicroPython holds their
frames on the C stack, not the heap.
"""

from decoder.apdu_parse import TAG_NOTIFICATION, _body_at
from decoder.compat import const
from decoder.errors import DecodeError, Incomplete, overflow_error
from decoder.stream import MAX_DSMR, dsmr_frame  # stream.py imports bare.py only when it needs it: no cycle

# Hits still waiting for bytes that are parsed again per call and framing:
# such hits are rare in real data (a plausible header must pass), so a few
# bound the work of a stalled next() without giving up on the search.
_MAX_PENDING = const(8)
_NEEDLES = const((b"\x7e", b"\x68", b"/"))  # HDLC flag, M-Bus start, DSMR header
_HDLC = const(0)
_MBUS = const(1)
_TITLED = const(10)  # tag, length 08 and the 8-byte system title of a DB or DC APDU
# What a Smarty copy wraps its DSMR telegram in: tag and title (_TITLED), a 3-byte length,
# security control, frame counter and the 12-byte GCM tag.
_WRAPPED = const(30)
_CI_NOT_DLMS = const(0xE0)  # an M-Bus CI with one of these bits set is no DLMS segment (mbus.py)
# What a push's notification-body opens with: structure, array, octet-string (a
# DSMR text or a tagged list in one string), compact-array. A lone number there
# is the tail of one push read into the head of the next.
_PUSH_BODIES = const(b"\x02\x01\x09\x13")


class Bare:
    """Length of the bare APDU at a position of ``buf``, and whether it is noise.

    ``hdlc`` is the framer's HDLC parser and ``mbus`` a callable returning its
    M-Bus parser (made on first use), both over the same buffer (the framer
    reads their results right after its own parse, so probes in between do
    no harm).
    """

    def __init__(self, buf, mv, hdlc, mbus, measure, header_length=None):
        self._buf = buf
        self._mv = mv
        self._measure = measure
        self._header_length = header_length  # None: a caller's measure, asked every time
        self._known = -1  # the APDU _total and _tried belong to
        self._total = 0  # its length from its header; 0 header incomplete, -1 it does not tell
        self._tried = -1  # end of the bytes measure last found incomplete
        self._hdlc = hdlc
        self._mbus = mbus
        self._view = mv
        self._viewed = -1  # end of _view, the bytes measure sees
        self._pos = -1  # the APDU the cursors belong to
        self._cursor = [0, 0, 0]  # per needle: where the unsettled hits begin
        self._stop = 0
        self._end = 0
        self._at = 0  # the position _measured and _probe look at
        self.noise = False  # set by parse: a checked frame starts inside
        # Set by a parse that raised: where the next APDU starts inside; by one that gave a
        # length: where the framer goes on when that is not right after it (-1), see _learn.
        self.end = -1
        self._title = None  # the first _TITLED bytes of the meter's ciphered APDUs
        self._looked = -1  # where the search for them inside the APDU at _known goes on

    def forget(self):
        """Positions in the buffer changed: the search starts afresh."""
        self._pos = -1
        self._viewed = -1
        self._known = -1

    def parse(self, pos, end, search):
        """Bytes of the APDU at ``pos``, 0 while undecided; ``noise`` says to skip it.

        ``search``: look for a checked frame inside it. Raises DecodeError
        when the bytes cannot be an APDU.
        """
        self.end = -1  # an earlier APDU's mark: bytes that fail below must not jump to it
        n = self._length(pos, end)
        if n > 0 and self._header_length and self._buf[pos] == TAG_NOTIFICATION and not self._push(pos, end):
            raise DecodeError("bare data-notification whose body is a single value: not a push")
        self.end = self._recurs(pos, end)
        if self.end > 0:
            # A checked frame that starts before that title is where the framer goes on,
            # from the next byte: read whole, the jump to the title passed over an M-Bus
            # segment's head, and the push it opened was lost, where read in small pieces the
            # segment was whole first and the framer hunted into it (a helper's fuzz).
            # One that may still be arriving decides first.
            n = self._search(pos, self.end, end) if search else False
            if n is None:
                self.end = -1
                return 0
            if n:
                self.end = -1
            raise DecodeError("bare APDU cut short: the meter's next one starts inside it")
        if not search and self._total > len(self._buf):
            # On a line of bare APDUs it can never be whole: say so now, not once the
            # buffer is full (a corrupt length byte held the pushes behind it back for
            # 2 kB of line). Elsewhere a checked frame inside may make it noise: wait.
            raise overflow_error("bare APDU of %d bytes, longer than the %d-byte buffer"
                                 % (self._total, len(self._buf)))
        self.noise = False
        verdict = self._search(pos, end if n < 0 else pos + n, end) if search else False
        if verdict:
            self.noise = True
            return 1
        if n < 0 or verdict is None:
            return 0
        if not self.end:
            return 0  # the next push may start inside: wait for the rest of its title
        self._learn(pos)
        return n

    def seek(self, pos, cap, hunted):
        """For the framer, after the APDU at ``pos`` failed or filled its ``cap``-byte buffer:
        when it is a copy of a meter's ciphered push (tag, 08 and title) that states more
        than ``cap`` bytes and no more than a ciphered DSMR telegram holds, ``(hunted`` count
        at its stated end, its title, the title learned before it``)``; else None. A
        Luxembourg Smarty telegram with a long text message is such a copy, and the message
        stays in every copy until it is cleared: each is counted as overflow, as a DSMR
        telegram too long is, and the framer passes over its bytes to the next copy's title. Hunted through, its ciphertext read
        as APDUs ("originator system title of 75 bytes", counted malformed) that swallowed
        the next copy now and then, and only the first copy's overflow was counted. (A name
        MicroPython interns already.)"""
        if pos != self._known or self._total <= cap or self._looked < 0:  # (_looked: DB or DC)
            return None
        if self._total > MAX_DSMR + _WRAPPED:
            # Longer than any DSMR telegram (stream.MAX_DSMR) ciphered: a damaged length
            # (72 read as 82: 12,288 bytes), no copy. Passed over, it held back the frames
            # of a line that changed after it, for up to 64 kB; hunted through as before.
            return None
        if self._buf.find(self._title, pos, pos + _TITLED) == pos:
            return (hunted + self._total, self._title, self._title)
        # Another title than the last whole copy's (the dongle moved to another Smarty):
        # that meter's copies are the line's now. Asked for the title learned, each long
        # copy of that meter was hunted through as before pass 38 until a short one came,
        # its ciphertext read as APDUs (counted malformed) that swallowed the copy after
        # it (a fuzz). The title learned ends the pass too: noise that opens like such a
        # copy (DB 08, eight bytes, 82 and a length over the buffer's), read in small
        # pieces, passed over the meter's copies after it, 3 kB of them (a review).
        cut = (hunted + self._total, bytes(self._mv[pos : pos + _TITLED]), self._title)
        self._title = cut[1]
        return cut

    def _length(self, pos, end):
        # -1 while incomplete, without asking measure when the answer is known.
        if pos != self._known:
            self._known = pos
            self._total = -1 if self._header_length is None else 0  # -1: only measure can tell
            self._tried = -1
            self._looked = -1
        if not self._total:
            self._total = self._header_length(self._buf, pos, end)
            if self._total > _TITLED and self._buf[pos] != 0xE0:  # DB or DC: not a GBT block
                if self._title is None:
                    self._title = bytes(self._mv[pos : pos + _TITLED])
                self._looked = pos + 1
        if not self._total or end - pos < self._total or end == self._tried:
            return -1
        n = self._measure_at(pos, end)
        if n < 0:
            self._tried = end
        return n

    def _push(self, pos, end):
        # Whether the data-notification at pos, measured by apdu.measure (a caller's
        # measure has its own idea of an APDU), has a push's body. A plaintext bare
        # stream has no checksum: after a lost byte the hunt met "0F 00 16 20", the last
        # scaler and unit of a Kaifa push, which with the next push's "0F 00 17 FA..."
        # measures as an 11-byte APDU with a float body, and lands in the same place of
        # the push after, for good.
        return self._buf[_body_at(self._buf, pos, end)] in _PUSH_BODIES

    def _recurs(self, pos, end):
        # Where the meter's title header starts again before this ciphered APDU's claimed
        # end, or -1. The header is the one the last whole APDU had: a cut inside the
        # header garbles this one's title, not the next push's. Only bytes not looked at
        # yet are searched, and a match may run past the claimed end (a cut in the tag).
        if self._looked < 0:
            return -1
        stop = min(end, pos + self._total + _TITLED - 1)
        at = self._buf.find(self._title, self._looked, stop)
        self._looked = at if at > 0 else max(self._looked, stop - _TITLED + 1)  # parsed again: found again
        if at < 0 and end >= pos + self._total:
            # 0 when the buffer ends in the first 2 to 9 bytes of the title, begun before the
            # claimed end: a copy that lost fewer than 10 bytes, its length complete before
            # the next copy's title is (small reads). An intact APDU's last bytes (its GCM
            # tag) open the title so once in 65,536, and wait for the next bytes. One byte
            # is not enough to wait on (1 in 256): _learn has the framer read it again.
            stop = pos + self._total
            at = max(stop, end) - _TITLED + 1
            while at < stop and at <= end - 2:
                i = 0
                while at + i < end and self._buf[at + i] == self._title[i]:
                    i += 1
                if at + i == end:
                    return 0
                at += 1
            return -1
        return at

    def _learn(self, pos):
        # A whole ciphered APDU with another title: the line's meter now (the hunt took
        # noise for a header at start-up, or another meter is on the line).
        if self._looked >= 0 and self._buf.find(self._title, pos, pos + _TITLED) != pos:
            self._title = bytes(self._mv[pos : pos + _TITLED])
        # A copy one byte short claims the next copy's first byte as its last, and the next
        # copy is lost unless the framer reads that byte again: ``end`` says so when the
        # last byte is the title's first, with or without a GCM tag (the framer hands such
        # an APDU over as a copy, so decryption in place leaves that byte as the line sent
        # it). An intact APDU ends so once in 256: the byte then fails as a start, uncounted.
        self.end = -1
        if self._looked >= 0 and self._buf[pos + self._total - 1] == self._title[0]:
            self.end = pos + self._total - 1

    def _measure_at(self, pos, end):
        if self._viewed != end:  # measure reads the buffered bytes up to its end
            self._view = self._mv[:end]
            self._viewed = end
        self._at = pos
        return self._measured()

    def _measured(self):
        # Arguments in attributes: a try block leaves room for 5 words of locals and stack.
        try:
            return self._measure(self._view, self._at)
        except Incomplete:
            return -1

    def _search(self, pos, stop, end):
        # True: a frame starts in buf[pos + 1:stop]; None: one may (wait); False: none.
        if pos != self._pos:
            self._restart(pos)
        self._stop = stop
        self._end = end
        found = self._scan(_HDLC)
        if not found:
            found = _worst(found, self._scan(_MBUS))
        if not found:
            found = _worst(found, self._scan(2))
        return found

    def _restart(self, pos):
        self._pos = pos
        cursor = self._cursor
        cursor[0] = cursor[1] = cursor[2] = pos + 1

    def _scan(self, which):
        p = self._hit(which, self._cursor[which])
        pending = 0
        while p >= 0 and pending < _MAX_PENDING:
            self._at = p
            found = self._probe(which)
            if found:
                return True
            if found is None:
                pending += 1
            elif not pending:
                self._cursor[which] = p + 1  # settled: no frame starts there
            p = self._hit(which, p + 1)
        return None if pending else False

    def _hit(self, which, start):
        return self._buf.find(_NEEDLES[which], start, self._stop)

    def _probe(self, which):
        try:
            return self._frame_at(which)
        except DecodeError:
            # An HDLC frame whose header checked (hdlc.Parser.end) is a real one, damaged:
            # the "APDU" around its start was a joined frame's inside. Taken, a false
            # general-ciphering start (DD) there swallowed that frame's head, and a plaintext
            # data-notification inside it came out as a push. (M-Bus: _frame_at.)
            return which == _HDLC and self._hdlc.end != -1

    def _frame_at(self, which):
        # At _at: True, a checked frame; None, not complete yet; raises when none.
        if which == _HDLC:
            if self._hdlc.parse(self._at, self._end) == 0:
                return None
            return self._hdlc.start >= 0
        if which == _MBUS:
            parser = self._mbus(self._at)  # None while its 68 L L 68 is still arriving
            if parser is None:
                return None
            try:
                return True if parser.parse(self._at, self._end) else None
            except DecodeError:
                # 68 L L 68 in place and a DLMS CI after C and A: a real frame, damaged (as
                # HDLC). The CI makes a ciphered push's bytes pass for one 8 times less often.
                return parser.end != -1 and not self._buf[self._at + 6] & _CI_NOT_DLMS
        # A telegram that starts inside the APDU is a new one: "/", three letters and the
        # baud rate digit of IEC 62056-21 (dsmr._new_header's rule, written here: calling it
        # would load dsmr.py on a DLMS line for any "/" in a push; dsmr_frame loads it only
        # once three letters follow). Without the digit, "/bUZ",
        # three bytes past ASCII and a CR in a ciphered push (gurux-dlms) made a header
        # line that waited for a "!": that push was lost, the nine after it came 2 kB late.
        at = self._at + 4
        if at < self._end and not 0x30 <= self._buf[at] <= 0x39:
            return False
        return True if dsmr_frame(self._buf, self._at, self._end) else None


def _worst(a, b):
    # True wins; else None (undecided) over False.
    if b:
        return True
    return None if a is None or b is None else False
