"""CPython stand-in for MicroPython's ``cryptolib`` (host tests and tools only).

The firmware does ``from cryptolib import aes``; on the ESP32 and the unix
port the built-in module answers. On CPython this file answers instead, built
on the ``cryptography`` package, and copies the built-in's behaviour as
observed on the MicroPython v1.29 unix port:

- ``aes(key, mode[, iv])``, positional; key 16 or 32 bytes; mode 1 (ECB) or
  2 (CBC, IV of 16 bytes required); any other mode -> ``ValueError('mode')``.
  There are no ``MODE_*`` attributes, as on the device.
- ``encrypt(in_buf[, out_buf])`` / ``decrypt(...)``: input a multiple of 16
  bytes; with ``out_buf`` the result is written there (it may be longer than
  the input; memoryview slices work) and ``out_buf`` itself is returned;
  without it a new ``bytes`` is returned.
- One object either encrypts or decrypts, never both. CBC chains across calls.

Never copied to a device: ``firmware/`` must not depend on it.
"""

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_ECB = 1
_CBC = 2
_BLOCK = 16


class aes:  # noqa: N801 - the built-in's own spelling
    """AES in ECB or CBC mode, with the built-in ``cryptolib.aes`` semantics."""

    def __init__(self, key, mode, iv=None):
        key = bytes(key)
        if len(key) not in (16, 32):
            raise ValueError("key")
        if mode == _ECB:
            cipher_mode = modes.ECB()
        elif mode == _CBC:
            if iv is None or len(iv) != _BLOCK:
                raise ValueError("IV")
            cipher_mode = modes.CBC(bytes(iv))
        else:
            raise ValueError("mode")
        self._cipher = Cipher(algorithms.AES(key), cipher_mode)
        self._context = None
        self._encrypting = None

    def encrypt(self, in_buf, out_buf=None):
        """Encrypt ``in_buf`` (whole blocks) into ``out_buf`` or a new bytes."""
        return self._run(True, in_buf, out_buf)

    def decrypt(self, in_buf, out_buf=None):
        """Decrypt ``in_buf`` (whole blocks) into ``out_buf`` or a new bytes."""
        return self._run(False, in_buf, out_buf)

    def _run(self, encrypting, in_buf, out_buf):
        if self._encrypting is None:
            self._encrypting = encrypting
            if encrypting:
                self._context = self._cipher.encryptor()
            else:
                self._context = self._cipher.decryptor()
        elif self._encrypting != encrypting:
            raise ValueError("can't encrypt & decrypt")
        if isinstance(in_buf, str):
            in_buf = in_buf.encode()
        data = bytes(in_buf)
        if len(data) % _BLOCK:
            raise ValueError("blksize % 16")
        if out_buf is not None and len(out_buf) < len(data):
            raise ValueError("output too small")
        result = self._context.update(data)
        if out_buf is None:
            return result
        out_buf[: len(result)] = result
        return out_buf
