"""The store's snapshot as JSON, written into one preallocated buffer.

Same text as ``decoder.telegram_json`` (the decoder CLI and MQTT contract)::

    {"meter_time": "…", "system_title": "…", "frame_counter": 3,
     "readings": {"1-0:1.7.0": {"value": 1628, "unit": "W"}, …}}

but without building the nested dicts and one big string per telegram: the
pieces go straight into a reused bytearray, so publishing every 5 s does not
fragment a 100 kB heap. The buffer starts small and doubles when a snapshot
does not fit, up to _BUF_SIZE: it settles after the first full telegrams at
the size this meter needs instead of holding the worst case. A snapshot that
outgrows _BUF_SIZE, or a buffer the heap has no block for, comes out as a list
of pieces of at most _PIECE bytes instead, which the publishers send one after
another: no block larger than the buffer already held is ever needed. (It was
one string of the whole snapshot, and before that a 4 kB buffer no heap could
give: after one burst of pushes with many codes, which the store keeps, every
later state message failed, for good.)
"""

import json

from decoder import to_json
from decoder.compat import const

# 96 codes (store.MAX_CODES) of about 60 bytes each, plus the header; a
# snapshot larger than this goes out in pieces (_PIECE).
_BUF_SIZE = const(6144)
# The first buffer: a SiL E450 snapshot (38 readings) is 1.8 kB, so it never grows.
_FIRST_SIZE = const(2048)
# The largest piece of a snapshot sent in pieces: small blocks, which a fragmented heap
# still has (HTTP's JSON_PIECE). At 204 kB with 96 codes kept, 512-byte pieces found no
# block after a few publishes, with 19 kB free; 256-byte ones went on (unix port).
_PIECE = const(256)
# Units whose encoded JSON pieces are cached: meters send a dozen.
_MAX_CACHED = const(128)
# The last printable ASCII character: text up to it is copied byte by byte (UTF-8 is
# ASCII there); text with anything past it is encoded.
_ASCII_LAST = const("~")

# A snapshot or document that does not fit the buffer raises the builtin OverflowError
# (a class of our own would be ~300 bytes of resident heap for an internal signal).


def _copy_ascii(buf, pos, text):
    # -> the position after ``text`` in ``buf``, or -1 at a character past ASCII. Few
    # locals on purpose: a call whose frame outgrows the C stack slot (~11 values) is
    # given one on the heap, every call.
    for ch in text:
        if ch > _ASCII_LAST:
            return -1
        buf[pos] = ord(ch)
        pos += 1
    return pos


class SnapshotWriter:
    """``render(store)`` -> memoryview of the JSON bytes, valid until the next call."""

    def __init__(self, size=_BUF_SIZE, first=_FIRST_SIZE):
        self._limit = size
        self._buf = bytearray(min(first, size))
        self._view = memoryview(self._buf)
        self._n = 0
        self._size = len(self._buf)  # where a piece ends: the buffer's end, or _PIECE
        self._out = None  # the pieces while a snapshot is sent in pieces
        # Encoded once per unit: a meter sends a dozen, so after the first telegram
        # a unit costs nothing. OBIS codes are not cached: _put_text copies them.
        self._units = {}

    def _put_text(self, text):
        # OBIS codes, numbers and JSON keys are ASCII, copied byte by byte: no encoded
        # copy of each per snapshot, and no cache of the codes either (~2 kB for 40
        # codes, held for as long as the gateway runs).
        if self._n + len(text) > self._size and self._flush(len(text)):
            return self._out.append(text.encode())
        end = _copy_ascii(self._buf, self._n, text)
        if end < 0:  # text past ASCII (a meter's string reading): encoded
            self._put(text.encode())
        else:
            self._n = end

    def _unit(self, unit):
        piece = self._units.get(unit)
        if piece is None:
            piece = (b"}" if unit is None else (', "unit": %s}' % json.dumps(unit)).encode())
            if len(self._units) < _MAX_CACHED:
                self._units[unit] = piece
        return piece

    def _put(self, data):
        if isinstance(data, str):
            return self._put_text(data)
        end = self._n + len(data)
        if end > self._size:
            if self._flush(len(data)):
                return self._out.append(bytes(data))
            end = len(data)
        self._buf[self._n : end] = data
        self._n = end

    def _flush(self, need):
        # The buffer is full: OverflowError, or in pieces its bytes become a piece.
        # True when ``need`` bytes are more than a piece holds: they go as their own.
        if self._out is None:
            raise OverflowError
        if self._n:
            self._out.append(bytes(self._view[: self._n]))
            self._n = 0
        return need > self._size

    def _in_pieces(self, write, what):
        # ``write(what)`` (_render or _dump) -> the list of its pieces.
        self._out = []
        self._size = min(len(self._buf), _PIECE)
        self._n = 0
        try:
            write(what)
            self._flush(0)
            return self._out
        finally:
            self._out = None
            self._size = len(self._buf)

    def _value(self, value):
        if isinstance(value, bool) or value is None:
            return to_json(value)
        if isinstance(value, int):
            return str(value)
        if isinstance(value, str):
            return json.dumps(value)
        return to_json(value)  # floats (15 digits), lists, bytes: the decoder's rules

    def render(self, store):
        """-> a memoryview of the JSON bytes, valid until the next call, or a list of
        bytes pieces when the snapshot outgrows the buffer this heap holds."""
        while True:
            try:
                return self._render(store)
            except OverflowError:
                size = len(self._buf)
                if size >= self._limit:
                    return self._in_pieces(self._render, store)
                self._view = self._buf = None  # the old buffer is garbage before the new one
                try:
                    try:
                        self._buf = bytearray(min(self._limit, 2 * size or _FIRST_SIZE))
                    except MemoryError:
                        # No block that large: the old size again (its block was freed just
                        # now), and this heap's limit from now on. The snapshot goes out in
                        # pieces; a failed try per publish would collect the heap each time.
                        if not size:
                            raise
                        self._limit = size
                        self._buf = bytearray(size)
                finally:
                    # No room even so (MemoryError, raised on): an empty buffer stands in
                    # (a constant: nothing to allocate), and the next render grows it
                    # again. None would fail every render after.
                    self._buf = self._buf or b""
                    self._view = memoryview(self._buf)
                    self._size = len(self._buf)

    def grow(self, store):
        """Render only to grow the buffer to the store's size: nothing once it is at the
        limit, where a render would make pieces to throw away."""
        if len(self._buf) < self._limit:
            self.render(store)

    def document(self, doc):
        """``doc`` (dicts, lists, text, numbers) as JSON bytes in the same buffer, valid
        until the next call: discovery configs go out one after another without a
        ~450-byte string and its encoded copy each, which a fragmented heap may not
        have room for. A list of pieces, as render()'s, when the buffer is too small."""
        self._n = 0
        try:
            self._dump(doc)
        except OverflowError:
            return self._in_pieces(self._dump, doc)
        return self._view[: self._n]

    def _dump(self, obj):
        if isinstance(obj, dict):
            sep = b"{"
            for key in obj:
                self._put(sep)
                self._put(json.dumps(key))
                self._put(b": ")
                self._dump(obj[key])
                sep = b", "
            self._put(b"}" if sep == b", " else b"{}")
        elif isinstance(obj, list):
            sep = b"["
            for item in obj:
                self._put(sep)
                self._dump(item)
                sep = b", "
            self._put(b"]" if sep == b", " else b"[]")
        else:
            self._put(self._value(obj))

    def _render(self, store):
        self._n = 0
        self._put('{"meter_time": %s, "system_title": %s, "frame_counter": %s, "readings": {' % (
            self._value(store.meter_time), self._value(store.system_title), self._value(store.frame_counter)))
        readings = store.readings
        first = True
        for code in readings:  # not items(): a (code, pair) tuple per reading
            if not first:
                self._put(b", ")
            self._put(b'"')
            self._put(code)
            self._put(b'": {"value": ')
            pair = readings[code]
            self._put(self._value(pair[0]))
            self._put(self._unit(pair[1]))
            first = False
        self._put(b"}}")
        return self._view[: self._n]
