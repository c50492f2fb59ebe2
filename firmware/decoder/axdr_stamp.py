"""COSEM date-time, date and time values of A-XDR (IEC 62056-6-2 tags 0x19,
0x1A, 0x1B), kept as their raw bytes; obis.py writes the text::

    19  date-time  12 bytes  (layout in cosem_datetime.py)
    1A  date        5 bytes  year(2) month day weekday
    1B  time        4 bytes  hour minute second hundredths

Loaded by ``axdr`` with the first such value: most meters send their clock
as an octet-string (09 0C ...) and never need this class (~500 bytes of RAM
for as long as the decoder runs). Callers reach it as ``axdr.Stamp``,
``axdr.DateTime`` ... and test for it with ``axdr.is_stamp``.
"""

from decoder.axdr import DATE_TIME


class Stamp:
    """A date-time, date or time value (``tag`` 0x19, 0x1A or 0x1B) and its raw
    bytes. One class for the three: each class holds ~240 bytes of RAM."""

    def __init__(self, tag, raw):
        self.tag = tag
        self.raw = raw

    def __eq__(self, other):
        return type(other) is Stamp and other.tag == self.tag and other.raw == self.raw

    def __repr__(self):
        return "%s(%s)" % (("DateTime", "Date", "Time")[self.tag - DATE_TIME], self.raw.hex())


def DateTime(raw):  # noqa: N802 (named for the COSEM type)
    """date-time (tag 0x19): 12 bytes."""
    return Stamp(DATE_TIME, raw)


def Date(raw):  # noqa: N802
    """date (tag 0x1A): year(2) month day weekday."""
    return Stamp(DATE_TIME + 1, raw)


def Time(raw):  # noqa: N802
    """time (tag 0x1B): hour minute second hundredths."""
    return Stamp(DATE_TIME + 2, raw)
