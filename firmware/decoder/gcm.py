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

GHASH, the counter blocks and the XOR run as viper kernels on MicroPython
(``gcm_viper.py``) and as the plain-Python twins below elsewhere: GHASH with
Shoup's byte tables on CPython, bit by bit on a MicroPython port without
viper (tables would fragment a small heap). All write into buffers allocated
once per ``Gcm`` object.
"""

import struct

from cryptolib import aes

from decoder.compat import IS_MICROPYTHON, const
from decoder.errors import FrameTooLong, SecurityError

_ECB = const(1)  # cryptolib mode number; the device has no MODE_* names
_BLOCK = const(16)
_KEY_BYTES = const(16)  # AES-128: suites 0 and 1 (suite 2 is AES-256, not used by meters here)
_TITLE_BYTES = const(8)  # system title: 3-letter manufacturer id + 5-byte serial
TAG_BYTES = const(12)  # DLMS sends the first 12 bytes of the 16-byte GCM tag
# The keystream is made this many blocks at a time: 512 bytes covers a whole
# 5-second push in one ECB call while keeping the buffer small on the ESP32.
_CHUNK_BLOCKS = const(32)

SC_AUTH = const(0x10)
SC_ENC = const(0x20)
_SC_COMPRESSED = const(0x80)
_SC_SUITE = const(0x0F)
_MAX_SUITE = const(1)  # suites 0 and 1 both cipher with AES-GCM-128

AUTH_FAILED = "authentication failed — check the encryption key (GUEK) and authentication key (GAK)"


_R = 0xE1 << 120  # SP 800-38D reduction constant R = 11100001 || 0^120
_R8 = []  # _R8[b]: the reduction folded back when 8 bits b are shifted out
_M8 = [None, None]  # (H, [H * b for every byte b]) for the last H seen


def _mulx(v):
    """v * x in GF(2^128), GCM bit order (x^0 is the top bit)."""
    return (v >> 1) ^ _R if v & 1 else v >> 1


def _byte_table(h):
    """Shoup's 8-bit tables (256 products of H and the reduction table),
    built once per key: a block then costs 16 lookups, not 128 steps."""
    if not _R8:
        for b in range(256):
            v = b
            for _ in range(8):
                v = _mulx(v)
            _R8.append(v)
    key = bytes(h)
    if _M8[0] != key:
        m = [0] * 256
        v = int.from_bytes(key, "big")
        bit = 0x80  # the top bit of a byte is its x^0 coefficient
        while bit:
            m[bit] = v
            v = _mulx(v)
            bit >>= 1
        for b in range(3, 256):
            if b & (b - 1):
                m[b] = m[b & -b] ^ m[b & (b - 1)]
        _M8[0] = key
        _M8[1] = m
    return _M8[1]


def _ghash_bits(y, h, data, n):
    """Plain twin of gcm_viper.ghash, bit by bit (SP 800-38D algorithm 1).

    The MicroPython fallback: no tables, so nothing to fragment a small heap.
    """
    hv = int.from_bytes(bytes(h), "big")
    yv = int.from_bytes(bytes(y), "big")
    for p in range(0, n, _BLOCK):
        x = yv ^ int.from_bytes(bytes(data[p : p + _BLOCK]), "big")
        yv = 0
        v = hv
        for i in range(127, -1, -1):
            if (x >> i) & 1:
                yv ^= v
            v = _mulx(v)
    y[0:_BLOCK] = yv.to_bytes(_BLOCK, "big")


def _ghash_table(y, h, data, n):
    """Plain twin of gcm_viper.ghash with byte tables: the CPython path."""
    m = _byte_table(h)
    r8 = _R8
    yv = int.from_bytes(bytes(y), "big")
    for p in range(0, n, _BLOCK):
        x = yv ^ int.from_bytes(bytes(data[p : p + _BLOCK]), "big")
        # Horner over the bytes, last byte (highest powers of x) first.
        z = m[x & 0xFF]
        for shift in range(8, 128, 8):
            z = (z >> 8) ^ r8[z & 0xFF] ^ m[(x >> shift) & 0xFF]
        yv = z
    y[0:_BLOCK] = yv.to_bytes(_BLOCK, "big")


def _counter_blocks_py(ks, j0, counter, blocks):
    """Plain twin of gcm_viper.counter_blocks."""
    for i in range(blocks):
        o = i * _BLOCK
        ks[o : o + 12] = j0[0:12]
        struct.pack_into(">I", ks, o + 12, (counter + i) & 0xFFFFFFFF)


def _xor_into_py(dst, src, ks, n):
    """Plain twin of gcm_viper.xor_into."""
    if n:
        a = int.from_bytes(bytes(src[0:n]), "big")
        b = int.from_bytes(bytes(ks[0:n]), "big")
        dst[0:n] = (a ^ b).to_bytes(n, "big")


_ghash = _ghash_bits if IS_MICROPYTHON else _ghash_table
_counter_blocks = _counter_blocks_py
_xor_into = _xor_into_py
KERNEL = "python"
if IS_MICROPYTHON:
    try:
        from decoder.gcm_viper import counter_blocks as _counter_blocks
        from decoder.gcm_viper import ghash as _ghash
        from decoder.gcm_viper import xor_into as _xor_into

        KERNEL = "viper"
    except (ImportError, SyntaxError):  # a port built without the native emitters
        pass


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
        self._ks = bytearray(_CHUNK_BLOCKS * _BLOCK)
        self._ks_view = memoryview(self._ks)
        self._sc = bytearray(1)

    def decrypt(self, security_control, system_title, frame_counter, ciphertext, tag, out):
        """Decrypt and/or verify one ciphered APDU into ``out``; return its length.

        ``tag`` is the 12-byte tag (None for encryption only). The tag is
        checked when the control byte has the authentication bit and an
        authentication key was given. ``out`` may be ``ciphertext`` itself.
        """
        sc = security_control
        if sc & _SC_COMPRESSED:
            raise SecurityError("compressed ciphered APDUs (security control 0x%02x) are not supported" % sc)
        if sc & _SC_SUITE > _MAX_SUITE:
            raise SecurityError("security suite %d is not supported (AES-128-GCM suites 0 and 1)" % (sc & _SC_SUITE))
        if not sc & (SC_AUTH | SC_ENC):
            raise SecurityError("security control 0x%02x neither authenticates nor encrypts" % sc)
        n = len(ciphertext)
        if len(out) < n:
            raise FrameTooLong("decrypted APDU of %d bytes exceeds its %d-byte buffer" % (n, len(out)))
        self._set_j0(system_title, frame_counter)
        check = sc & SC_AUTH and self.auth_key is not None
        if check and (tag is None or len(tag) != TAG_BYTES):
            raise SecurityError("authenticated APDU without its %d-byte tag" % TAG_BYTES)
        self._absorb_start(sc, check)
        if sc & SC_ENC:
            if check:
                self._absorb_pad()  # A = SC || AK ends here, padded
                self._absorb(ciphertext)  # before the XOR: out may be ciphertext
            self.ctr(ciphertext, out, n)
            aad_len, c_len = 1 + _KEY_BYTES, n
        else:
            out[0:n] = ciphertext
            if check:
                self._absorb(ciphertext)  # A = SC || AK || plaintext, no C
            aad_len, c_len = 1 + _KEY_BYTES + n, 0
        if check and not self._tag_matches(aad_len, c_len, tag):
            raise SecurityError(AUTH_FAILED)
        return n

    def decrypt_raw(self, iv, aad, ciphertext, out):
        """Plain GCM decryption with a 96-bit IV and any AAD (the NIST vectors).

        Writes the plaintext to ``out`` and returns the full 16-byte tag,
        which the caller compares; the DLMS path is ``decrypt``.
        """
        n = len(ciphertext)
        self.set_iv(iv)
        self.ghash_start()
        self._absorb(aad)
        self._absorb_pad()
        self._absorb(ciphertext)
        self.ctr(ciphertext, out, n)
        return bytes(self.finish_tag(len(aad), n))

    # --- the pieces of GCM ---

    def _set_j0(self, system_title, frame_counter):
        if system_title is None or len(system_title) != _TITLE_BYTES:
            raise SecurityError("system title must be %d bytes for the GCM IV" % _TITLE_BYTES)
        j0 = self._j0
        j0[0:_TITLE_BYTES] = system_title
        struct.pack_into(">II", j0, _TITLE_BYTES, frame_counter & 0xFFFFFFFF, 1)

    def set_iv(self, iv):
        """J0 from a 96-bit IV (SP 800-38D 7.1 step 2): IV || 0^31 || 1."""
        self._j0[0:12] = iv
        struct.pack_into(">I", self._j0, 12, 1)

    def ctr(self, src, dst, n):
        """dst = src xor keystream (GCTR with inc32 from J0 + 1), a chunk at a time."""
        counter = struct.unpack_from(">I", self._j0, 12)[0] + 1
        pos = 0
        while pos < n:
            take = min(n - pos, _CHUNK_BLOCKS * _BLOCK)
            blocks = (take + _BLOCK - 1) // _BLOCK
            _counter_blocks(self._ks, self._j0, counter, blocks)
            ks = self._ks if blocks == _CHUNK_BLOCKS else self._ks_view[0 : blocks * _BLOCK]
            self._aes.encrypt(ks, ks)
            if pos:
                _xor_into(memoryview(dst)[pos:], memoryview(src)[pos:], self._ks, take)
            else:
                _xor_into(dst, src, self._ks, take)
            counter += blocks
            pos += take

    def _absorb_start(self, sc, check):
        self.ghash_start()
        if check:
            self._sc[0] = sc
            self._absorb(self._sc)
            self._absorb(self.auth_key)

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
        lengths = self._part
        struct.pack_into(">IIII", lengths, 0, 0, aad_len * 8, 0, c_len * 8)
        _ghash(self._y, self._h, lengths, _BLOCK)
        full = self._full_tag
        self._aes.encrypt(self._j0, full)
        for i in range(_BLOCK):
            full[i] ^= self._y[i]
        return full

    def _tag_matches(self, aad_len, c_len, tag):
        full = self.finish_tag(aad_len, c_len)
        diff = 0
        for i in range(TAG_BYTES):  # constant time: no early exit on the first mismatch
            diff |= full[i] ^ tag[i]
        return diff == 0
