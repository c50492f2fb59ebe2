"""xDLMS APDUs of a meter push (IEC 62056-5-3; DLMS UA Green Book).

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
"""

import struct

from decoder import axdr
from decoder.compat import const
from decoder.errors import DecodeError, FrameTooLong, Incomplete, SecurityError, SequenceError
from decoder.gcm import SC_AUTH, SC_ENC, TAG_BYTES, Gcm

_TAG_NOTIFICATION = const(0x0F)
_TAG_GLO_CIPHERING = const(0xDB)
_TAG_DED_CIPHERING = const(0xDC)
_TAG_GBT = const(0xE0)
_LLC_DSAP = const(0xE6)
_LLC_BYTES = const(3)  # E6 E7 00 (response) or E6 E6 00 (command)
_OCTET_STRING = const(0x09)
_DATETIME_BYTES = const(12)  # COSEM date-time (IEC 62056-6-2)
_TITLE_BYTES = const(8)  # system title, the GCM IV prefix
_CIPHER_HEADER = const(5)  # security control + frame counter
_GBT_HEADER = const(6)  # tag, control, block number, block number ack
_GBT_LAST = const(0x80)
_DSMR_START = const(0x2F)  # '/': a DSMR telegram, not an APDU
# BER lengths of up to two bytes: 65535 is far above any bounded buffer here,
# so a longer form can only be corrupt data.
_BER_MAX_BYTES = const(2)
# The largest push in the corpus is about 700 bytes (Luxembourg Smarty DSMR
# in one ciphered APDU; the E570 GBT push is 520). 2048 leaves room for
# meters with longer lists while two such buffers stay small on an ESP32.
MAX_APDU = const(2048)
# GBT -> ciphered APDU -> data-notification is the deepest real nesting.
_MAX_DEPTH = const(2)


_PLAIN = (None, None, None)  # the envelope of an APDU that was not ciphered


class Notification:
    """One data-notification (or DSMR text) with what its envelope said."""

    def __init__(self, system_title, frame_counter, invoke_id, datetime, body, dsmr, tag_checked):
        self.system_title = system_title  # bytes (8) or None
        self.frame_counter = frame_counter  # int or None
        self.invoke_id = invoke_id  # int (24-bit invoke id) or None
        self.datetime = datetime  # memoryview of 12 COSEM date-time bytes or None
        self.body = body  # memoryview: A-XDR notification-body, or DSMR text
        self.dsmr = dsmr  # bool
        self.tag_checked = tag_checked  # True, False (not checked) or None (plain)


def _ber_length(buf, pos, end):
    """(length, position after it); Incomplete when the length runs past ``end``."""
    if pos >= end:
        raise Incomplete()
    first = buf[pos]
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    if count == 0 or count > _BER_MAX_BYTES:
        raise DecodeError("unsupported BER length form 0x%02x at offset %d" % (first, pos))
    if pos + 1 + count > end:
        raise Incomplete()
    n = 0
    for i in range(count):
        n = (n << 8) | buf[pos + 1 + i]
    return n, pos + 1 + count


def _notification_parts(buf, pos, end):
    """0x0F at pos -> (invoke id, date-time position or -1, body position)."""
    if pos + 6 > end:
        raise Incomplete()
    # The top byte holds the priority and service-class flags: keep the low 24 bits.
    invoke_id = (buf[pos + 2] << 16) | (buf[pos + 3] << 8) | buf[pos + 4]
    p = pos + 5
    if buf[p] == _OCTET_STRING:  # typed date-time: 09 0C ...
        p += 1
        if p >= end:
            raise Incomplete()
    size = buf[p]
    if size == 0:
        return invoke_id, -1, p + 1
    if size != _DATETIME_BYTES:
        raise DecodeError("data-notification date-time of %d bytes (0 or 12 expected)" % size)
    if p + 1 + size > end:
        raise Incomplete()
    return invoke_id, p + 1, p + 1 + size


def _cipher_parts(buf, pos, end):
    """0xDB/0xDC at pos -> (system title position, content position, content length)."""
    if pos + 2 > end:
        raise Incomplete()
    title_len = buf[pos + 1]
    if title_len != _TITLE_BYTES:
        raise DecodeError("system title of %d bytes (%d expected)" % (title_len, _TITLE_BYTES))
    n, content = _ber_length(buf, pos + 2 + title_len, end)
    return pos + 2, content, n


def _gbt_parts(buf, pos, end):
    """0xE0 at pos -> (block control, block number, data position, data length)."""
    if pos + _GBT_HEADER > end:
        raise Incomplete()
    control = buf[pos + 1]
    number = (buf[pos + 2] << 8) | buf[pos + 3]
    n, data = _ber_length(buf, pos + _GBT_HEADER, end)
    return control, number, data, n


def measure(buf, pos=0):
    """Total length of the APDU at ``pos`` (tags 0x0F, 0xDB, 0xDC, 0xE0).

    Raises Incomplete when ``buf`` ends before the APDU does and DecodeError
    when the bytes cannot be one of these APDUs.
    """
    end = len(buf)
    if pos >= end:
        raise Incomplete()
    tag = buf[pos]
    if tag == _TAG_NOTIFICATION:
        body = _notification_parts(buf, pos, end)[2]
        return axdr.skip(buf, body) - pos
    if tag == _TAG_GLO_CIPHERING or tag == _TAG_DED_CIPHERING:
        parts = _cipher_parts(buf, pos, end)
        stop = parts[1] + parts[2]
    elif tag == _TAG_GBT:
        parts = _gbt_parts(buf, pos, end)
        stop = parts[2] + parts[3]
    else:
        raise DecodeError("not an APDU: tag 0x%02x at offset %d" % (tag, pos))
    if stop > end:
        raise Incomplete()
    return stop - pos


def _measure_in(view, pos, end):
    """measure() inside a complete payload, lenient with notification bodies.

    A body that A-XDR cannot walk (the Sagemcom XT211 writes untagged class
    ids and OBIS codes) is given the rest of the payload: the readings layer
    may know the quirk, and nothing can follow it that we could find anyway.
    """
    try:
        return measure(view, pos)
    except DecodeError:
        if view[pos] != _TAG_NOTIFICATION:
            raise
        _notification_parts(view, pos, end)  # the header itself must be sound
        return end - pos


def _is_llc(view, pos, end):
    # E6 E7 00 before a response/notification, E6 E6 00 before a command.
    if view[pos] != _LLC_DSAP or pos + _LLC_BYTES > end:
        return False
    return view[pos + 1] & 0xFE == _LLC_DSAP and view[pos + 2] == 0


class ApduReader:
    """Turns link payloads into Notifications; counts its errors and goes on."""

    def __init__(self, errors, key=None, auth_key=None, max_apdu=MAX_APDU):
        self.errors = errors
        self._gcm = None if key is None else Gcm(key, auth_key)
        self._gbt = bytearray(max_apdu)  # General Block Transfer reassembly
        self._gbt_view = memoryview(self._gbt)
        self._gbt_len = 0
        self._gbt_next = 0  # number of the block expected next; 0: no push under way
        self._plain = bytearray(max_apdu)  # decrypted APDUs of the current payload
        self._plain_view = memoryview(self._plain)
        self._plain_used = 0
        self._notes = []

    def push(self, payload):
        """Every APDU in ``payload`` -> list of Notification (valid until the next push).

        One GBT push completes per payload at most (each block travels in
        its own link frame); a second block in the same payload would reuse
        the reassembly buffer under the first push's notification.
        """
        self._notes = []
        self._plain_used = 0
        self._walk(memoryview(payload), 0, None)
        return self._notes

    def _walk(self, view, depth, envelope):
        # One bad APDU is counted and skipped; only when its length cannot
        # be known is the rest of the payload lost.
        pos = 0
        end = len(view)
        while pos < end:
            if _is_llc(view, pos, end):
                pos += _LLC_BYTES
                continue
            try:
                size = _measure_in(view, pos, end)
            except Incomplete:
                self.errors.count("malformed", "APDU truncated: 0x%02x at offset %d runs past the %d-byte payload"
                                  % (view[pos], pos, end))
                return
            except DecodeError as e:
                self.errors.record(e)
                return
            try:
                self._apdu(view[pos : pos + size], depth, envelope)
            except DecodeError as e:
                self.errors.record(e)
            pos += size

    def _apdu(self, view, depth, envelope):
        tag = view[0]
        if tag == _TAG_NOTIFICATION:
            self._notification(view, envelope)
        elif depth >= _MAX_DEPTH:
            raise DecodeError("APDU 0x%02x nested too deep" % tag)
        elif tag == _TAG_GBT:
            if depth:
                raise DecodeError("general-block-transfer inside another APDU")
            self._block(view, depth)
        elif envelope is not None:
            raise DecodeError("ciphered APDU inside a ciphered APDU")
        else:
            self._ciphered(view, depth)

    def _notification(self, view, envelope):
        invoke_id, dt, body = _notification_parts(view, 0, len(view))
        when = None if dt < 0 else view[dt : dt + _DATETIME_BYTES]
        title, counter, checked = _PLAIN if envelope is None else envelope
        self._notes.append(Notification(title, counter, invoke_id, when, view[body:], False, checked))

    def _block(self, view, depth):
        control, number, data, n = _gbt_parts(view, 0, len(view))
        if number == 1:
            if self._gbt_next:
                self.errors.record(SequenceError(
                    "GBT block 1 arrived with block %d pending: unfinished push of %d bytes dropped"
                    % (self._gbt_next, self._gbt_len)))
            self._gbt_len = 0
        elif not self._gbt_next:
            return  # joined in the middle of a push (or a block 0): wait for a block 1
        elif number != self._gbt_next:
            expected = self._gbt_next
            self._gbt_next = 0
            raise SequenceError("GBT block %d where block %d was expected: push dropped" % (number, expected))
        start = self._gbt_len
        if start + n > len(self._gbt):
            self._gbt_next = 0
            raise FrameTooLong("GBT push longer than %d bytes: dropped" % len(self._gbt))
        self._gbt[start : start + n] = view[data : data + n]
        self._gbt_len = start + n
        if control & _GBT_LAST:
            self._gbt_next = 0
            self._walk(self._gbt_view[0 : self._gbt_len], depth + 1, None)
        else:
            self._gbt_next = number + 1

    def _ciphered(self, view, depth):
        title_pos, content, n = _cipher_parts(view, 0, len(view))
        if n < _CIPHER_HEADER:
            raise DecodeError("ciphered content of %d bytes is shorter than its 5-byte header" % n)
        title = bytes(view[title_pos : title_pos + _TITLE_BYTES])
        sc = view[content]
        counter = struct.unpack_from(">I", view, content + 1)[0]
        start = content + _CIPHER_HEADER
        size = n - _CIPHER_HEADER
        tag = None
        if sc & SC_AUTH:
            if size < TAG_BYTES:
                raise DecodeError("authenticated APDU too short for its %d-byte tag" % TAG_BYTES)
            size -= TAG_BYTES
            tag = view[start + size : start + size + TAG_BYTES]
        plain, checked = self._decrypt(sc, title, counter, view[start : start + size], tag)
        if size and plain[0] == _DSMR_START:
            self._notes.append(Notification(title, counter, None, None, plain, True, checked))
        else:
            self._walk(plain, depth + 1, (title, counter, checked))

    def _decrypt(self, sc, title, counter, ciphertext, tag):
        """-> (plaintext view, tag checked?)."""
        gcm = self._gcm
        if gcm is None:
            if sc & SC_ENC:
                raise SecurityError(
                    "encrypted APDU from %s (security control 0x%02x) but no key configured: "
                    "set the encryption key (GUEK)" % (title.hex(), sc))
            return ciphertext, False  # authentication only: readable, tag unchecked
        n = len(ciphertext)
        used = self._plain_used
        if used + n > len(self._plain):
            raise FrameTooLong("decrypted APDUs longer than %d bytes: dropped" % len(self._plain))
        out = self._plain_view[used : used + n]
        gcm.decrypt(sc, title, counter, ciphertext, tag, out)
        self._plain_used = used + n
        return out, bool(sc & SC_AUTH) and gcm.auth_key is not None
