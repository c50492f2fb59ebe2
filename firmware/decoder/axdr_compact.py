"""compact-array (tag 0x13) of IEC 62056-6-2 4.1.5: one type description,
then the values packed without tags. Loaded by axdr.py only when a
compact-array arrives (rare in pushes), so the usual path carries none of it.

    13  TypeDescription  LEN  packed values…

    TypeDescription: tag of a simple type
                   | 01 count(uint16) TypeDescription          (array)
                   | 02 LEN TypeDescription × LEN              (structure)
"""

from decoder.axdr import _ONE, _SIZE, MAX_DEPTH, Cursor, _length_at, _length_bytes, _tuple
from decoder.compat import const
from decoder.errors import AxdrError, Incomplete

_NULL = const(0x00)
_ARRAY = const(0x01)
_STRUCTURE = const(0x02)
_COMPACT_ARRAY = const(0x13)
_LAST_TAG = const(0x1B)
_UNUSED = const(0xFE)  # axdr._SIZE marker of tags that are not Data


def description(cur, depth):
    """A TypeDescription: tag | (ARRAY, count, desc) | (STRUCTURE, [desc…]).

    A simple type is its bare tag (a small int, no allocation)."""
    if depth >= MAX_DEPTH:
        raise AxdrError("A-XDR type description deeper than %d" % MAX_DEPTH)
    # Null, empty arrays and empty structures are refused: every element
    # must take at least one byte, or a short frame could describe an
    # unbounded number of elements.
    tag = cur.byte()
    if tag == _ARRAY:
        count = cur.integer(2, 0)
        if count == 0:
            raise AxdrError("empty array in compact-array description")
        return (tag, count, description(cur, depth + 1))
    if tag == _STRUCTURE:
        return (tag, _descriptions(cur, depth + 1))
    if tag > _LAST_TAG or tag == _NULL or tag == _COMPACT_ARRAY or _SIZE[tag] == _UNUSED:
        raise AxdrError("bad type 0x%02x in compact-array description" % tag)
    return tag


def _descriptions(cur, depth):
    n = cur.length()
    if n == 0:
        raise AxdrError("empty structure in compact-array description")
    cur.need(n)
    items = _ONE * n
    i = 0
    while i < n:
        items[i] = description(cur, depth)
        i += 1
    return items


def typed(cur, desc, depth):
    """An untagged value laid out as ``desc`` says."""
    if type(desc) is int:
        return cur.content(desc, depth)
    if desc[0] == _ARRAY:
        # Each element takes a byte at least: a count the content cannot hold (FFFF from
        # a damaged description) is refused before its list is made (512 kB on the unix
        # port, a MemoryError out of feed on MicroPython).
        cur.need(desc[1])
        return _repeat(cur, desc[2], depth + 1, _ONE * desc[1])
    return _members(cur, desc[1], depth + 1)


# Lists are sized once: a comprehension would build a function object and
# a range per row and grow its list as it goes.
def _repeat(cur, desc, depth, items):
    i = 0
    while i < len(items):
        items[i] = typed(cur, desc, depth)
        i += 1
    return items


def _members(cur, descs, depth):
    """A structure row; two or three members (the usual rows) as a tuple
    display, others gathered in a list first."""
    if len(descs) == 2:
        return (typed(cur, descs[0], depth), typed(cur, descs[1], depth))
    if len(descs) == 3:
        return (typed(cur, descs[0], depth), typed(cur, descs[1], depth), typed(cur, descs[2], depth))
    items = _ONE * len(descs)
    i = 0
    while i < len(items):
        items[i] = typed(cur, descs[i], depth)
        i += 1
    return _tuple(*items)


def decode(cur, depth):
    """The rows of the compact-array whose tag ``cur`` has just read.

    ``cur`` reads the rows itself, its end moved to theirs (a second
    Cursor would cost ~160 bytes) and put back whatever happens."""
    desc = description(cur, depth + 1)
    outer = cur.end
    cur.end = cur.need(cur.length())
    return _rows(cur, desc, depth + 1, outer)


def _rows(cur, desc, depth, outer):
    # try/finally costs this frame a place on the MicroPython heap (~150
    # bytes), once per compact-array: cheaper than a second Cursor.
    items = []
    try:
        while cur.pos < cur.end:
            items.append(_row(cur, desc, depth))
    finally:
        cur.end = outer
    return items


def _row(cur, desc, depth):
    start = cur.pos
    row = typed(cur, desc, depth)
    if cur.pos == start:
        raise AxdrError("compact-array of zero-size elements at offset %d" % start)
    return row


def skip(buf, pos, end):
    """Position after a compact-array whose content starts at ``pos``."""
    cur = Cursor(buf, pos, end)
    cur.truncated = Incomplete  # a description cut short is one still arriving
    description(cur, 1)
    n = _length_at(buf, cur.pos, end)
    return cur.pos + _length_bytes(buf[cur.pos]) + n
