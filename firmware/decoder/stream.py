"""Link framing: a byte stream in arbitrary chunks -> link payloads.

The first byte of what remains picks the framing from a table:

    7E  HDLC frame (IEC 62056-46)           -> hdlc.py
    68  wired M-Bus long frame (EN 13757-2)  -> mbus.py
    2F  "/" DSMR P1 telegram (DSMR 5.0.2)    -> dsmr.py
    0F DB DC DD E0  bare APDU, no link layer -> bare.py, apdu.measure (IEC 62056-5-3)
    0D 0A  line ends after a DSMR telegram   -> skipped quietly
    E5  M-Bus single-character ack           -> skipped quietly

``Framer.next`` returns ``(KIND_APDU, payload)`` with the LLC or the M-Bus
CI/STSAP/DTSAP stripped and segments reassembled, or ``(KIND_DSMR, text)``.

Resynchronisation. Right after a good frame (or at the very start) the
framer is *in sync*: the next byte should start a frame, and a frame that
fails there is counted in the ErrorLog (``checksum``, ``malformed``,
``overflow``). After a failure it *hunts*: it steps one byte at a time and
tries every start byte again, silently (a 7E or 68 inside a corrupt frame's
body is not news), until a frame checks out; a frame the hunt finds that is
real but damaged (its HDLC header or 68 L L 68 checked, a DSMR telegram to
its wrong CRC) is counted all the same. Bare APDUs have no checksum,
so a stray 0F or E0 in an HDLC stream would look like one: once a framing
has produced a good frame (or a counted bad one that got past its start
bytes) the framer is locked on it, and while hunting it tries bare APDUs
only when the lock is on bare APDUs (in sync, a bare APDU is always
welcome). A bare APDU locks only when found in sync after a first one (or
a few idle bytes after it): a dongle joins a line mid-frame, and the first
"APDU" may be a frame's inside. Before any lock the hunt takes no GBT block
(E0) but a push's first or one a few idle bytes after a bare APDU, as a
block's header passes too easily; a bad frame of another framing never
moves a lock off bare APDUs. Unless the lock is on bare APDUs and it came in
sync, a bare APDU inside which a checked frame starts is taken for noise,
whether it is complete or still waiting for its end. The lock lifts after
a whole buffer's worth of bytes went by without a good frame, so a meter
that changes its framing is found again. A frame still waiting for the
bytes its length claims (or a DSMR start still waiting for its "!") is
given up as soon as a whole checked HDLC or M-Bus frame, of the framing the
line is locked on, arrives inside it: it was cut short (``malformed``), or
a false start the hunt found in a corrupt frame (silent), and the frames
behind it come out on time. A frame whose checksum failed where its length
put its end is not given up while a frame starting inside it may still be
arriving (the line comes in small reads): that one decides whether it was
cut short. Bytes after a good frame that start no frame are passed over too,
unless at the next start byte of the line's framing they are a frame whose
first byte (or an HDLC frame whose format byte) was damaged or lost: counted
(damaged.py: its length and HCS, L L 68, or a DSMR header's letters). Where
two HDLC frames in a row had such bytes after them (a Wiener Netze meter's
signature), the place after a frame is not in sync.

Memory: one receive buffer of ``max_frame`` bytes, allocated once, and a
reassembly buffer of ``max_message`` bytes (``segments.py``) that only a
meter which segments its messages allocates, with its first one. mbus.py
and dsmr.py are loaded by the first 68 L L 68 or "/" and three letters,
bare.py by the first bare APDU start byte the framer tries. A dongle mostly
starts in the middle of a frame, and one byte in 256 of its bytes is a 0F,
DB, E0...: so the hunt may load a framing the line does not speak, and the
first good frame of another framing unloads it again (MicroPython, where a
module's code sits in the heap; ~1-3 kB each). A chunk
that does not fit is kept by reference (not copied) and pulled in as the
buffer drains.
A good frame costs the heap only its payload: a memoryview and the
``(kind, payload)`` tuple (64 bytes on the unix port). For that the parsers
leave their results in attributes instead of tuples, every method keeps
its locals and value stack within the 11 words MicroPython holds on the C
stack (VM_MAX_STATE_ON_STACK; beyond, each call's frame goes to the heap),
and no hot method has ``except ... as``: its implicit cleanup handler
alone pushes the frame over that limit (a plain try block leaves room for
about 5 words). The exception of a failed parse is
fetched by parsing again, on the error path only (parsers are pure).
"""

import sys

from decoder import hdlc
from decoder.segments import Reassembly
from decoder.compat import IS_MICROPYTHON, const
from decoder.errors import DecodeError, overflow_error

KIND_APDU = const(1)  # payload is one or more APDUs (or a GBT block)
KIND_DSMR = const(2)  # payload is a DSMR ASCII telegram "/…!XXXX" (CRC already checked)

# The longest frame HDLC's 11-bit length can describe (2047 bytes between the
# flags) plus both flags. M-Bus frames are at most 263 bytes (with the
# T210-D length quirk); DSMR telegrams are 0.5-1 KB.
MAX_FRAME = const(2050)
# DSMR 5.0.2 allows a text message (0-0:96.13.0) of 1024 characters, sent as
# 2048 hex digits: a telegram carrying one is 2.2-3.5 kB. The buffer grows to
# this once a DSMR telegram fills it (Framer._grow), so only such meters pay.
MAX_DSMR = const(4096)
# A reassembled segmented HDLC or M-Bus message is one APDU: the APDU layer
# bounds those at 2048 bytes (apdu.MAX_APDU).
MAX_MESSAGE = const(2048)

# The framing a start byte announces (_WAYS), 0 for none.
_HDLC = const(1)
_MBUS = const(2)
_DSMR = const(3)
_BARE = const(4)
_FILL = const(5)  # CR LF after a DSMR telegram, an M-Bus acknowledgement
# Start bytes of mbus.START and dsmr.START, stated here so that importing the
# framer does not load those two modules (loaded on first use instead).
_MBUS_START = const(0x68)
_CI_FOREIGN = const(0xE0)  # M-Bus CI bits of applications other than DLMS (mbus.py)
_MBUS_STOP = const(0x16)
_MBUS_ACK = const(0xE5)  # (a CR or LF among a damaged frame's bytes starts nothing)
_DSMR_HEAD = const(6)  # bytes of a gap that hold a DSMR header's "XXXZ" after its "/" or without it
_DSMR_START = const(0x2F)
_BANG = const(0x21)  # "!": a DSMR telegram that ends with it has no CRC
_ETX = const(0x03)  # before the last byte of an IEC 62056-21 readout's block (dsmr.py)
_ASK = const(0x3F)  # "?" after "/": an IEC 62056-21 request message, no telegram
_LF = const(0x0A)  # ends a request line
# _hunted before the first good frame: far below 0, so that hunting does not reach 0.
_BEFORE_ANY = const(-0x3FFFFFFF)
# Bytes kept of a gap (_gap_closes), twice: a byte of room for a flag, then an HDLC frame's
# format(2), addresses (4 + 4), control and HCS(2), and one for a flag that stood before them.
_GAP_HEAD = const(15)
# Idle bytes of P1 ports between telegrams (NUL, 0xFF, space): no damaged telegram's (_skip).
_IDLE_BYTES = const((0x00, 0xFF, 0x20))
# Bytes between two bare APDUs, the second found by a hunt, that still lock the line on them.
_IDLE_GAP = const(16)
_TITLED = const(10)  # tag, length 08 and the 8-byte system title of a ciphered APDU

# What one _step did.
_AGAIN = const(0)  # moved on: step again
_IDLE = const(1)  # nothing complete until more bytes arrive
_READY = const(2)  # an item is in _item

_FAILED = const(-1)  # the parse raised a DecodeError


class Framer:
    """Streaming framer: ``feed(chunk)``, then ``next()`` until it returns None.

    A chunk must stay unchanged until ``next()`` has returned None (the part
    that did not fit in the buffer is read from it later). ``skipped``
    counts bytes passed over while hunting: noise, not errors.
    """

    def __init__(self, errors, max_frame=MAX_FRAME, max_message=MAX_MESSAGE, measure=None):
        header_length = None  # a caller's measure is asked every time
        if measure is None:
            from decoder.apdu import measure
            from decoder.apdu_parse import header_length
        self.errors = errors
        self.skipped = 0
        self._cap = max_frame
        self._buf = bytearray(max_frame)
        self._mv = memoryview(self._buf)
        self._start = 0
        self._end = 0
        self._tail = None  # the part of the last chunk not yet in _buf
        self._sync = True
        self._lock = 0  # framing of the last good frame
        self._hunted = _BEFORE_ANY  # bytes hunted through since the last good frame
        self._way = 0  # framing of the frame at _start
        self._item = None
        self._hdlc = hdlc.Parser(self._buf, max_frame)
        self._mbus = None  # made by _mbus_parser on the first M-Bus start byte
        self._measures = (measure, header_length)  # for the bare.Bare made by _bare_parser
        self._bare = None
        self._segments = Reassembly(errors, max_message, _starts_apdu, self._mv)
        self._probe_for = -1  # the waiting HDLC frame _cut_short has looked into
        self._probed = 0  # where its look goes on
        # On an HDLC, M-Bus or DSMR line, bytes no frame took after the last good frame:
        # the _hunted count where they begin (-1 none, -2 none until the next good frame:
        # one was counted) and, on HDLC, where they begin after the last flag among them
        # (-1 none); the first ones of each in _gap_head (see _gap_closes). And how many
        # good frames in a row came after such bytes (a Wiener Netze meter sends a
        # signature after each frame).
        self._gap = -1
        self._gap_flagged = -1
        self._gap_head = bytearray(2 * _GAP_HEAD)
        self._trails = 0
        # Whether the line's DSMR telegrams carry a CRC. (Named "crc", a name the heap
        # interns already: a new name costs 7 kB on the unix port at the next pool
        # block, see test_mpy_heap.py.)
        self.crc = False
        # After a copy of the meter's ciphered push too long to hold (bare.Bare.seek): the
        # _hunted count up to which nothing but the next copy's title starts a frame, that
        # title and the one learned before it (_choose); None otherwise. ("seek", as "crc":
        # a name already interned.)
        self.seek = None

    def feed(self, chunk):
        """Take a chunk of any size; nothing is copied beyond the buffer's bound."""
        if self._tail is not None:
            lost = len(self._tail)
            self.errors.count("overflow", "input fed before the framer was drained: %d bytes lost" % lost)
        self._tail = chunk if len(chunk) else None
        self._refill()

    def next(self):
        """The next ``(kind, memoryview)``, or None until more bytes arrive. Never raises."""
        step = self._step()
        while step == _AGAIN:
            step = self._step()
        if step == _IDLE:
            return None
        item = self._item
        self._item = None
        return item

    def _step(self):
        pos = self._start
        if pos >= self._end:
            if self._tail is None:
                return _IDLE
            self._refill()
            return _AGAIN
        self._way = self._choose(pos)
        if self._way == self._lock and self._way and self._gap >= 0:
            self._gap_closes()
        if not self._way:
            self._skip(pos)
            return _AGAIN
        n = self._parsed()
        if n > 0:
            return self._take(pos, n)
        if n == 0:
            return self._wait(pos)
        way = self._way  # after a failed parse: where a frame ends when its extent is known
        n = self._claimed_end(way)
        if n > pos:
            cut = self._cut_short(pos, n)
            if cut:
                # Cut short, its length running into the frames after it, where a flag
                # or 16 happened to sit: the whole checked frame inside it comes out.
                if not self._sync and self._damaged(way, n):
                    self._sync = True  # counted while hunting too: its header checked
                self._drop(pos, DecodeError("frame cut short: a whole frame starts inside it"))
                return _AGAIN
            if cut is None and self._end - pos < self._cap:
                # A frame that starts inside is still arriving (the line comes in small
                # reads): it decides. Moving on to n now lost that good frame.
                if self._tail is None:
                    return _IDLE
                self._refill()
                return _AGAIN
            # A whole frame that failed its FCS or checksum: counted even while hunting (its
            # header checked), and the next frame is due right after it.
            self._count(None)
            self._start = n
            self._sync = self._trails < 2  # (_take)
            if way == _HDLC or way == _MBUS:
                # Bytes after it open a gap, as after a good frame: a damaged one next to
                # it went uncounted (a review).
                self._gap = -1
                self._hunted = 0
            return _AGAIN
        cut = way == _BARE and self._bare.seek(pos, self._cap, self._hunted)
        if cut:
            self.seek = cut  # too long to hold: counted, and passed over (bare.Bare.seek)
        if not self._sync and self._damaged(way, n) or cut:
            self._sync = True  # counted by _drop
        self._drop(pos, None)
        return _AGAIN

    def _claimed_end(self, way):
        # After a parse at _start: a bare APDU cut short, where the next one starts; an HDLC
        # or M-Bus frame, where it ends, negative when its header checked but its flag or
        # 16 is not there or has not yet arrived (hdlc.py, mbus.py); else -1.
        if way == _BARE:
            return self._bare.end
        return self._hdlc.end if way == _HDLC else (self._mbus.end if way == _MBUS and self._mbus else -1)

    def _damaged(self, way, n):
        # While hunting: whether the frame that failed at _start is a real one, damaged,
        # and so worth a count. Not on a line of bare APDUs, where noise opens like
        # anything. Counted, an HDLC or M-Bus frame locks the line (_count): the bytes
        # inside it are no longer tried as bare APDUs, which a plaintext frame that lost a
        # byte held (a push of values no meter sent, after a dongle joined mid-frame).
        if self._lock == _BARE:
            return False
        if way != _DSMR:
            # Its header checked, but it does not end where its length says (or that place
            # has not arrived), or it does and a whole frame starts inside: cut short.
            return n < -1 or (way != _BARE and n > self._start)
        if self._lock and self._lock != _DSMR:
            return False
        # From "/" to a CRC that does not match, or to the next telegram's header, on a
        # line that speaks DSMR or has not yet shown a framing (a dongle joins mid-telegram):
        # a real telegram, damaged, counted even when idle bytes (NULs, some P1 ports) put
        # the framer to hunting. Binary bytes do not pass for the header line (dsmr.py).
        error = self._failure()
        return error.kind == "checksum" or "cut short" in error.args[0]  # dsmr._check_text's

    def _choose(self, pos):
        byte = self._buf[pos]
        way = _WAYS.get(byte, 0)
        if self.seek is not None:
            # Inside a copy too long to hold: only the next copy's title starts one, up to
            # the copy's stated end. From there the hunt goes on as before: a line that
            # changed there (another meter, another framing) lost the frame that began it.
            # The title learned before the copy does too, when the copy had another: noise
            # that only looked like a copy of a new meter's (bare.Bare.seek).
            if self._end - pos >= _TITLED and (self._buf.find(self.seek[1], pos, pos + _TITLED) == pos
                                               or self._buf.find(self.seek[2], pos, pos + _TITLED) == pos):
                self.seek = None
                self._sync = True  # its place: a fault of it is counted
            elif self._end - pos < _TITLED and (byte == self.seek[1][0] or byte == self.seek[2][0]) and (
                    self._hunted <= self.seek[0]):
                pass  # the title may be arriving: the parse waits, and this is asked again
            elif self._hunted < self.seek[0]:
                return 0
            else:
                self.seek = None
        if way == _DSMR and pos + 1 < self._end and self._buf[pos + 1] == _ASK:
            # A request ("/?" address "!" CR LF, IEC 62056-21 6.3.1) that an optical head
            # echoes, or a second reader on the line sends: passed over as idle bytes. It
            # was a "malformed" per poll.
            return 0
        if way == _BARE and not self._sync and self._lock != _BARE:
            if self._lock or (byte == 0xE0 and not self._block_expected()):
                # Hunting in a stream locked on a framing with checksums; or before the
                # line has shown a framing, a GBT block _block_expected does not admit:
                # its header (E0 and five bytes) passes too easily among a joined push's
                # bytes, and its length swallowed the push after.
                return 0
        return way

    def _block_expected(self):
        # A GBT block a hunt may take before any lock: one a few idle bytes after a bare
        # APDU (a line that paces its blocks), or a push's first, block number 1 after E0
        # and the block control byte (not yet arrived: asked again with more bytes).
        if self._after_bare():
            return True
        pos = self._start
        return self._end - pos < 4 or (self._buf[pos + 2] == 0 and self._buf[pos + 3] == 1)

    def _after_bare(self):
        # Before any lock: whether a bare APDU ended at most _IDLE_GAP bytes back (any
        # other good frame locks the line, and _hunted counts from the last one).
        return 0 <= self._hunted <= _IDLE_GAP

    def _parsed(self):
        # No ``except ... as e`` here (see the module docstring): _failure gets the error.
        try:
            return self._parse()
        except DecodeError:
            return _FAILED

    def _parse(self):
        # The frame at _start: bytes consumed, 0 while incomplete; raises DecodeError.
        way = self._way
        if way == _HDLC:
            return self._hdlc.parse(self._start, self._end)
        if way == _MBUS:
            parser = self._mbus_parser(self._start)
            return 0 if parser is None else parser.parse(self._start, self._end)
        if way == _DSMR:
            return dsmr_frame(self._buf, self._start, self._end)
        if way == _BARE:
            # Unless the lock is on bare APDUs, one inside which a checked frame starts is noise;
            # on that lock, one a hunt found too.
            return self._bare_parser().parse(self._start, self._end, self._lock != _BARE or not self._sync)
        return 1  # CR or LF between DSMR telegrams, an M-Bus E5

    def _bare_parser(self):
        if self._bare is None:
            from decoder.bare import Bare

            self._bare = Bare(self._buf, self._mv, self._hdlc, self._mbus_parser, *self._measures)
        return self._bare

    def _mbus_parser(self, pos=-1):
        # mbus.py is loaded by the first 68 L L 68 only (at ``pos``, when given): a 68 among
        # an HDLC frame's bytes or the "h" of a DSMR "kWh" would load it for nothing. None
        # while those four bytes have not all arrived; raises when they cannot start a frame.
        if self._mbus is None:
            if pos >= 0:
                if self._end - pos < 4:
                    return None
                buf = self._buf
                if buf[pos + 1] != buf[pos + 2] or buf[pos + 3] != _MBUS_START:
                    raise DecodeError("M-Bus start 68 L L 68 malformed")
            from decoder import mbus

            self._mbus = mbus.Parser(self._buf, self._cap)
        return self._mbus

    def _failure(self):
        # The parse at _start raised: parsing again raises the same error.
        try:
            self._parse()
        except DecodeError as e:
            return e
        return DecodeError("frame failed to parse")

    def _take(self, pos, n):
        self._start = pos + n
        way = self._way
        if way == _BARE and self._bare.noise:
            self._skip(pos)
            return _AGAIN
        if way == _FILL or (way == _HDLC and self._hdlc.start < 0):
            if self._gap >= 0:
                self._skip(pos)  # a CR, LF, E5 or 7E inside a damaged frame is one of its bytes
                if way == _HDLC and self._lock == _HDLC or self._lock == _MBUS and self._buf[pos] == _MBUS_ACK:
                    self._gap_flagged = self._hunted  # a frame may start after this flag or ack
                elif self._lock == _DSMR and self._buf[pos] == _LF and self._gap_head[2] == _ASK and (
                        self._gap_head[1] == _DSMR_START):
                    # The end of a request line ("/?" address "!" CR LF, _choose): the readout
                    # it asks for is due next, and a damaged one is looked for from here, not
                    # in the request's bytes (a readout whose "/" was lost went uncounted).
                    self._gap = self._hunted
            return _AGAIN  # fill: neither good nor bad
        if way != _BARE and (way != self._lock or self._bare is not None):
            # Also on the line's own framing: a bare start byte right after a good frame
            # (noise, or a line changing to bare APDUs) loads bare.py, which stayed for
            # good once the next frame was the line's again (~5 kB live; a soak of a noisy
            # line fragmented the heap that way).
            self._shed(way)
        if way != _BARE or self._lock == _BARE or not self._lock and (
                self._after_bare() or self._sync and self._hunted >= 0):
            # Not the first bare APDU before the line has shown a framing, found by a hunt
            # or at the stream's first byte (a dongle mostly joins mid-frame): bytes inside
            # a frame can pass for one, and a lock on bare APDUs would stop the test that
            # tells them from the frames that follow (a frame starting inside makes a bare
            # APDU noise). The next one locks: in sync, or after a few idle bytes (some
            # P1 ports send NULs between pushes). Nor one on a line locked on another
            # framing: a Wiener Netze signature after its frame that opened like a GBT
            # block took the lock, and the hunt then read bare APDUs inside the frames
            # that followed, without their FCS (a fuzz). Such a line that turns to bare
            # APDUs is found again once the lock lifts.
            self._lock = way
        self._sync = True
        if way == _HDLC:
            if self._gap != -2:  # (a count is no sign of what follows this line's frames)
                self._trails = self._trails + 1 if self._gap >= 0 else 0
            # Where bytes follow every frame, the place after one is no frame's start: a
            # signature that begins 7E A_ (its HCS fails) or 68 was counted there, for
            # one push in ten of a Wiener Netze meter.
            self._sync = self._trails < 2
        self._gap = -1
        self._hunted = 0
        if way == _DSMR:
            if self._buf[pos + n - 1] != _BANG or self._buf[pos + n - 2] == _ETX:
                self.crc = True  # (or an IEC 62056-21 readout's BCC, which may be a "!")
            elif self.crc:
                # A meter sends CRCs always or never: a ")" that lost a bit ("!") ended
                # this one early, and its first lines would read as a whole telegram.
                # Said once: a line that really changed meters loses one telegram.
                self.crc = False
                self._drop(pos, DecodeError("DSMR telegram without the CRC this line sends: damaged or cut short"))
                return _AGAIN
            self._item = (KIND_DSMR, self._mv[pos : pos + n])
            return _READY
        if way == _BARE:
            if self._bare.end > 0:
                # Its last byte may be the next one's tag (bare.Bare._learn): read it again.
                # A copy, rare (1 push in 256, and a copy one byte short), is what the reader
                # decrypts in place: a ciphered APDU without a GCM tag turned that byte into
                # plaintext in the buffer, and the next copy was lost on small reads.
                self._item = (KIND_APDU, bytearray(self._mv[pos : pos + n]))
                self._start = self._bare.end
                self._sync = False
                return _READY
            self._item = (KIND_APDU, self._mv[pos : pos + n])
            return _READY
        return self._deliver(self._payload())

    def _payload(self):
        # The APDU payload of the HDLC or M-Bus frame just parsed, None until a message is whole.
        if self._way == _HDLC:
            frame = self._hdlc
            return self._segments.hdlc(frame.start, frame.stop, frame.segmented)
        frame = self._mbus
        return self._segments.mbus(frame.start, frame.stop, frame.ci)

    def _deliver(self, payload):
        if payload is None:
            return _AGAIN
        self._item = (KIND_APDU, payload)
        return _READY

    def _wait(self, pos):
        # A whole frame inside is looked for before a full buffer is: read in one piece, the
        # bytes that filled the buffer came in with the frame that cut this one short, where
        # in small reads that frame came first (a DSMR telegram cut by an HDLC line's
        # frames was counted as an overflow, and the frames after it lost; a helper's fuzz).
        claimed = self._claimed_end(self._way)  # _cut_short's probes parse over it
        if self._cut_short(pos, self._end):
            if not self._sync and self._damaged(self._way, claimed):
                # A real frame whose header checked, cut by a power loss after idle bytes
                # put the framer to hunting: counted as when its bytes come in one read.
                self._sync = True
            self._drop(pos, DecodeError("frame cut short: a whole frame starts inside it"))
            return _AGAIN
        if self._end - pos >= self._cap:
            grown = self._way == _DSMR and self._grow()
            if grown:
                return _AGAIN
            # A DSMR header ("/" and three letters) too long to hold is news even while
            # hunting: a meter sending long text messages loses every telegram.
            # So is a copy of the meter's ciphered push too long to hold (bare.Bare.seek).
            claimed = self._way == _BARE and self._bare.seek(pos, self._cap, self._hunted)
            if claimed:
                self.seek = claimed
            self._sync = self._sync or self._way == _DSMR or bool(claimed)
            self._drop(pos, overflow_error(("frame longer than the %d-byte buffer" if grown is False else
                                            "DSMR telegram longer than the %d-byte buffer, and no heap to grow it")
                                           % self._cap))
            return _AGAIN
        if self._tail is None:
            return _IDLE
        self._refill()
        return _AGAIN

    def _cut_short(self, pos, stop):
        # Whether a whole, checked frame of the line's framing (HDLC or M-Bus) starting
        # before ``stop`` has arrived inside the frame at pos, which still waits for the
        # bytes its length claims (or failed where that length put its end); None when
        # none has, but one that may still be is waiting for its end. Then
        # that one was cut short (a meter reset, a dropped line), or was a false start the
        # hunt found in a corrupt frame's bytes ("/" and three letters, 68 L L 68): waiting
        # for its end would hold back every frame behind it, up to the whole buffer.
        # Bytes already looked at are not looked at again, except a candidate still
        # waiting for its own end (_probed points at the first such).
        way = self._lock
        if way != _HDLC and way != _MBUS:
            way = self._way
            if way != _HDLC and way != _MBUS:
                return False
        if self._probe_for != pos:
            self._probe_for = pos
            self._probed = pos + 1
        at = self._probed
        self._probed = -1
        while True:
            at = self._buf.find(b"\x7e" if way == _HDLC else b"\x68", at, stop)  # FLAG, START
            if at < 0:
                break
            if way == _HDLC:  # a cheap screen: 1 when the candidate ends where its length says
                whole = hdlc.closes(self._buf, at, self._end)
                if whole < 0 and hdlc.header_fails(self._buf, at, self._end):
                    # A candidate whose header is in and fails its HCS is no frame: it
                    # is not looked at again. A 7E A_ in a corrupt E450 frame's
                    # ciphertext claimed 530 bytes and held the two pushes behind it
                    # back until they had been swallowed; and a frame still arriving
                    # whose bytes hold many (7E A7 FF ... in a plaintext octet-string)
                    # had each looked at again on every read, quadratic in small reads
                    # (a helper's probe: 447 ms for one 1,937-byte frame read bytewise).
                    whole = 0
            else:
                whole = self._mbus_parser().closes(at, self._end)
            if whole < 0 and self._probed < 0:
                self._probed = at  # the first candidate not yet whole: looked at again
            if whole > 0 and self._checked(way, at) > 0:
                return True
            at += 1
        if self._probed < 0:
            self._probed = stop
            return False
        return None

    def _checked(self, way, at):
        # The candidate at ``at``: 1 a frame with good checksums, 0 not whole yet (an
        # HDLC header, once in, has passed its HCS), -1 no frame. The parsers' results
        # are overwritten: the frame at _start is parsed again before use.
        try:
            if way == _HDLC:
                n = self._hdlc.parse(at, self._end)
                return -1 if n == 1 else min(n, 1)  # 1: a flag and no frame after it
            return min(self._mbus.parse(at, self._end), 1)
        except DecodeError:
            return -1

    def _grow(self):
        # A DSMR telegram fills the buffer: move it into one of MAX_DSMR, once.
        # Without the room for that, it is dropped as before, counted as overflow.
        # Bytes no telegram holds never cost the memory, nor, on a line that spoke
        # another framing, text whose header line does not end: a real meter's
        # first telegram after a change, or after a start on the "h" of a "kWh"
        # (read as an M-Bus start, counted, and locked on), is taken.
        if self._cap >= MAX_DSMR:
            return False
        if self._lock and self._lock != _DSMR and self._buf.find(b"\n", self._start, self._start + 128) < 0:
            return False
        from decoder import dsmr  # loaded: it framed what is in the buffer

        n = self._end - self._start
        if dsmr.text_end(self._buf, self._start, self._end) < self._end:
            return False
        try:
            buf = bytearray(MAX_DSMR)
        except MemoryError:
            return None  # not False: the telegram may fit, the heap has no room for it
        buf[:n] = self._mv[self._start : self._end]
        self._start, self._end = 0, n
        self._buf, self._mv, self._cap = buf, memoryview(buf), MAX_DSMR
        self._hdlc.buf = buf  # the parsers read the one buffer in place
        if self._mbus is not None:
            self._mbus.buf = buf
        self._bare = None  # made again, on the new buffer, by the next bare APDU
        self._segments.source = self._mv
        return True

    def _shed(self, way):
        # The line speaks ``way``: the other framings' parsers and modules the hunt loaded
        # go (their code is collected on MicroPython; on CPython tests may hold their
        # classes, and memory does not matter). Names in full: no new interned names.
        global _dsmr_frame
        self._bare = None
        own = None
        if way == _MBUS:
            own = "decoder.mbus"
        else:
            self._mbus = None
        if way == _DSMR:
            own = "decoder.dsmr"
        else:
            _dsmr_frame = None
        if IS_MICROPYTHON:
            package = sys.modules["decoder"]
            for name in ("decoder.bare", "decoder.mbus", "decoder.dsmr"):
                if name != own and sys.modules.pop(name, None) is not None and hasattr(package, name[8:]):
                    delattr(package, name[8:])

    def _skip(self, pos):
        if self._hunted == 0 and self._gap == -1 and self._lock and self._lock != _BARE:
            self._gap = 0  # right after a good frame, where the next one was due
            self._gap_flagged = -1
        if self._gap >= 0:
            at = self._hunted - self._gap
            if at == 0 and self._lock == _DSMR and self._buf[pos] in _IDLE_BYTES:
                self._gap += 1  # idle bytes some P1 ports send between telegrams: none of one
            elif at < _GAP_HEAD - 1:
                self._gap_head[at + 1] = self._buf[pos]
            at = self._hunted - self._gap_flagged
            if at < _GAP_HEAD - 1 and self._gap_flagged >= 0:
                self._gap_head[_GAP_HEAD + at + 1] = self._buf[pos]
        self._start = pos + 1
        self._sync = False
        self.skipped += 1
        self._hunted += 1
        if self._hunted > self._cap:
            self._lock = 0
        if self._gap >= 0 and (self._lock == _MBUS and self._buf[pos] == _MBUS_STOP
                               or self._lock == _DSMR and self._hunted - self._gap == _DSMR_HEAD):
            # A damaged M-Bus frame ends with its 16, as a master's short frame does (a tap
            # of both directions); a DSMR header is in (a long telegram outlasts the lock).
            self._gap_closes()
            if self._gap >= 0 and self._lock == _MBUS:
                self._gap_flagged = self._hunted  # a frame may start after this 16

    def _drop(self, pos, error):
        # ``error`` None: the parse failed; its exception is only needed when counted.
        if self._sync:
            self._count(error)
        self._skip(pos)

    def _gap_closes(self):
        # A frame's start after bytes no frame took, where one was due on an HDLC, M-Bus or
        # DSMR line. A frame whose first byte (a flag, 68, "/"), or an HDLC frame whose
        # format byte, a bit error hit or an overrun lost reads as such bytes: its push was
        # lost and nothing counted it (a helper's probe: 2-3 byte positions in ~120 of an
        # HDLC frame). Counted when its own redundancy says so (damaged.py); bytes a meter
        # sends after its frames are not.
        global _damage_checks
        if _damage_checks is None:
            from decoder import damaged

            _damage_checks = damaged
        n = self._hunted - self._gap
        self._way = self._lock  # (from _skip, _way is what the skipped byte announced: _count asks what was due)
        if self._way == _HDLC:
            # From the gap's start, or from its last flag: a damaged frame after a
            # signature (that flag the signature's end), or one holding a 7E of its own.
            if _damage_checks.hdlc_start(self._gap_head, 0, n) or self._gap_flagged >= 0 and (
                    _damage_checks.hdlc_start(self._gap_head, _GAP_HEAD, self._hunted - self._gap_flagged)):
                self._count(DecodeError("HDLC frame with a damaged flag or format byte"))
        elif self._way == _MBUS:
            # From the gap's start, or after the last E5 or 16 in it (a tap that hears a
            # master's acks and short frames).
            if _damage_checks.mbus_start(self._gap_head, 0, n) or self._gap_flagged >= 0 and (
                    _damage_checks.mbus_start(self._gap_head, _GAP_HEAD, self._hunted - self._gap_flagged)):
                self._count(DecodeError("M-Bus frame with a damaged start byte"))
        elif _damage_checks.dsmr_start(self._gap_head, n):
            self._count(DecodeError("DSMR telegram with a damaged start byte"))
            return
        if self._gap == -2:
            # Counted where it ended: the next frame is due here, and a damaged one there
            # is looked for as after a good frame (two in a row went uncounted).
            self._gap = -1
            self._hunted = 0

    def _count(self, error):
        if error is None:
            error = self._failure()
        self.errors.record(error)
        self._gap = -2  # counted: no gap opens before the next good frame
        if self._way != _BARE and self._lock != _BARE and self._opened():
            # A frame was expected here: the line speaks this framing. Not on a line of
            # bare APDUs: a stray 68 or 7E there locked it on M-Bus or HDLC, and the hunt
            # then passed over every bare push for a buffer's worth of bytes.
            self._lock = self._way
            if self._hunted < 0:
                self._hunted = 0  # locked at the first byte: the lock lifts as any does
        if self._way == _HDLC or self._way == _MBUS and not (
                error.kind == "malformed" and self._mbus is not None and self._mbus.ci & _CI_FOREIGN):
            # Counted here: a message it belonged to is not counted again. Not a whole
            # frame of another application (EN 13757-3: CI from 0x20), heard between a
            # message's segments on a shared bus: that message goes on.
            self._segments.lost()

    def _opened(self):
        # Whether the frame that failed at _start got past its start, an HDLC format byte
        # or 68 L L 68 with one byte of the three damaged at most: a lone 68 or "/" tells
        # nothing of the line (at the stream's first byte a dongle mostly joins mid-frame;
        # after a bare push it is one's damaged byte). A DSMR line needs no lock: its text
        # holds no bare APDU's start byte.
        if self._way == _HDLC:
            return True
        buf, pos = self._buf, self._start
        return (self._way == _MBUS and self._end - pos >= 4
                and (buf[pos + 1] == buf[pos + 2] or buf[pos + 3] == _MBUS_START))

    def _refill(self):
        tail = self._tail
        if tail is None:
            return
        if self._start == self._end:
            self._start = self._end = 0
            self._forget()
        elif len(tail) > self._cap - self._end:
            self._compact()
        n = min(len(tail), self._cap - self._end)
        if n == len(tail):  # the usual case: the whole chunk fits, no slicing
            self._buf[self._end : self._end + n] = tail
            self._tail = None
        else:
            view = memoryview(tail)
            self._buf[self._end : self._end + n] = view[:n]
            self._tail = view[n:]
        self._end += n

    def _compact(self):
        # Moves the unread bytes to the front in pieces no longer than the
        # gap, so that no piece overlaps its source.
        pos = self._start
        n = self._end - pos
        i = 0
        while i < n and pos:
            k = min(pos, n - i)
            self._buf[i : i + k] = self._mv[pos + i : pos + i + k]
            i += k
        self._start = 0
        self._end = n
        self._forget()

    def _forget(self):
        # The bytes moved: a bare APDU search or a look into a waiting frame starts afresh.
        self._probe_for = -1
        if self._bare is not None:
            self._bare.forget()


_dsmr_frame = None  # dsmr.frame once dsmr_frame has loaded it
_damage_checks = None  # damaged.py once Framer._gap_closes has loaded it


def dsmr_frame(buf, pos, end):
    """``dsmr.frame``; dsmr.py is loaded by the first "/" and three letters, so HDLC and
    M-Bus meters do not hold it for a "/" among their bytes."""
    global _dsmr_frame
    if _dsmr_frame is None:  # an import statement per call would allocate each time
        if end - pos < 4:
            return 0
        for i in range(pos + 1, pos + 4):
            if not 0x61 <= buf[i] | 0x20 <= 0x7A:  # A-Z, a-z
                raise DecodeError("DSMR header must start with / and three letters")
        from decoder import dsmr

        _dsmr_frame = dsmr.frame
    return _dsmr_frame(buf, pos, end)


def _starts_apdu(byte):
    return _WAYS.get(byte) == _BARE


_WAYS = {
    hdlc.FLAG: _HDLC,
    _MBUS_START: _MBUS,
    _DSMR_START: _DSMR,
    0x0F: _BARE,  # data-notification
    0xDB: _BARE,  # general-glo-ciphering
    0xDC: _BARE,  # general-ded-ciphering
    0xDD: _BARE,  # general-ciphering
    0xE0: _BARE,  # general-block-transfer
    0x0D: _FILL,
    0x0A: _FILL,
    # EN 13757-2's acknowledgement, heard on a tap of both directions: the frame after it
    # is still due, so the framer stays in sync and a corrupt one there is counted.
    0xE5: _FILL,
}
