"""The ciphered-APDU steps of ``apdu.ApduReader`` (IEC 62056-5-3 9.2.7.2.4.2).

General-glo-ciphering (0xDB) and general-ded-ciphering (0xDC)::

    DB | 08 | system title (8) | LEN | SC | frame counter (4) | ciphertext | tag (12)

and general-ciphering (0xDD), whose header names more (apdu_parse.general_content)
before the same LEN | SC | frame counter | ciphertext | tag, the originator's
system title in place of the one above. At security suite 1 the tag covers that
header too (from the transaction-id to other-information: ``Gcm.head``).

the tag is there when SC has the authentication bit 0x10; ``gcm.py`` opens
the rest. A mixin of ApduReader, split out to keep ``apdu.py`` small: these
methods use the reader's attributes (``_stop``, ``_depth``, ``_plain``...)
and write the envelope (``_title``, ``_sc``, ``_counter``, ``_checked``,
``_tag``) that the notifications of the plaintext then carry.

Where the plaintext goes. CTR is its own inverse and GHASH reads the whole
ciphertext before the XOR (``Gcm.run``), so a ciphertext in a buffer the
decoder owns and never reads again is decrypted where it lies: a payload
pushed with ``owned=True`` (the framer's, just handed out), or the reader's
GBT reassembly. Only a caller's payload (bytes, or a view the caller may
read again) is copied out, into a buffer made on first need. A wrong key leaves garbage in the owned bytes,
but nothing reads them: the error is counted, nothing is decoded.
"""

from decoder.apdu_parse import (
    TAG_GBT, TAG_GENERAL_CIPHERING, TAG_NOTIFICATION, TITLE_AT, TITLE_BYTES, _after_length, _noted,
    general_content, general_title)
from decoder.compat import const
from decoder.errors import DecodeError, SecurityError, overflow_error
from decoder.gcm import SC_AUTH, SC_ENC, TAG_BYTES

_DSMR_START = const(0x2F)  # '/': a DSMR telegram, not an APDU
# An event-notification-request: an APDU a meter sends (EnergyICT's published test pushes
# cipher one at security 0x20), not a push we read: malformed, not a wrong key. Its time
# is OPTIONAL, so the next byte is 00 or 01: a wrong key's garbage opens so 2 times in
# 65,536, where the tag byte alone named one push in 256 of a wrong key (a review).
_TAG_EVENT = const(0xC2)
_CIPHER_HEADER = const(5)  # security control + frame counter
_SC_PROTECTED = const(0xB0)  # security control: compressed, encrypted, authenticated
_SC_COMPRESSED = const(0x80)
_SC_SUITE = const(0x0F)  # suites 0 and 1: AES-128-GCM


class CipherSteps:
    """ApduReader's handling of one ciphered APDU (see ApduReader._apdu)."""

    def _ciphered(self, view, pos):
        start = self._envelope(view, pos)
        stop = self._tag_split(view, start)
        plain = self._plaintext(view, start, stop)
        if stop > start and plain[0] == _DSMR_START:
            self._dsmr_note(plain)
        else:
            if stop > start + 1 and plain[0] == _TAG_EVENT and plain[1] <= 1:
                raise _noted(DecodeError("event-notification-request (APDU tag 0xc2) in the ciphering: "
                                         "not a push, not read"))
            if stop > start and self._unvouched() and plain[0] != TAG_NOTIFICATION and plain[0] != TAG_GBT:
                raise _noted(SecurityError(
                    "authentication failed — check the encryption key (GUEK): decrypted content "
                    "is no APDU (first byte 0x%02x) and no tag vouches for it" % plain[0]))
            self._sealed = self._depth + 1
            self._enter(plain)

    def _unvouched(self):
        # Encrypted and its tag not checked (security 0x20, or no GAK): only the shape of
        # the plaintext tells a right key from a wrong one. Plaintext that opens with
        # neither a data-notification nor a GBT block, or does not parse as one, is the
        # garbage a wrong key makes: said as an authentication error, where the user
        # looks for key trouble.
        return self._sc & SC_ENC and not self._checked

    def _dsmr_note(self, text):
        note = self._note()
        note.invoke_id = note.datetime = None
        note.body = text
        note.dsmr = True
        self._sign(note)

    def _sign(self, note):
        """The envelope of the APDU just opened onto a notification of its content."""
        note.system_title = self._title
        note.frame_counter = self._counter
        note.tag_checked = self._checked

    def _envelope(self, view, pos):
        """System title, security control, frame counter -> self; -> ciphertext start."""
        if view[pos] == TAG_GENERAL_CIPHERING:
            title = general_title(view, pos)
            content = _after_length(view, general_content(view, pos, self._stop))
        else:
            title = pos + TITLE_AT
            content = _after_length(view, title + TITLE_BYTES)
        if self._stop - content < _CIPHER_HEADER:
            raise _noted(DecodeError("ciphered content of %d bytes is shorter than its 5-byte header"
                                     % (self._stop - content)))
        self._title = self._title_at(view, title)
        self._sc = view[content]
        if self._gcm is not None:
            self._general_head(view, pos, title)
        self._counter = ((view[content + 1] << 24) | (view[content + 2] << 16)
                         | (view[content + 3] << 8) | view[content + 4])
        return content + _CIPHER_HEADER

    def _general_head(self, view, pos, title):
        # Suite 1 authenticates general-ciphering's fields, transaction-id to
        # other-information, lengths and all (gcm.py); suite 0 as general-glo-ciphering.
        # Not in _envelope, and no loop: more locals put a frame on the heap for every push.
        self._gcm.head = None
        if view[pos] == TAG_GENERAL_CIPHERING and self._sc & _SC_SUITE:
            title += TITLE_BYTES  # past the originator's; lengths were checked (general_content)
            title += 1 + view[title]  # recipient title
            title += 1 + view[title]  # date-time
            title += 1 + view[title]  # other-information
            self._gcm.head = view[pos + 1 : title]

    def _title_at(self, view, pos):
        # A meter keeps its system title: the bytes of the last one are reused.
        title = self._title
        i = 0
        if title is not None:
            while i < TITLE_BYTES and title[i] == view[pos + i]:
                i += 1
        if i < TITLE_BYTES:
            title = bytes(view[pos : pos + TITLE_BYTES])
        return title

    def _tag_split(self, view, start):
        """-> end of the ciphertext; the tag after it (when there is one) -> self._tag."""
        stop = self._stop
        self._tag = None
        if self._sc & SC_AUTH:
            if stop - start < TAG_BYTES:
                raise _noted(DecodeError("authenticated APDU too short for its %d-byte tag" % TAG_BYTES))
            stop -= TAG_BYTES
            self._tag = view[stop : stop + TAG_BYTES]
        return stop

    def _plaintext(self, view, start, stop):
        # Security 0x00 (neither bit) wraps plaintext: read as such, key or no key. Not
        # compressed content (0x80): gcm.refusal names it.
        if self._gcm is None or not self._sc & _SC_PROTECTED:
            if self._sc & _SC_COMPRESSED or self._sc & _SC_SUITE > 1:
                # (gcm.refusal's words, with a key; before "no key configured": no key
                # would read it)
                raise _noted(_unsupported(self._sc))
            if self._sc & SC_ENC:
                raise _noted(SecurityError(
                    "encrypted APDU from %s (security control 0x%02x) but no key configured: "
                    "set the encryption key (GUEK)" % (self._title.hex(), self._sc)))
            self._checked = False  # authentication only: readable, tag unchecked
            return view[start:stop]
        # Deeper than the payload, a ciphered APDU can only sit in GBT data: the reader's own buffer.
        if self._owned or self._depth:
            out = view[start:stop]
            self._decrypt(out, out)
            return out
        used = self._plain_used
        if used + stop - start > self._max:
            raise _noted(overflow_error("decrypted APDUs longer than %d bytes: dropped" % self._max))
        if self._plain is None:
            self._plain = memoryview(bytearray(self._max))
        out = self._plain[used : used + stop - start]
        self._decrypt(view[start:stop], out)
        self._plain_used = used + stop - start
        return out

    def _decrypt(self, ciphertext, out):
        # gcm.decrypt's checks in pieces: title and tag are sized right here.
        gcm = self._gcm
        error = gcm.refusal(self._sc)
        if error is None:
            gcm.start(self._sc, self._title, self._counter)
            error = gcm.run(ciphertext, self._tag, out)
        if error is not None:
            raise _noted(error)
        self._checked = bool(self._sc & SC_AUTH) and gcm.auth_key is not None


def _unsupported(sc):
    # A function of its own: built in _plaintext, the message's value stack put that
    # method's frame on the heap for every push (136 B; the C stack holds 11 words).
    what = "compressed content" if sc & _SC_COMPRESSED else "security suite %d" % (sc & _SC_SUITE)
    return DecodeError("%s (security control 0x%02x) is not supported" % (what, sc))
