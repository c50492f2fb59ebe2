"""DSMR P1 telegrams (DSMR 5.0.2 P1 Companion Standard), the
ASCII push of Dutch, Belgian, Luxembourgish and many Swiss meters.

A telegram::

    /XXX5<identification> CR LF          XXX: manufacturer, three letters
    CR LF
    1-0:1.8.1(001234.567*kWh) CR LF      OBIS(value[*unit])
    0-0:1.0.0(231121150000W) CR LF       YYMMDDhhmmss + S (summer) / W (winter)
    0-1:24.2.1(231121150000W)(00012.345*m3) CR LF   capture time, then value
    !ABCD CR LF                          CRC-16/ARC of "/" .. "!" in hex
                                         (some meters drop leading zeros: !B9F)

Older meters (DSMR 2.2/3, some Swiss P1 ports) end with a bare "!": such
telegrams are accepted without a CRC, unless a new header inside shows that
one was cut short. The "!" is followed by the line end, or, with telegrams
back to back, by the next header at once ("!/ISk5").

Polish Stoen meters (Kaifa MA309M, Elgama GAMA 150/350; amsreader-firmware
issues 1067, 1177, 1198) put a ciphered block between the header and the
"!": an empty system title 00, a BER length 81 LL or 82 LL LL, the security
byte, then the frame counter, ciphertext and tag. It is not read: the block
is measured by its length (the ciphertext may hold "!" CR LF or "/ABC5"),
and the telegram goes to ``parse`` whole, which counts it as one error.

``frame`` finds a telegram in the framer's buffer; ``parse`` turns its text
into readings ``{OBIS text: (value, unit or None)}`` and the meter time
(``dsmr_parse.py``, loaded with the first telegram: a meter speaking HDLC or
M-Bus never needs it).
"""

from decoder import crc
from decoder.compat import const
from decoder.errors import DecodeError, checksum_error

START = const(0x2F)  # "/"
_END = const(0x21)  # "!"
_CLOSE = const(0x29)  # ")"
_CR = const(0x0D)
_LF = const(0x0A)
_CRC_DIGITS = const(4)
# "/ISk5\2MT382-1000" written in C, Python or JavaScript without doubling the backslash
# puts 0x02 in the header; such telegrams fill public test suites (dsmr-reader's), their
# CRCs computed over it. Taken in the header line, where nothing is read.
_STX = const(0x02)
_ACK = const(0x06)  # the reader's option select, echoed into a readout (text_end)
# IEC 62056-21 readouts (mode C): STX opens the data block, and after its "!" line ETX and
# a block check character, the XOR of every byte after STX through ETX.
_ETX = const(0x03)
_HEADER_LETTERS = const(3)  # "/XXX": the FLAG manufacturer code
_HEADER_LINE_MAX = const(80)  # "/" to the line end

def frame(buf, pos, end):
    """Length of the telegram starting at buf[pos] ("/"); 0 while it is incomplete.

    ``buf`` is a bytearray (``find`` is used to look for the "!"). The
    telegram text, "/" through the CRC digits, is the whole length from
    ``pos``. Raises DecodeError or checksum_error. Few locals, no heap: the
    framer calls it on every telegram.
    """
    if end - pos < 1 + _HEADER_LETTERS:
        return 0
    _check_header(buf, pos, end)
    bang = binary_block_end(buf, pos, end)
    if bang == 0:
        return 0
    if bang > 0:  # a ciphered block (see above): its own end, whatever CRC follows
        if bang + 1 >= end:
            return 0
        if _is_line_end(buf[bang + 1]):
            return bang + 1 - pos
        digits = _crc_digits(buf, bang + 1, end, pos)
        return 0 if digits == 0 else bang + 1 + max(digits, 0) - pos
    bang = buf.find(b"!", pos + 1, end)
    while True:
        if bang < 0 or bang + 1 >= end:
            return 0
        if _is_line_end(buf[bang + 1]):
            # The "!" that opens its line, or closes the last one after its ")", as an IEC
            # 62056-21 readout may write it: "...(01.193*kW)!". Not one that took a ")"'s
            # place, "(001234.567*kWh!": a bit error (0x29 is 0x21 with bit 3 set). Taken
            # for the end, the lines before it went out unchecked, unit "kWh!", and those
            # after it were lost.
            if _is_line_end(buf[bang - 1]) or buf[bang - 1] == _CLOSE:
                _check_text(buf, pos, bang)
                bang = _readout_end(buf, pos, bang, end)
                return bang - pos if bang else 0
            bang = buf.find(b"!", bang + 1, end)
            continue
        if buf[bang + 1] == START and _is_line_end(buf[bang - 1]):
            # Telegrams without CRC sent back to back, no line end after the "!": the
            # next header ends this one (before, the two read as one cut short). The
            # "!" that ends a telegram opens its line; one inside a text ("Attention!/ABC5")
            # does not.
            if bang + 2 + _HEADER_LETTERS >= end:
                return 0
            if _new_header(buf, bang + 1):
                _check_text(buf, pos, bang)
                return bang + 1 - pos
        digits = _crc_digits(buf, bang + 1, end, pos)
        if digits == 0:
            return 0
        if digits > 0:
            _check_crc(buf, pos, bang, digits)
            return bang + 1 + digits - pos
        # A "!" in the text (a message in plain text: "Tisztelt Ügyfelünk!"): the end is
        # the "!" that hex digits and the line end follow (DSMR 5.0.2 6.2).
        bang = buf.find(b"!", bang + 1, end)


def _readout_end(buf, pos, bang, end):
    # Where the telegram whose last line is the "!" at ``bang`` ends: after that "!", or
    # when an STX opened its data block, after the ETX and BCC that follow its line end,
    # the BCC checked (0 while they have not all arrived). Passed over as bytes between
    # telegrams, they put the framer to hunting, where the next readout, damaged, went
    # uncounted; and unchecked, a flipped digit read as a wrong value (a review).
    at = buf.find(b"\x02", pos + 1, bang)  # (no new local: this frame stays off the heap)
    while at > 0 and not _is_line_end(buf[at - 1]):  # not the header's (text_end)
        at = buf.find(b"\x02", at + 1, bang)
    if at < 0:
        return bang + 1
    pos = at - 1
    at = bang + 1
    while at < end and at <= bang + 2 and _is_line_end(buf[at]):
        at += 1
    if at + 1 >= end:
        return 0
    if buf[at] != _ETX:
        raise DecodeError("IEC 62056-21 readout whose data block (STX) has no ETX after its !")
    check = 0
    for i in range(pos + 2, at + 1):
        check ^= buf[i]
    if check != buf[at + 1]:
        raise checksum_error("IEC 62056-21 readout: block check character (BCC) mismatch")
    return at + 2


def binary_block_end(buf, pos, end):
    """Where the "!" after a Stoen meter's ciphered block is (see above), 0 while its
    length has not arrived, -1 when the telegram at ``pos`` has no such block (or the
    byte its length points to is no "!": DecodeError). Two small functions: a MicroPython
    call with more than 11 slots of locals and stack takes its frame from the heap."""
    stop = pos + 128
    if stop > end:
        stop = end
    at = buf.find(b"\r\n\r\n", pos, stop)
    if at < 0 or buf.find(b"\n", pos, at) >= 0 or buf.find(b"\r", pos, at) >= 0:
        # (the block follows the blank line at once: no "!" came before it). A blank line
        # further on is none of the header's: a short telegram's "!" CR LF and a line end
        # after it, read in one piece, waited for a block's length (held back until the
        # next byte; polled, a readout until the next poll), where read in small pieces
        # it came out at its "!".
        return -1
    return _block_end(buf, at + 4, end)


def _block_end(buf, at, end):
    # binary_block_end after the blank line, at ``at``: 00, the length, the security byte.
    if at + 4 >= end:
        return 0 if at >= end or buf[at] == 0 else -1
    if buf[at] != 0:
        return -1
    size = buf[at + 1]
    if size == 0x81:
        size = buf[at + 2]
        at += 3
    elif size == 0x82:
        size = buf[at + 2] << 8 | buf[at + 3]
        at += 4
    else:
        return -1  # a NUL after the header, then text: a telegram, read as one
    if buf[at] & 0xC0 or not buf[at] & 0x30:
        return -1  # no security byte (authentication 10, encryption 20; no compression 80)
    at += size
    if at >= end:
        return 0
    if buf[at] != _END:
        raise DecodeError("DSMR telegram with a binary block after its header that does not end in !")
    return at


def _crc_digits(buf, start, end, pos):
    # How many CRC digits follow the "!" (the telegram starts at ``pos``); 0 while they
    # may still be arriving, -1 when what follows is no CRC. Four as the standard says,
    # or fewer ended by the line end: a heat meter (NWA Warmtelink) writes 0x0B9F as
    # "B9F", and its telegrams would be lost one in sixteen.
    digits = 0
    while digits < _CRC_DIGITS:
        if start + digits >= end:
            return 0
        if _is_line_end(buf[start + digits]):
            break
        if _hex_digit(buf[start + digits]) < 0:
            return -1
        digits += 1
    if digits == _CRC_DIGITS and (start + digits >= end or not _is_line_end(buf[start + digits])):
        return _crc_or_text(buf, pos, start, end)
    return digits


def _crc_or_text(buf, pos, start, end):
    # Four hex digits after a "!" that no line end follows (yet): the CR LF after the CRC
    # (DSMR 5.0.2 6.2) ends the telegram, and so does a CRC that holds after a "!" that
    # opens its line (a meter that sends no line end: no waiting for the next telegram),
    # or the next header at once. Else it is text: "(Figyelem!2024.05.10 ...)" in a
    # plain-text message, no CRC "2024".
    at = start + _CRC_DIGITS
    if _is_line_end(buf[start - 2]) and (crc.arc(buf, pos, start) == _hex_value(buf, start, at)
                                         or crc.x25(buf, pos, start) == _hex_value(buf, start, at)):
        return _CRC_DIGITS  # (a "!" that opens its line: in a text, four digits hold by chance 1 in 65536)
    if at >= end:
        return 0
    if buf[at] != START:
        return -1
    if at + 1 + _HEADER_LETTERS >= end:
        return 0
    return _CRC_DIGITS if _new_header(buf, at) else -1


def _check_header(buf, pos, end):
    if not _letters_after(buf, pos):
        raise DecodeError("DSMR header must start with / and three letters")
    # The identification line is text and short (IEC 62056-21: "/XXXZ" and up to 16
    # characters; DSMR meters add a few). A "/" and three letters among binary bytes (the
    # ciphertext a hunt steps through) fail here within a few bytes, where they waited for
    # a "!" until the buffer was full: an overflow counted, and on a line of bare APDUs
    # the pushes behind them held back.
    at = pos + 1 + _HEADER_LETTERS
    stop = min(end, pos + _HEADER_LINE_MAX)
    while at < stop:
        c = buf[at]
        if c == _CR or c == _LF:
            return
        if c < 0x20 and c != _STX or c == 0x7F:
            raise DecodeError("DSMR header line holds byte 0x%02x" % c)
        at += 1
    if stop == pos + _HEADER_LINE_MAX:
        raise DecodeError("DSMR header line longer than %d bytes" % _HEADER_LINE_MAX)


def _letters_after(buf, at):
    # The manufacturer's three letters after the "/" at ``at``.
    for i in range(at + 1, at + 1 + _HEADER_LETTERS):
        c = buf[i] | 0x20  # fold A-Z to a-z
        if not 0x61 <= c <= 0x7A:
            return False
    return True


def _check_crc(buf, pos, bang, digits, what=None):
    # CRC-16/ARC as DSMR 5.0.2 says, or the X.25 one of HDLC: a Hungarian Holley DTSD545
    # computes that (dsmr_parser issue 91), and every telegram of it failed. A damaged
    # telegram now passes one check or the other 2 in 65536 times, not 1.
    # (No local for the value sent: one more word puts this frame on the heap per telegram.)
    if (crc.arc(buf, pos, bang + 1) != _hex_value(buf, bang + 1, bang + 1 + digits)
            and crc.x25(buf, pos, bang + 1) != _hex_value(buf, bang + 1, bang + 1 + digits)):
        if what is None and buf.find(b"\n!", pos, bang) < 0 and buf.find(b"\r!", pos, bang) < 0:
            # On the line (``what`` names a telegram inside the ciphering), with no end
            # before this "!" (an end whose CRC digits were damaged ran on to here): a new
            # header inside is a telegram cut short, no line fault; said as that.
            _cut_short(buf, pos, bang)
        raise checksum_error(what or "DSMR CRC mismatch")


def _is_line_end(c):
    return c == _CR or c == _LF


def _check_text(buf, start, stop):
    # Without a CRC only the character set tells a telegram from noise, and only a new
    # header ("/", three letters, the baud rate digit of IEC 62056-21) tells that this
    # one was cut short by a meter reset or a dropped line: read as one, the two would
    # give the dead telegram's time and a mix of both telegrams' readings. Asked first:
    # a P1 port's idle NULs before the new header are no reason to call the cut one noise
    # (uncounted while the framer hunts, stream._damaged).
    _cut_short(buf, start, stop)
    at = text_end(buf, start, stop)
    if at < stop:
        raise DecodeError("DSMR telegram contains byte 0x%02x" % buf[at])
    # With no CRC to tell, the line whose ")" became "!" (frame, above) makes the
    # telegram noise: its value may be damaged too.
    at = buf.find(b"!", start, stop)
    while at >= 0:
        if _is_line_end(buf[at + 1]):
            raise DecodeError("DSMR line ends in ! where its ) belongs: a bit error on the line")
        at = buf.find(b"!", at + 1, stop)


def _cut_short(buf, start, stop):
    # A new header inside the telegram: cut short (its CRC, if any, is the next one's).
    at = buf.find(b"/", start + 1, stop)
    while 0 <= at < stop - 4:
        if _new_header(buf, at):
            raise DecodeError("DSMR telegram cut short: a new one starts inside it")
        at = buf.find(b"/", at + 1, stop)


def _new_header(buf, at):
    # A telegram's start at ``at``: "/", three letters and the baud rate digit of IEC
    # 62056-21 (the first header of a stream is taken with any fifth byte: _check_header).
    return _letters_after(buf, at) and 0x30 <= buf[at + 1 + _HEADER_LETTERS] <= 0x39


def text_end(buf, start, stop):
    """Where the first byte that no telegram holds is in buf[start:stop]; ``stop`` if none.
    ``start``: the telegram's "/"; its header line, which ``_check_header`` checked (and
    whose 0x02 it let through), is passed over. An STX that opens a line opens the data
    block of an IEC 62056-21 readout ("/ISk5MT174-0002", CR LF, STX, the data lines, "!",
    CR LF, then ETX and a BCC: ``_readout_end``). An ACK that opens a line is the reader's
    option select ("ACK 0 5 0" CR LF, IEC 62056-21 6.3.3) between the identification and
    the STX, where an optical head's echo or a second reader on the line puts it.

    Control characters other than CR and LF. Bytes from 0x80 up are text: UTF-8 in
    a message, or the 0xFF fill of a Hungarian meter's 1024-byte message field
    (dsmr_parse reads what is not UTF-8 as "?").
    """
    while start < stop and not _is_line_end(buf[start]):
        start += 1
    for i in range(start, stop):
        c = buf[i]
        if (c < 0x20 or c == 0x7F) and c != _CR and c != _LF and (
                c != _STX and c != _ACK or not _is_line_end(buf[i - 1])):
            return i
    return stop


def _hex_value(buf, start, stop):
    value = 0
    for i in range(start, stop):
        value = (value << 4) | _hex_digit(buf[i])
    return value


def _hex_digit(c):
    # The value of hex digit ``c`` in either case, -1 for another byte (_crc_digits).
    c |= 0x20  # fold A-F to a-f
    if 0x30 <= c <= 0x39:
        return c - 0x30
    if 0x61 <= c <= 0x66:
        return c - 0x57
    return -1


def parse(text, vouched=None):
    """Readings of a telegram: ``({OBIS: (value, unit or None)}, meter_time or None)``.

    ``text`` is str or bytes-like, "/" through "!" (CRC optional). Lines
    that are not ``OBIS(...)`` are skipped; text that is not a telegram at
    all raises DecodeError. ``vouched``: None for a telegram off the line (the
    framer checked its CRC or BCC, if it has one); True when a GCM tag held
    over it, which vouches for every byte, CRC or not; False when nothing
    checked the text on its way (the plaintext of a ciphered telegram whose tag
    could not be checked: no authentication key given), so its own CRC, if it
    has one, must hold.
    """
    if vouched is False:
        _check_own_crc(text)
    from decoder import dsmr_parse

    return dsmr_parse.parse(text, vouched)


def _check_own_crc(text):
    # Without a tag a bit error on the line decrypts to a wrong digit (973.764 kWh for
    # 273.764), published as read. With the tag checked the CRC is not: a public Smarty
    # test telegram (openHAB's) carries a wrong one under a tag that holds. A copy that
    # lost a byte decrypts to garbage from there on, its end too: the text must end as a
    # telegram does, a "!" opening its line, then up to four CRC digits and line ends.
    bang = len(text) - 1
    while bang > 0 and text[bang] != _END:
        bang -= 1
    end = len(text)
    while end > bang and _is_line_end(text[end - 1]):
        end -= 1
    at = bang + 1
    while at < end and _hex_digit(text[at]) >= 0:
        at += 1
    if at < end or end - bang - 1 > _CRC_DIGITS or bang < 1 or not _is_line_end(text[bang - 1]):
        raise DecodeError("DSMR text inside the ciphering does not end as a telegram (no authentication "
                          "key to check the tag: meter.auth_key)")
    if end > bang + 1:
        _check_crc(text, 0, bang, end - bang - 1, "DSMR CRC mismatch inside the ciphering (no authentication key "
                   "to check the tag: meter.auth_key)")
        return
    # No CRC either: as on a line without one, only the character set tells a telegram
    # from noise. A line error garbles bytes in place (CTR keeps places): a review's
    # fuzz saw a damaged copy's control bytes published as a reading.
    at = text_end(text, 0, bang)
    if at < bang:
        raise DecodeError("DSMR text inside the ciphering holds byte 0x%02x and no CRC (no authentication "
                          "key to check the tag: meter.auth_key)" % text[at])
