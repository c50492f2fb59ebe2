"""xDLMS APDUs of a meter push (IEC 62056-5-3; DLMS UA Green Book): the reader.

``ApduReader.push`` walks every APDU of a link payload (back to back, LLCs
between them allowed), joins General Block Transfer blocks, decrypts
general-glo/ded-ciphering with ``gcm.py`` and hands out data-notifications.
The byte layouts and the header parsing are in ``decoder/apdu_parse.py``.

Heap (MicroPython): a call whose locals, value stack and exception stack
pass 11 words gets its frame from the heap, and a ``try`` costs about nine
of them (``except ... as e`` more: a hidden try/finally). So the reader walks
iteratively, one level per nesting depth kept in preallocated lists; its
helpers stay small and hand results back through attributes; and one tiny
``try`` in ``_drain`` catches every error: raise sites pass the error through
``_noted`` so it is recorded without an ``as`` binding.
"""

from decoder import axdr
from decoder.apdu_cipher import CipherSteps
from decoder.apdu_parse import (
    DATETIME_BYTES, GBT_HEADER, LLC_BYTES, MAX_DEPTH, TAG_GBT, TAG_NOTIFICATION, _after_length, _body_at,
    _datetime_at, _end_of, _is_llc, _noted, _raised, measure)
from decoder.compat import const
from decoder.errors import DecodeError, Incomplete, SecurityError, overflow_error, sequence_error
from decoder.gcm import Gcm

__all__ = ("MAX_APDU", "ApduReader", "Notification", "measure")

_GBT_LAST = const(0x80)

# The largest push in the corpus is about 700 bytes (Luxembourg Smarty DSMR
# in one ciphered APDU; the E570 GBT push is 520). 2048 leaves room for
# meters with longer lists while two such buffers stay small on an ESP32.
MAX_APDU = const(2048)


class Notification:
    """One data-notification (or DSMR text) with what its envelope said.

    ApduReader reuses these objects: one is valid until the next ``push``.
    """

    def __init__(self, system_title=None, frame_counter=None, invoke_id=None, datetime=None, body=None,
                 dsmr=False, tag_checked=None):
        self.system_title = system_title  # bytes (8) or None
        self.frame_counter = frame_counter  # int or None
        self.invoke_id = invoke_id  # int (24-bit invoke id) or None
        self.datetime = datetime  # memoryview of 12 COSEM date-time bytes or None
        self.body = body  # memoryview: A-XDR notification-body, or DSMR text
        self.dsmr = dsmr  # bool
        self.tag_checked = tag_checked  # True, False (not checked) or None (plain)


class ApduReader(CipherSteps):
    """Turns link payloads into Notifications; counts its errors and goes on."""

    def __init__(self, errors, key=None, auth_key=None, max_apdu=MAX_APDU):
        self.errors = errors
        self._gcm = None if key is None else Gcm(key, auth_key)
        self._max = max_apdu  # bound of the GBT reassembly and of the plaintext buffer
        # General Block Transfer reassembly: a memoryview over max_apdu bytes,
        # made by the first GBT block (meters that push in blocks: E450, E570).
        self._gbt = None
        self._gbt_len = 0
        # Number of the block expected next: 0 until a push's first block (joined mid-push)
        # and after a push was dropped; 1 between pushes, so a push whose first block
        # vanished whole (no checksum to count it) is counted at its second.
        self._gbt_next = 0
        # Number of the last block that ended a push, read or passed over: the block after
        # it opens a push as block 1 does, for a meter that numbers its blocks on across
        # pushes (gurux-dlms's notifier does; the E450 opens each push with block 1).
        self._last = 0
        self._quiet = False  # lost(): the next gap in the block numbers was already counted
        self._gbt_guard = -1  # how the push's blocks are ciphered (_guard)
        self._owned = False  # push(owned=True): the payload may be decrypted in place
        # Plaintext of a ciphered APDU that cannot be decrypted in place (a
        # caller's bytes): a memoryview over max_apdu bytes, made on first need.
        self._plain = None
        self._plain_used = 0
        self._notes = []  # what push returns, emptied and refilled
        self._pool = []  # Notification objects, reused push after push
        # The walk: level 0 is the payload, deeper ones GBT data or plaintext.
        self._views = [None] * (MAX_DEPTH + 1)
        self._next = [0] * (MAX_DEPTH + 1)  # where each level's next APDU starts
        self._depth = -1  # the level being walked; -1: done
        self._at = 0  # the APDU being read: its start ...
        self._stop = 0  # ... and its end
        self._skipping = False  # axdr.skip is walking a notification body
        self._whole = False  # that body could not be walked: it takes the rest
        self._sealed = -1  # the level holding decrypted APDUs, -1 when none
        self._title = None  # the envelope of the ciphered APDU being opened
        self._sc = 0
        self._counter = None
        self._checked = None
        self._tag = None

    def push(self, payload, owned=False):
        """Every APDU in ``payload`` -> list of Notification.

        The list and its Notifications are reused: valid until the next push.
        One GBT push completes per payload at most (each block travels in
        its own link frame); a second block in the same payload would reuse
        the reassembly buffer under the first push's notification.

        ``owned``: the caller gives the payload's bytes away (the Decoder does
        for a payload ``stream.Framer.next`` has just returned: it lies in the
        framer's buffer, which the framer never reads again). Ciphered APDUs
        in it are then decrypted in place, with no plaintext buffer, so such a
        payload is pushed once. Otherwise the payload is left unchanged.
        """
        notes = self._notes
        notes.clear()
        self._owned = owned
        self._plain_used = 0
        self._depth = -1
        self._sealed = -1
        self._skipping = self._whole = False  # in case an unexpected error left them set
        self._enter(payload if isinstance(payload, memoryview) else memoryview(payload))
        while self._drain():
            pass
        return notes

    # --- the walk: one bad APDU is counted and skipped; only when its length
    # cannot be known is the rest of its level lost ---

    def _drain(self):
        """Walk to the end; -> True when an error stopped it (go on after it)."""
        try:
            while self._depth >= 0:
                self._advance()
            return False
        except Incomplete:
            self._truncated()
        except DecodeError:
            self._failed()
        return True

    def _enter(self, view):
        d = self._depth + 1
        self._depth = d
        self._views[d] = view
        self._next[d] = 0

    def _advance(self):
        d = self._depth
        view = self._views[d]
        pos = self._next[d]
        if pos >= len(view):  # this level is done
            self._views[d] = None
            if d == self._sealed:
                self._sealed = -1
            self._depth = d - 1
        elif _is_llc(view, pos, len(view)):
            self._next[d] = pos + LLC_BYTES
        else:
            self._next[d] = len(view)  # should its length be unknown, the rest is lost
            self._at = pos
            self._stop = self._measured(view, pos)
            self._next[d] = self._stop
            self._apdu(view, pos)

    def _measured(self, view, pos):
        if view[pos] != TAG_NOTIFICATION:
            return _end_of(view, pos, len(view))
        body = _body_at(view, pos, len(view))  # the header itself must be sound
        if self._whole:
            self._whole = False
            return len(view)
        # A body A-XDR cannot walk may be a known quirk (_failed), unless it is one no tag
        # vouched for that opens with neither an array (01) nor a structure (02): a wrong
        # key's garbage.
        self._skipping = not self._doubtful() or (body < len(view) and 0 < view[body] < 3)
        body = axdr.skip(view, body)
        self._skipping = False
        return body

    def _truncated(self):
        self._skipping = False
        view = self._views[self._depth]
        _noted(DecodeError("APDU truncated: 0x%02x at offset %d runs past the %d-byte payload"
                           % (view[self._at], self._at, len(view))))
        self._failed()

    def _failed(self):
        if self._skipping:
            # A body A-XDR cannot walk (the Sagemcom XT211 writes untagged
            # class ids and OBIS codes) is given the rest of its level: the
            # readings layer may know the quirk, and nothing could be found after it.
            self._skipping = False
            self._whole = True
            self._next[self._depth] = self._at
            return
        error = _raised[0]
        _raised[0] = None
        if error is None:
            error = DecodeError("APDU rejected")
        # In a plaintext that no tag vouched for, an APDU that does not parse is what a
        # wrong key makes of one (its garbage opens like an APDU 2 times in 256): said as
        # an authentication error, where the user looks for key trouble.
        if error.kind == "malformed" and self._doubtful():
            error = SecurityError("authentication failed — check the encryption key (GUEK): decrypted "
                                  "content does not parse (%s) and no tag vouches for it" % error)
        self.errors.record(error)

    def _doubtful(self):
        # Walking a decrypted plaintext whose tag was not checked.
        return self._depth >= self._sealed >= 0 and self._unvouched()

    def _apdu(self, view, pos):
        tag = view[pos]
        if tag == TAG_NOTIFICATION:
            self._notification(view, pos)
        elif self._depth >= MAX_DEPTH:
            raise _noted(DecodeError("APDU 0x%02x nested too deep" % tag))
        elif tag == TAG_GBT:
            # A block of the payload, or one ciphered on its own (IEC 62056-5-3 lets the
            # sender protect each block or the whole APDU); not one inside reassembled blocks.
            if self._depth and self._depth != self._sealed or self._depth > 1:
                raise _noted(DecodeError("general-block-transfer inside another APDU"))
            self._block(view, pos)
        elif self._sealed >= 0:
            raise _noted(DecodeError("ciphered APDU inside a ciphered APDU"))
        else:
            self._ciphered(view, pos)

    # --- data-notification ---

    def _note(self):
        """A pooled Notification, appended to this push's list."""
        notes = self._notes
        if len(self._pool) == len(notes):
            self._pool.append(Notification())
        note = self._pool[len(notes)]
        notes.append(note)
        return note

    def _notification(self, view, pos):
        at = _datetime_at(view, pos, self._stop)
        note = self._note()
        note.invoke_id = (view[pos + 2] << 16) | (view[pos + 3] << 8) | view[pos + 4]  # low 24 bits: no flags
        if at > 0:
            note.datetime = view[at : at + DATETIME_BYTES]
            at += DATETIME_BYTES
        else:
            note.datetime = None
            at = -at
        note.body = view[at : self._stop]
        note.dsmr = False
        if self._sealed >= 0:  # decrypted: the envelope's title, counter, tag check
            self._sign(note)
        else:
            note.system_title = note.frame_counter = note.tag_checked = None

    # --- general-block-transfer ---

    def _block(self, view, pos):
        number = (view[pos + 2] << 8) | view[pos + 3]
        if not self._in_sequence(number, view[pos + 1] & _GBT_LAST):
            return  # joined in the middle of a push (or a block 0): wait for a push's first block
        self._guard()
        self._append(view, _after_length(view, pos + GBT_HEADER))
        if view[pos + 1] & _GBT_LAST:
            if self._gbt_guard == 0:
                self._checked = False  # an earlier block's tag was not checked
            self._gbt_next = 1  # in step: the next push opens with its first block
            self._enter(self._gbt[0 : self._gbt_len])
        else:
            self._gbt_next = number + 1

    def _guard(self):
        # Blocks ciphered each on its own: every block of a push alike (a plaintext block
        # among them is vouched for by nothing), the push checked only if each block was.
        # _gbt_guard: -1 plaintext blocks, 0 ciphered and some tag unchecked, 1 all checked.
        guard = -1 if self._sealed < 0 else (1 if self._checked else 0)
        if self._gbt_guard is None:  # the push's first block
            self._gbt_guard = guard
        elif (guard < 0) != (self._gbt_guard < 0):
            self._gbt_next = 0
            raise _noted(DecodeError("GBT blocks of one push ciphered and not: push dropped"))
        elif guard == 0:
            self._gbt_guard = 0

    def lost(self):
        """The link layer counted a frame it lost. If that frame carried a block of the
        push under way, the gap it leaves, or the unfinished push a new block 1 abandons,
        is the same loss: it drops the push without being counted again."""
        self._quiet = True
        if self._gbt_next > 1:
            # Dropped now: a line that drops and comes back pushes later may go on with
            # the very block number this push waits for, and two pushes would read as one.
            self._gbt_next = 0

    def _in_sequence(self, number, closes):
        # Five names at most (arguments and locals): one more, and MicroPython keeps this
        # call's frame on the heap, ~170 bytes per block. So _quiet is read where needed.
        expected = self._gbt_next
        first = number == 1 or (number == self._last + 1 and expected <= 1)
        if closes:  # the block's last-block bit: it ends its push
            self._last = number
        if first:
            if expected > 1 and not self._quiet:
                self.errors.record(sequence_error(
                    "a new GBT push began with block %d pending: unfinished push of %d bytes dropped"
                    % (expected, self._gbt_len)))
            self._quiet = False
            self._gbt_len = 0
            self._gbt_guard = None
            return True
        if number == expected != 0:
            self._quiet = False
            return True
        if expected:
            self._gbt_next = 0
            if not self._quiet:
                raise _noted(sequence_error("GBT block %d where block %d was expected: push dropped"
                                            % (number, expected)))
        self._quiet = False
        return False

    def _append(self, view, data):
        start = self._gbt_len
        n = self._stop - data
        if start + n > self._max:
            self._gbt_next = 0
            raise _noted(overflow_error("GBT push longer than %d bytes: dropped" % self._max))
        if self._gbt is None:
            self._gbt = memoryview(bytearray(self._max))
        self._gbt[start : start + n] = view[data : self._stop]
        self._gbt_len = start + n
