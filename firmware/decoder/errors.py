"""Error hierarchy and error bookkeeping shared by every decoder layer.

Two families, kept apart on purpose (STYLE.md principle 7):

- ``Incomplete``: the bytes seen so far are a valid prefix; wait for more.
  Never counted, never logged.
- ``DecodeError``: the input is corrupt or cannot be used; drop it, count it
  by ``kind``, carry on with the next frame.

``kind`` names the counter a failure lands in; the gateway's status endpoint
shows the counters as they are. Only the errors some caller catches by name
are classes of their own (``AxdrError``: obis.py tries another body style;
``SecurityError``: a wrong key is worth telling apart). The others are only
ever raised and counted: link-layer faults raise a plain ``DecodeError``
("malformed"), and ``checksum_error``, ``overflow_error`` and
``sequence_error`` build a ``DecodeError`` of their kind. On MicroPython a
class costs ~290 bytes of RAM for as long as the decoder runs, a function
~40. Catch them as ``DecodeError`` and read ``.kind``.
"""


class Incomplete(Exception):
    """Not an error: the frame or APDU needs more bytes than are buffered."""


class DecodeError(Exception):
    """Base of every error the decoder raises on bad meter data."""

    kind = "malformed"


class SecurityError(DecodeError):
    """Ciphered APDU that cannot be decrypted or whose tag does not match."""

    kind = "authentication"


class AxdrError(DecodeError):
    """A-XDR data malformed: unknown tag, length past the end, bad value."""

    kind = "malformed"


def _of_kind(message, kind):
    error = DecodeError(message)
    error.kind = kind  # an instance attribute: only an error actually raised pays for it
    return error


def checksum_error(message):
    """Link layer: HDLC HCS/FCS, M-Bus checksum or DSMR CRC mismatch."""
    return _of_kind(message, "checksum")


def overflow_error(message):
    """A frame or a reassembled message is longer than its bounded buffer."""
    return _of_kind(message, "overflow")


def sequence_error(message):
    """Segments or General Block Transfer blocks missing, duplicated or out of order."""
    return _of_kind(message, "sequence")


# The kinds every ErrorLog starts with, so that counters show 0 rather than
# being absent (Prometheus and the status page want a stable set).
KINDS = ("checksum", "authentication", "malformed", "overflow", "sequence")


class ErrorLog:
    """Counts decode failures by kind and keeps the last message.

    ``clock`` is an optional callable returning a timestamp for the last error;
    the decoder itself passes none (it does no I/O, reads no clock).

    ``with log:`` counts a DecodeError raised in the block and ends the block
    quietly; anything else goes through. The per-push path uses it in place of
    ``except DecodeError as e``: MicroPython puts the frame of any function
    with an ``except ... as`` clause on the heap (~150 bytes per call, errors
    or not); a with block does not.
    """

    def __init__(self, clock=None):
        self.counts = {}
        for kind in KINDS:
            self.counts[kind] = 0
        self.tally = 0  # every kind: total() without walking the counters, per frame
        self.last_error = None
        self.last_error_time = None
        self._clock = clock

    def count(self, kind, message):
        """Record one failure of ``kind`` with a human-readable message."""
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.tally += 1
        self.last_error = message
        if self._clock is not None:
            self.last_error_time = self._clock()

    def record(self, error):
        """Record a DecodeError instance under its own kind."""
        self.count(error.kind, str(error))

    def total(self):
        return self.tally

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if isinstance(value, DecodeError):
            self.record(value)
            return True
        return False
