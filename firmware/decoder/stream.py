"""Link framing: a byte stream in arbitrary chunks -> link payloads.

The first byte of what remains picks the framing from a table:

    7E  HDLC frame (IEC 62056-46)           -> hdlc.py
    68  wired M-Bus long frame (EN 13757-2)  -> mbus.py
    2F  "/" DSMR P1 telegram (DSMR 5.0.2)    -> dsmr.py
    0F DB DC E0  bare APDU, no link layer    -> apdu.measure (IEC 62056-5-3)
    0D 0A  line ends after a DSMR telegram   -> skipped quietly

``Framer.next`` returns ``(KIND_APDU, payload)`` with the LLC or the M-Bus
CI/STSAP/DTSAP stripped and segments reassembled, or ``(KIND_DSMR, text)``.

Resynchronisation. Right after a good frame (or at the very start) the
framer is *in sync*: the next byte should start a frame, and a frame that
fails there is counted in the ErrorLog (``checksum``, ``malformed``,
``overflow``). After a failure it *hunts*: it steps one byte at a time and
tries every start byte again, silently (a 7E or 68 inside a corrupt frame's
body is not news), until a frame checks out. Bare APDUs have no checksum,
so a stray 0F or E0 in an HDLC stream would look like one: once a framing
has produced a good frame (or a counted bad one) the framer is locked on
it, and while hunting it tries bare APDUs only when the lock is on bare
APDUs (in sync, a bare APDU is always welcome). Unless the lock is on bare
APDUs, a bare APDU inside which a checked frame starts is taken for noise,
whether it is complete or still waiting for its end. The lock lifts after
a whole buffer's worth of bytes went by without a good frame, so a meter
that changes its framing is found again.

Memory: one receive buffer of ``max_frame`` bytes and one reassembly buffer
of ``max_message`` bytes (``segments.py``), both allocated once. A chunk that does not
fit is kept by reference (not copied) and pulled in as the buffer drains.
"""

from decoder import dsmr, hdlc, mbus
from decoder.segments import Reassembly
from decoder.compat import const
from decoder.errors import DecodeError, FrameTooLong, Incomplete

KIND_APDU = const(1)  # payload is one or more APDUs (or a GBT block)
KIND_DSMR = const(2)  # payload is a DSMR ASCII telegram "/…!XXXX" (CRC already checked)

# The longest frame HDLC's 11-bit length can describe (2047 bytes between the
# flags) plus both flags. M-Bus frames are at most 263 bytes (with the
# T210-D length quirk); DSMR telegrams are 0.5-1 KB.
MAX_FRAME = const(2050)
# A reassembled segmented HDLC or M-Bus message is one APDU: the APDU layer
# bounds those at 2048 bytes (apdu.MAX_APDU).
MAX_MESSAGE = const(2048)

# 7E is common inside APDU data: a few tries per start byte keep a stalled next() cheap.
_MAX_PROBES = const(8)



class Framer:
    """Streaming framer: ``feed(chunk)``, then ``next()`` until it returns None.

    A chunk must stay unchanged until ``next()`` has returned None (the part
    that did not fit in the buffer is read from it later). ``skipped``
    counts bytes passed over while hunting: noise, not errors.
    """

    def __init__(self, errors, max_frame=MAX_FRAME, max_message=MAX_MESSAGE, measure=None):
        if measure is None:
            from decoder.apdu import measure
        self.errors = errors
        self.skipped = 0
        self._measure = measure
        self._cap = max_frame
        self._buf = bytearray(max_frame)
        self._mv = memoryview(self._buf)
        self._start = 0
        self._end = 0
        self._tail = None  # the part of the last chunk not yet in _buf
        self._sync = True
        self._lock = None  # handler of the last good frame
        self._hunted = 0
        self._segments = Reassembly(errors, max_message, _starts_apdu)

    def feed(self, chunk):
        """Take a chunk of any size; nothing is copied beyond the buffer's bound."""
        if self._tail is not None:
            lost = len(self._tail)
            self.errors.count("overflow", "input fed before the framer was drained: %d bytes lost" % lost)
        self._tail = chunk if len(chunk) else None
        self._refill()

    def next(self):
        """The next ``(kind, memoryview)``, or None until more bytes arrive. Never raises."""
        while True:
            pos = self._start
            end = self._end
            if pos >= end:
                if self._tail is None:
                    return None
                self._refill()
                continue
            handler = self._handler(self._buf[pos])
            if handler is None:
                self._skip(pos)
                continue
            try:
                n, item, good = handler(self, pos, end)
            except DecodeError as e:
                self._drop(pos, handler, e)
                continue
            if n == 0:  # the frame needs more bytes
                if end - pos >= self._cap:
                    self._drop(pos, handler, FrameTooLong("frame longer than the %d-byte buffer" % self._cap))
                elif self._tail is None:
                    return None
                else:
                    self._refill()
                continue
            self._start = pos + n
            if good:
                self._sync = True
                self._lock = handler
                self._hunted = 0
            if item is not None:
                return item

    def _handler(self, byte):
        handler = _TABLE.get(byte)
        if handler is _bare and not self._sync and self._lock is not None and self._lock is not _bare:
            return None  # hunting in a stream locked on a framing with checksums
        return handler

    def _frame_within(self, pos, stop, end):
        # A bare APDU has no checksum: a frame that checks out starting
        # inside it (before ``stop``) shows it was noise. True: such a frame;
        # None: one may be arriving (wait); False: none.
        buf = self._buf
        verdict = False
        for needle, probe in _PROBES:
            p = buf.find(needle, pos + 1, stop)
            tries = 0
            while p >= 0 and tries < _MAX_PROBES:
                try:
                    found = probe(buf, p, end, self._cap)
                except DecodeError:
                    found = False
                if found:
                    return True
                if found is None:
                    verdict = None
                p = buf.find(needle, p + 1, stop)
                tries += 1
        return verdict

    def _skip(self, pos):
        self._start = pos + 1
        self._sync = False
        self.skipped += 1
        self._hunted += 1
        if self._hunted > self._cap:
            self._lock = None

    def _drop(self, pos, handler, error):
        if self._sync:
            self.errors.record(error)
            if handler is not _bare:
                self._lock = handler  # a frame was expected here: the line speaks this framing
        self._skip(pos)

    def _refill(self):
        tail = self._tail
        if tail is None:
            return
        if self._start == self._end:
            self._start = self._end = 0
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


# -- one handler per framing: (framer, pos, end) -> (consumed, item or None, good) --
# consumed 0 (_WAIT): the frame is not complete yet.
_WAIT = (0, None, False)


def _hdlc(fr, pos, end):
    parsed = hdlc.frame(fr._buf, pos, end, fr._cap)
    if parsed is None:
        return _WAIT
    n, start, stop, segmented = parsed
    if start < 0:
        return n, None, False  # a flag between frames
    return n, _apdu(fr._segments.hdlc(fr._buf, fr._mv, start, stop, segmented)), True


def _mbus(fr, pos, end):
    parsed = mbus.frame(fr._buf, pos, end, fr._cap)
    if parsed is None:
        return _WAIT
    n, start, stop, ci = parsed
    return n, _apdu(fr._segments.mbus(fr._mv, start, stop, ci)), True


def _dsmr(fr, pos, end):
    parsed = dsmr.frame(fr._buf, pos, end)
    if parsed is None:
        return _WAIT
    n, stop = parsed
    return n, (KIND_DSMR, fr._mv[pos:stop]), True


def _bare(fr, pos, end):
    try:
        n = fr._measure(fr._mv[:end], pos)
    except Incomplete:
        n = -1
    stop = end if n < 0 else pos + n
    verdict = False if fr._lock is _bare else fr._frame_within(pos, stop, end)
    if verdict:
        return _noise(fr, pos)
    if n < 0 or verdict is None:
        return _WAIT
    return n, (KIND_APDU, fr._mv[pos : pos + n]), True


def _apdu(payload):
    return None if payload is None else (KIND_APDU, payload)


def _starts_apdu(byte):
    return _TABLE.get(byte) is _bare


def _noise(fr, pos):
    fr._skip(pos)
    return 1, None, False


def _fill(fr, pos, end):
    return 1, None, False


def _probe_hdlc(buf, p, end, cap):
    parsed = hdlc.frame(buf, p, end, cap)
    return None if parsed is None else parsed[1] >= 0


def _probe_mbus(buf, p, end, cap):
    return None if mbus.frame(buf, p, end, cap) is None else True


def _probe_dsmr(buf, p, end, cap):
    return None if dsmr.frame(buf, p, end) is None else True


# Frames with a checksum, looked for inside a bare APDU: pure parses, no
# state; each says True (a frame), None (maybe, not complete) or raises.
_PROBES = ((b"\x7e", _probe_hdlc), (b"\x68", _probe_mbus), (b"/", _probe_dsmr))

_TABLE = {
    hdlc.FLAG: _hdlc,
    mbus.START: _mbus,
    dsmr.START: _dsmr,
    0x0F: _bare,  # data-notification
    0xDB: _bare,  # general-glo-ciphering
    0xDC: _bare,  # general-ded-ciphering
    0xE0: _bare,  # general-block-transfer
    0x0D: _fill,
    0x0A: _fill,
}
