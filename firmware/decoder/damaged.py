"""Frames whose start a bit error hit or a UART overrun lost: HDLC (IEC 62056-46),
wired M-Bus long frames (EN 13757-2) and DSMR P1 telegrams (DSMR 5.0.2).

Such a frame reads as bytes no frame takes: the framer passes over them and its push
is lost. Where the next frame was due after a good one, the framer keeps the first
bytes it passes over (``head``: two halves of GAP_HEAD bytes, each a byte of room
for a flag, then the bytes; stream.Framer._gap_head) and asks here, at the next start
byte of the line's framing, whether they were a damaged frame, to count it. Bytes a
meter sends after its frames (a Wiener Netze signature) must not pass: each check
takes its frame's own redundancy, which random bytes pass about once in 10**7.

Loaded by the first such question (a line whose frames come back to back never asks).
"""

from decoder.compat import const
from decoder.errors import DecodeError
from decoder.hdlc import _info_start

_MORE = const(-1)  # hdlc._info_start's "not all bytes here yet" (its const: no attribute to import)
_FORMAT_TYPE = const(0xA0)  # hdlc.py's frame format type 3
_TYPE_MASK = const(0xF0)
_SEGMENTED = const(0x08)
_LENGTH_HIGH = const(0x07)
_MIN_LENGTH = const(7)  # shortest HDLC frame between its flags
_MAX_LENGTH = const(0x7FF)
_MBUS_START = const(0x68)
_DSMR_START = const(0x2F)  # "/"
_ASK = const(0x3F)  # "?" after "/": an IEC 62056-21 request, which stream.py passes over
_MBUS_MIN_BODY = const(3)  # mbus.py: an L below it lost its high byte (T210-D: 01 for 257)
_MBUS_WRAP = const(256)


def hdlc_start(head, base, n):
    """Whether the ``n`` bytes between two flags, the first of them in head[base + 1:]
    (head[base] is room for a flag), are an HDLC frame whose opening flag or first
    format byte a bit error hit, or that lost its first format byte: the length's low
    byte fits ``n`` and the HCS checks once that byte is put right. ``head`` may change.
    """
    kept = base + min(n, len(head) // 2 - 1) + 1
    if n < _MIN_LENGTH or n >= _MAX_LENGTH:
        return False
    # The first format byte damaged: its low bits are the length's high ones.
    if head[base + 2] == n & 0xFF and _put_right(head, base, n, kept):
        return True
    # The opening flag: head[base + 1] stood in its place, the format byte follows.
    fmt = head[base + 2]
    if (fmt & _TYPE_MASK == _FORMAT_TYPE and ((fmt & _LENGTH_HIGH) << 8 | head[base + 3]) == n - 1
            and _header_checks(head, base + 1, base + n + 1, kept)):
        return True
    # The first format byte lost (a UART overrun): the length's low byte comes first.
    return head[base + 1] == (n + 1) & 0xFF and _put_right(head, base - 1, n + 1, kept)


def _put_right(head, pos, length, kept):
    # The format byte at head[pos + 1] as ``length`` says, with either segmentation bit;
    # the byte that was there is put back when neither checks.
    sent = head[pos + 1]
    for fmt in (_FORMAT_TYPE, _FORMAT_TYPE | _SEGMENTED):
        head[pos + 1] = fmt | length >> 8
        if _header_checks(head, pos, pos + 1 + length, kept):
            return True
    head[pos + 1] = sent
    return False


def _header_checks(buf, pos, close, end):
    # A frame with an information field whose HCS checks (none: nothing to tell it by).
    try:
        return _info_start(buf, pos, close, end) not in (_MORE, close - 2)
    except DecodeError:
        return False


def mbus_start(head, base, n):
    """Whether the ``n`` bytes in head[base + 1:] are an M-Bus long frame one byte of
    whose start 68 L L 68 a bit error hit or an overrun lost: the other three in place
    and ``n`` the length an L gives. (In sync the framer counts a frame with a damaged
    L or second 68 itself; here the hunt passed over it, after a master's short frame.)"""
    at = base + 1
    if n < 8:
        return False
    if head[at] != _MBUS_START:
        # The first 68 hit (L L 68 follow), or lost (L L 68 at once).
        if head[at + 1] == head[at + 2] and head[at + 3] == _MBUS_START and n == _mbus_body(head[at + 1]) + 6:
            return True
        return head[at] == head[at + 1] and head[at + 2] == _MBUS_START and n == _mbus_body(head[at]) + 5
    if head[at + 1] != head[at + 2]:
        # An L hit (68 L L' 68: the length says which), or lost (68 L 68).
        if head[at + 3] == _MBUS_START and n in (_mbus_body(head[at + 1]) + 6, _mbus_body(head[at + 2]) + 6):
            return True
        return head[at + 2] == _MBUS_START and n == _mbus_body(head[at + 1]) + 5
    if head[at + 3] == _MBUS_START:
        return False  # a start in place: its frame failed elsewhere, and was counted there
    # The second 68 hit (68 L L x), or lost (68 L L C).
    return n in (_mbus_body(head[at + 1]) + 6, _mbus_body(head[at + 1]) + 5)


def _mbus_body(length):
    return length + _MBUS_WRAP if length < _MBUS_MIN_BODY else length


def dsmr_start(head, n):
    """Whether the ``n`` bytes in head[1:] are a DSMR telegram whose "/" a bit error hit
    (head[1]) or an overrun lost: its header's three letters and the baud rate digit
    of IEC 62056-21 come first. Or, the "/" in place, one of the letters hit or lost:
    in sync the framer counts such a header itself, after idle bytes it hunted past."""
    if n <= 5 or head[1] == _DSMR_START and head[2] == _ASK:
        return False  # (a request "/?" address "!": its address may be letters and digits)
    if head[1] == _DSMR_START:
        return _letters(head, 2, 5) >= 2 and _digit(head[5]) or _letters(head, 2, 4) == 2 and _digit(head[4])
    return _letters(head, 2, 5) == 3 and _digit(head[5]) or _letters(head, 1, 4) == 3 and _digit(head[4])


def _letters(head, start, stop):
    count = 0
    for i in range(start, stop):
        if 0x61 <= head[i] | 0x20 <= 0x7A:  # A-Z, a-z
            count += 1
    return count


def _digit(byte):
    return 0x30 <= byte <= 0x39
