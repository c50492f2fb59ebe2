"""xDLMS APDU headers of a meter push (IEC 62056-5-3; DLMS UA Green Book).

The parsing half of ``decoder/apdu.py`` (split out to keep both small);
callers use ``apdu``.

A link payload holds one or more APDUs back to back, each possibly behind an
LLC header ``E6 E7 00`` (IEC 62056-46 / ISO/IEC 8802-2)::

  data-notification (0x0F)
    0F | long-invoke-id-and-priority (4) | date-time | notification-body (A-XDR)
    date-time: 00 = absent | 0C + 12 bytes | 09 0C + 12 bytes (typed: Norwegian Kaifa)

  general-glo-ciphering (0xDB), general-ded-ciphering (0xDC)
    DB | 08 | system title (8) | LEN | SC | frame counter (4) | ciphertext | tag (12)
    the tag is there when SC has the authentication bit 0x10 (see gcm.py)

  general-block-transfer (0xE0)
    E0 | block control | block number (2) | block number ack (2) | LEN | block data
    block control: bit 7 last block, bit 6 streaming, bits 5-0 window

LEN is a BER length: 00-7F, or 81 nn, or 82 nn nn. The blocks of a General
Block Transfer are joined in one bounded buffer and the result is read as
APDUs again; so is the plaintext of a ciphered APDU, unless it is a DSMR
telegram (Luxembourg Smarty: ``/`` first; its inner CRC is wrong, the GCM
tag vouches for it instead).

The parsers return positions and lengths as plain ints (a tuple would be a
heap object per call on MicroPython) and raise their errors through
``_noted``, which keeps the error for ``ApduReader._drain`` to record.
"""

from decoder import axdr
from decoder.compat import const
from decoder.errors import AxdrError, DecodeError, Incomplete

TAG_NOTIFICATION = const(0x0F)
_TAG_GLO_CIPHERING = const(0xDB)
_TAG_DED_CIPHERING = const(0xDC)
TAG_GENERAL_CIPHERING = const(0xDD)
# general-ciphering's key-info CHOICE (IEC 62056-5-3): identified-key names the
# global unicast or broadcast key we hold; wrapped and agreed keys need a KEK or
# an ECDH key agreement a push receiver does not have.
_KEY_INFO_PRESENT = const(0x01)
_IDENTIFIED_KEY = const(0x00)
TAG_GBT = const(0xE0)
_LLC_DSAP = const(0xE6)
LLC_BYTES = const(3)  # E6 E7 00 (response) or E6 E6 00 (command)
_OCTET_STRING = const(0x09)
DATETIME_BYTES = const(12)  # COSEM date-time (IEC 62056-6-2)
TITLE_AT = const(2)  # the system title follows the tag and its length byte
TITLE_BYTES = const(8)  # system title, the GCM IV prefix
GBT_HEADER = const(6)  # tag, control, block number, block number ack
# BER lengths of up to two bytes (81 nn, 82 nn nn): 65535 is far above any
# bounded buffer here, so a longer form can only be corrupt data.
_BER_ONE = const(0x81)
_BER_TWO = const(0x82)
# GBT -> ciphered APDU -> data-notification is the deepest real nesting.
MAX_DEPTH = const(2)

# The DecodeError on its way to ApduReader._drain, which records it: catching
# it there with ``except ... as e`` would put that frame on the heap per push.
_raised = [None]


def _noted(error):
    """``raise _noted(SomeError(...))``: the error, kept for _drain to record."""
    _raised[0] = error
    return error


def _ber_length(buf, pos, end):
    """The BER length at ``pos``; Incomplete when it runs past ``end``."""
    if pos >= end:
        raise Incomplete()
    first = buf[pos]
    if first < 0x80:
        return first
    if first != _BER_ONE and first != _BER_TWO:
        raise _noted(DecodeError("unsupported BER length form 0x%02x at offset %d" % (first, pos)))
    if pos + 1 + (first & 0x7F) > end:
        raise Incomplete()
    if first == _BER_ONE:
        return buf[pos + 1]
    return (buf[pos + 1] << 8) | buf[pos + 2]


def _after_length(buf, pos):
    """Position after the (already checked) BER length at ``pos``."""
    first = buf[pos]
    return pos + 1 if first < 0x80 else pos + 1 + (first & 0x7F)


def _datetime_at(buf, pos, end):
    """0x0F at pos -> position of its 12 date-time bytes, or minus the body
    position when it has none (positions are never 0, so the sign tells)."""
    if pos + 6 > end:
        raise Incomplete()
    p = pos + 5
    if buf[p] == _OCTET_STRING:  # typed date-time: 09 0C ...
        p += 1
        if p >= end:
            raise Incomplete()
    size = buf[p]
    if size == 0:
        return -(p + 1)
    if size != DATETIME_BYTES:
        raise _noted(DecodeError("data-notification date-time of %d bytes (0 or 12 expected)" % size))
    if p + 1 + size > end:
        raise Incomplete()
    return p + 1


def _body_at(buf, pos, end):
    at = _datetime_at(buf, pos, end)
    return -at if at < 0 else at + DATETIME_BYTES


def _end_of(buf, pos, end):
    """Where the APDU at ``pos`` ends; Incomplete when past ``end``."""
    tag = buf[pos]
    if tag == TAG_NOTIFICATION:
        return _body_end(buf, _body_at(buf, pos, end))
    if tag == _TAG_GLO_CIPHERING or tag == _TAG_DED_CIPHERING:
        stop = _cipher_end(buf, pos, end)
    elif tag == TAG_GENERAL_CIPHERING:
        stop = _general_end(buf, pos, end)
    elif tag == TAG_GBT:
        if pos + GBT_HEADER > end:
            raise Incomplete()
        stop = _ber_length(buf, pos + GBT_HEADER, end) + _after_length(buf, pos + GBT_HEADER)
    else:
        raise _noted(DecodeError("APDU tag 0x%02x at offset %d: no data-notification, ciphering or GBT" % (tag, pos)))
    if stop > end:
        raise Incomplete()
    return stop


def _body_end(buf, body):
    # Apart from _end_of: a try block enlarges the frame, and _end_of runs for every
    # GBT block, where a frame past MicroPython's on-stack size costs ~200 bytes of heap.
    try:
        return axdr.skip(buf, body)
    except AxdrError as e:
        return _quirk_end(buf, body, e)


def _quirk_end(buf, body, error):
    # A body A-XDR cannot walk may be a known vendor quirk (the Sagemcom XT211's
    # untagged class ids and OBIS codes). Framed, such a body gets the rest of its
    # payload (apdu.py); bare, nothing else tells where it ends. Loaded only here, and
    # only for a body that opens as that shape does (a 2-structure): line noise that
    # passes for an APDU header does not load the tree reader into a small heap.
    if body + 2 > len(buf) or buf[body] != 0x02 or buf[body + 1] != 0x02:
        raise error
    from decoder import obis_untagged

    try:
        return obis_untagged.xt211_end(buf, body)
    except AxdrError:
        raise error


def _cipher_end(buf, pos, end):
    if pos + TITLE_AT > end:
        raise Incomplete()
    if buf[pos + 1] != TITLE_BYTES:
        raise _noted(DecodeError("system title of %d bytes (%d expected)" % (buf[pos + 1], TITLE_BYTES)))
    pos += TITLE_AT + TITLE_BYTES
    return _ber_length(buf, pos, end) + _after_length(buf, pos)


def _general_end(buf, pos, end):
    # Apart from _end_of, which runs per GBT block: a local more there puts its frame
    # on the heap (168 bytes a block, test_apdu_heap.py).
    at = general_content(buf, pos, end)
    return _ber_length(buf, at, end) + _after_length(buf, at)


def general_title(buf, pos):
    """Position of the originator system title of the general-ciphering APDU at
    ``pos`` (after its transaction-id), checked to be 8 bytes."""
    at = pos + 2 + buf[pos + 1]  # the title's length, past the tag and the transaction-id
    if buf[at] != TITLE_BYTES:
        raise _noted(DecodeError("originator system title of %d bytes (%d expected)" % (buf[at], TITLE_BYTES)))
    return at + 1


def general_content(buf, pos, end):
    """general-ciphering (0xDD, IEC 62056-5-3) at ``pos``: the position of its
    ciphered-content's length, past transaction-id, originator and recipient
    system titles, date-time, other-information and key-info::

        DD | len tid | 08 title | len recipient | len date-time | len other | key-info | LEN content

    The content (security control, invocation counter, ciphertext, tag) is what
    general-glo-ciphering carries; the IV is the originator's title and the
    counter. Incomplete when the header runs past ``end``."""
    at = pos + 1
    for _ in range(5):  # the five octet-strings, short lengths in practice
        if at >= end:
            raise Incomplete()
        at += 1 + _short_length(buf, at)
    if at >= end:
        raise Incomplete()
    if buf[at] == _KEY_INFO_PRESENT:
        if at + 2 >= end:
            raise Incomplete()
        if buf[at + 1] != _IDENTIFIED_KEY:
            raise _noted(DecodeError("general-ciphering with a wrapped or agreed key (key-info choice %d): "
                                     "only the configured keys are known here" % buf[at + 1]))
        at += 2
    return at + 1


def _short_length(buf, at):
    if buf[at] >= 0x80:
        raise _noted(DecodeError("general-ciphering field of BER length form 0x%02x" % buf[at]))
    return buf[at]


def measure(buf, pos=0):
    """Total length of the APDU at ``pos`` (tags 0x0F, 0xDB, 0xDC, 0xDD, 0xE0).

    Raises Incomplete when ``buf`` ends before the APDU does and DecodeError
    when the bytes cannot be one of these APDUs.
    """
    end = len(buf)
    if pos >= end:
        raise Incomplete()
    return _end_of(buf, pos, end) - pos


def header_length(buf, pos, end):
    """Total length of the ciphered APDU or GBT block at ``pos``, from its header in buf[:end].

    0 while the header is incomplete; -1 when the header does not tell: a
    data-notification (its length is its body's, only ``measure`` walks it)
    or a header ``measure`` rejects. Never raises: the framer asks it while
    bytes trickle in, where each Incomplete from ``measure`` costs ~200 bytes
    of heap.
    """
    tag = buf[pos]
    if tag == _TAG_GLO_CIPHERING or tag == _TAG_DED_CIPHERING:
        if pos + TITLE_AT > end:
            return 0
        if buf[pos + 1] != TITLE_BYTES:
            return -1
        at = pos + TITLE_AT + TITLE_BYTES
    elif tag == TAG_GBT:
        at = pos + GBT_HEADER
    else:
        return -1
    if at >= end:
        return 0
    if buf[at] < 0x80:
        return at + 1 + buf[at] - pos
    if buf[at] != _BER_ONE and buf[at] != _BER_TWO:
        return -1
    if at + 1 + (buf[at] & 0x7F) > end:
        return 0
    if buf[at] == _BER_ONE:
        return at + 2 + buf[at + 1] - pos
    return at + 3 + ((buf[at + 1] << 8) | buf[at + 2]) - pos


def _is_llc(view, pos, end):
    # E6 E7 00 before a response/notification, E6 E6 00 before a command.
    if view[pos] != _LLC_DSAP or pos + LLC_BYTES > end:
        return False
    return view[pos + 1] & 0xFE == _LLC_DSAP and view[pos + 2] == 0
