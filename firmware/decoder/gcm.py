"""AES-128-GCM for DLMS ciphered APDUs (IEC 62056-5-3 security suite 0/1, NIST SP 800-38D).

Built on ECB encryption alone (``cryptolib.aes(key, 1)``): the ESP32 build
of ``cryptolib`` has ECB and CBC only, so the counter mode and GHASH are ours.

DLMS use of GCM (IEC 62056-5-3 security suite 0, DLMS UA Green Book)::

    IV   = system title (8 bytes) || frame counter (4 bytes, big endian)
    J0   = IV || 00 00 00 01         counter blocks for the data start at J0 + 1
    H    = E(K, 0^128)
    tag  = first 12 bytes of  E(K, J0) xor GHASH(H, A, C)

    security control   A (additional authenticated data)      C
    0x30 auth + enc    SC || AK                                ciphertext
    0x10 auth only     SC || AK || plaintext                   (empty)
    0x20 enc only      -- no tag --
    SC bits: 0x80 compression, 0x40 key set, 0x20 encryption,
             0x10 authentication, low nibble the security suite id

    general-ciphering (0xDD) at suite 1 puts its transaction-id, originator
    and recipient system titles, date-time and other-information, each with
    its length byte, after SC || AK (``Gcm.head``: the Green Book's AAD table
    for general-ciphering; Gurux's tags with encryption read no other way; its
    authenticated-only ones leave the header out, and fail here).

GHASH, the counter blocks and the XOR run as viper kernels on MicroPython
(``gcm_viper.py``) and as the plain-Python twins of ``gcm_plain.py``
elsewhere. All write into buffers allocated once per ``Gcm`` object.

Heap (MicroPython): a call whose locals and value stack pass 11 words gets
its frame from the heap, so the steps of a decryption are small methods
that share state through attributes. ``refusal``, ``start`` and ``run``
return their error instead of raising it: the APDU reader calls them on
every push and records the error without a costly ``except ... as``.
"""

from cryptolib import aes

from decoder.compat import IS_MICROPYTHON, const
from decoder.errors import DecodeError, SecurityError, overflow_error

_ECB = const(1)  # cryptolib mode number; the device has no MODE_* names
_BLOCK = const(16)
_KEY_BYTES = const(16)  # AES-128: suites 0 and 1 (suite 2 is AES-256, not used by meters here)
_TITLE_BYTES = const(8)  # system title: 3-letter manufacturer id + 5-byte serial
TAG_BYTES = const(12)  # DLMS sends the first 12 bytes of the 16-byte GCM tag
# The keystream is made this many blocks at a time, in a buffer the Gcm keeps
# for life: 128 bytes take a 500-byte push in 4 ECB calls. GHASH dominates
# the time (unix port: CTR 8.1 us per 500 B with 512-byte chunks, 8.6 with
# 128, of 80 for the whole decryption); 384 bytes of RAM are worth more.
_CHUNK_BLOCKS = const(8)
_CHUNK = const(128)  # _CHUNK_BLOCKS * _BLOCK
# A 96-bit IV makes J0 = IV || 0^31 || 1, so the data counter starts at 2.
_FIRST_COUNTER = const(2)
_AAD_BYTES = const(17)  # SC || AK

SC_AUTH = const(0x10)
SC_ENC = const(0x20)
_SC_COMPRESSED = const(0x80)
_SC_SUITE = const(0x0F)
_MAX_SUITE = const(1)  # suites 0 and 1 both cipher with AES-GCM-128

AUTH_FAILED = "authentication failed — check the encryption key (GUEK) and authentication key (GAK)"

KERNEL = "python"
if IS_MICROPYTHON:
    try:
        from decoder.gcm_viper import counter_blocks as _counter_blocks
        from decoder.gcm_viper import ghash as _ghash
        from decoder.gcm_viper import xor_into as _xor_into

        KERNEL = "viper"
    except (ImportError, SyntaxError, ValueError):  # no native emitters, or not this arch's
        pass
if KERNEL == "python":
    # The plain twins, only where they run: on MicroPython they would take
    # ~2 kB of heap next to the viper kernels for nothing.
    from decoder.gcm_plain import _counter_blocks_py, _ghash_bits, _ghash_table, _xor_into_py

    _ghash = _ghash_bits if IS_MICROPYTHON else _ghash_table
    _counter_blocks = _counter_blocks_py
    _xor_into = _xor_into_py


class Gcm:
    """AES-128-GCM with one key pair; buffers are allocated once, here."""

    def __init__(self, key, auth_key=None):
        if key is None or len(key) != _KEY_BYTES:
            raise ValueError("key must be %d bytes" % _KEY_BYTES)
        if auth_key is not None and len(auth_key) != _KEY_BYTES:
            raise ValueError("auth_key must be %d bytes" % _KEY_BYTES)
        self._aes = aes(bytes(key), _ECB)
        self.auth_key = None if auth_key is None else bytes(auth_key)
        self._h = bytearray(_BLOCK)
        self._aes.encrypt(self._h, self._h)  # hash subkey H = E(K, 0^128)
        self._y = bytearray(_BLOCK)  # GHASH state
        self._part = bytearray(_BLOCK)  # GHASH input not yet a whole block
        self._part_n = 0
        self._j0 = bytearray(_BLOCK)
        self._full_tag = bytearray(_BLOCK)
        self._ks = bytearray(_CHUNK)
        self._ks_view = memoryview(self._ks)
        self._tail = self._ks  # keystream view of the last short chunk: pushes repeat their length
        self._tail_blocks = _CHUNK_BLOCKS
        self._sc = bytearray(1)
        self._aad = bytearray(2 * _BLOCK)  # SC || AK, zero-padded: A of an encrypted APDU
        if auth_key is not None:
            self._aad[1:_AAD_BYTES] = self.auth_key
        self.head = None  # general-ciphering's fields after SC || AK in A (suite 1), or None
        self._control = 0  # security control of the APDU being opened
        self._check = False  # ... and whether its tag is checked
        self._src = self._dst = None  # ctr's buffers while it runs

    def decrypt(self, security_control, system_title, frame_counter, ciphertext, tag, out):
        """Decrypt and/or verify one ciphered APDU into ``out``; return its length.

        ``tag`` is the 12-byte tag (None for encryption only). The tag is
        checked when the control byte has the authentication bit and an
        authentication key was given. ``out`` may be ``ciphertext`` itself.
        """
        error = self.refusal(security_control)
        if error is None and len(out) < len(ciphertext):
            error = overflow_error("decrypted APDU of %d bytes exceeds its %d-byte buffer" % (len(ciphertext), len(out)))
        if error is None:
            error = self.start(security_control, system_title, frame_counter)
        if error is None and self._check and (tag is None or len(tag) != TAG_BYTES):
            error = SecurityError("authenticated APDU without its %d-byte tag" % TAG_BYTES)
        if error is None:
            error = self.run(ciphertext, tag, out)
        if error is not None:
            raise error
        return len(ciphertext)

    def refusal(self, sc):
        """The error for a security control we cannot honour, or None. A "malformed"
        one, not "authentication": no key would read it, and that counter sends a
        user to check the keys."""
        if sc & _SC_COMPRESSED:
            return DecodeError("compressed ciphered APDUs (security control 0x%02x) are not supported" % sc)
        if sc & _SC_SUITE > _MAX_SUITE:
            return DecodeError("security suite %d is not supported (AES-128-GCM suites 0 and 1)" % (sc & _SC_SUITE))
        if not sc & (SC_AUTH | SC_ENC):
            return DecodeError("security control 0x%02x neither authenticates nor encrypts" % sc)
        return None

    def start(self, sc, system_title, frame_counter):
        """J0 from the DLMS IV (system title || frame counter); the SecurityError of a bad title, or None."""
        if system_title is None or len(system_title) != _TITLE_BYTES:
            return SecurityError("system title must be %d bytes for the GCM IV" % _TITLE_BYTES)
        self._control = sc
        self._check = bool(sc & SC_AUTH) and self.auth_key is not None
        self._j0[0:_TITLE_BYTES] = system_title
        _put_u32(self._j0, _TITLE_BYTES, frame_counter)
        _put_u32(self._j0, 12, 1)
        return None

    def run(self, ciphertext, tag, out):
        """After ``start``: plaintext into ``out``; the SecurityError of a wrong tag, or None."""
        if self._control & SC_ENC:
            if self._check:
                aad = self._hash_aad()  # A = SC || AK (|| head), padded
                self._hash_padded(ciphertext)  # before the XOR: out may be ciphertext
            self.ctr(ciphertext, out, len(ciphertext))
            if self._check and not self._tag_matches(aad, len(ciphertext), tag):
                return SecurityError(AUTH_FAILED)
            return None
        if out is not ciphertext:
            out[0 : len(ciphertext)] = ciphertext
        if self._check and not self._gmac_matches(ciphertext, tag):
            return SecurityError(AUTH_FAILED)
        return None

    def _gmac_matches(self, plaintext, tag):
        # Authentication only: A = SC || AK (|| head) || plaintext, no C.
        self._sc[0] = self._control
        self.ghash_start()
        self._absorb(self._sc)
        self._absorb(self.auth_key)
        n = _AAD_BYTES + len(plaintext)
        if self.head is not None:
            self._absorb(self.head)
            n += len(self.head)
        self._absorb(plaintext)
        return self._tag_matches(n, 0, tag)

    # --- the pieces of GCM ---

    def ctr(self, src, dst, n):
        """dst = src xor keystream (GCTR with inc32 from J0 + 1), a chunk at a time."""
        self._src = src
        self._dst = dst
        pos = 0
        while pos < n:
            pos = self._ctr_chunk(pos, n)
        self._src = self._dst = None

    def _ctr_chunk(self, pos, n):
        take = min(n - pos, _CHUNK)
        blocks = (take + _BLOCK - 1) >> 4
        _counter_blocks(self._ks, self._j0, _FIRST_COUNTER + (pos >> 4), blocks)
        self._encrypt_ks(blocks)
        _xor_into(self._dst, self._src, pos, self._ks, take)
        return pos + take

    def _encrypt_ks(self, blocks):
        ks = self._ks
        if blocks != _CHUNK_BLOCKS:
            if blocks != self._tail_blocks:
                self._tail = self._ks_view[0 : blocks * _BLOCK]
                self._tail_blocks = blocks
            ks = self._tail
        self._aes.encrypt(ks, ks)

    def _hash_aad(self):
        """Y = GHASH(H, A padded), A = SC || AK (|| head): the start of an encrypted
        APDU's hash; -> len(A)."""
        self.ghash_start()
        if self.head is not None:  # (the head's length varies: fed as a string, then padded)
            self._sc[0] = self._control
            self._absorb(self._sc)
            self._absorb(self.auth_key)
            self._absorb(self.head)
            self._absorb_pad()
            return _AAD_BYTES + len(self.head)
        self._aad[0] = self._control
        _ghash(self._y, self._h, self._aad, 2 * _BLOCK)
        return _AAD_BYTES

    def _hash_padded(self, data):
        """Hash ``data`` as whole blocks, its last partial block zero-padded."""
        n = len(data)
        whole = n & ~(_BLOCK - 1)
        if whole:
            _ghash(self._y, self._h, data, whole)
        if n > whole:
            self._hash_tail(data, whole, n)

    def _hash_tail(self, data, pos, n):
        part = self._part
        for i in range(_BLOCK):
            part[i] = data[pos + i] if pos + i < n else 0
        _ghash(self._y, self._h, part, _BLOCK)

    def ghash_start(self):
        """Begin a GHASH with no DLMS prefix (for the generic GCM vectors)."""
        for i in range(_BLOCK):
            self._y[i] = 0
        self._part_n = 0

    def _absorb(self, data):
        """Feed bytes to GHASH as one continuous string (blocks may straddle calls)."""
        n = len(data)
        pos = 0
        part = self._part
        if self._part_n:
            while pos < n and self._part_n < _BLOCK:
                part[self._part_n] = data[pos]
                self._part_n += 1
                pos += 1
            if self._part_n < _BLOCK:
                return
            _ghash(self._y, self._h, part, _BLOCK)
            self._part_n = 0
        whole = (n - pos) & ~(_BLOCK - 1)
        if whole:
            _ghash(self._y, self._h, memoryview(data)[pos:] if pos else data, whole)
            pos += whole
        while pos < n:
            part[self._part_n] = data[pos]
            self._part_n += 1
            pos += 1

    def _absorb_pad(self):
        """Zero-pad the pending partial block and hash it (end of A or of C)."""
        if self._part_n:
            part = self._part
            for i in range(self._part_n, _BLOCK):
                part[i] = 0
            _ghash(self._y, self._h, part, _BLOCK)
            self._part_n = 0

    def finish_tag(self, aad_len, c_len):
        """Full 16-byte tag into self._full_tag: E(K, J0) xor GHASH(.. || len(A) || len(C))."""
        self._absorb_pad()
        _put_u32(self._part, 0, 0)  # both lengths in bits as 64-bit numbers; ours fit 32
        _put_u32(self._part, 4, aad_len << 3)
        _put_u32(self._part, 8, 0)
        _put_u32(self._part, 12, c_len << 3)
        _ghash(self._y, self._h, self._part, _BLOCK)
        return self._tag_block()

    def _tag_block(self):
        full = self._full_tag
        y = self._y
        self._aes.encrypt(self._j0, full)
        for i in range(_BLOCK):
            full[i] ^= y[i]
        return full

    def _tag_matches(self, aad_len, c_len, tag):
        return _same_tag(self.finish_tag(aad_len, c_len), tag)


def _put_u32(buf, pos, v):
    """Big-endian 32 bits at pos, without struct (its call is too deep a frame)."""
    buf[pos] = (v >> 24) & 0xFF
    buf[pos + 1] = (v >> 16) & 0xFF
    buf[pos + 2] = (v >> 8) & 0xFF
    buf[pos + 3] = v & 0xFF


def _same_tag(full, tag):
    diff = 0
    for i in range(TAG_BYTES):  # constant time: no early exit on the first mismatch
        diff |= full[i] ^ tag[i]
    return diff == 0
