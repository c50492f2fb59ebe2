"""The unix board's local meters: a serial device and a capture file (board/unix.py).

Loaded by ``Board.open_meter`` for those sources only: a gateway reading a TCP meter
port (the simulator, ser2net) never needs them.

- ``/dev/…`` or any other character device (a link to one): a serial device (USB
  adapter on P1/M-Bus), set to raw mode at the configured baud rate and character
  format (meter.format) with stty, polled without blocking the loop.
- any other path: a capture file, replayed once like a slow meter, then silence.
"""

import os

from decoder.compat import const

try:
    import asyncio
except ImportError:  # pragma: no cover - MicroPython before 1.21
    import uasyncio as asyncio

# Bytes handed to the decoder per read from a capture file: about a quarter
# second of 9600-baud line time, so a file replays like a slow meter.
_FILE_CHUNK = const(256)
# Pause between polls of a serial device with nothing to read (ms): at 9600
# baud 20 ms is ~19 bytes, far below the kernel's tty buffer.
_POLL_MS = const(20)


def stty_line(line):
    """stty settings for a character format of config.LINE_FORMATS ("7E1": cs7 parenb -parodd -cstopb)."""
    parity = "-parenb" if line[1] == "N" else "parenb " + ("parodd" if line[1] == "O" else "-parodd")
    return "cs%s %s %s" % (line[0], parity, "cstopb" if line[2] == "2" else "-cstopb")


def _mode(path):
    # st_mode, following links; None when nothing is there.
    try:
        return os.stat(path)[0]
    except OSError:
        return None


def is_terminal(path):
    """Whether ``path`` is a character device (a tty) though it is not under /dev: socat's
    ``pty,link=/tmp/meter`` and other links to one. Read as a capture file, it stalled the
    gateway in a read that waits for a full buffer."""
    return (_mode(path) or 0) & 0o170000 == 0o020000  # S_IFMT, S_IFCHR


class FileMeter:
    """A capture file replayed once; afterwards the line stays silent."""

    def __init__(self, path):
        self._f = open(path, "rb")

    async def readinto(self, buf):
        if self._f is None:
            while True:  # a finished capture is a meter that went quiet
                await asyncio.sleep(3600)
        await asyncio.sleep(0)
        n = self._f.readinto(memoryview(buf)[:_FILE_CHUNK])
        if not n:
            self._f.close()
            self._f = None
            return await self.readinto(buf)
        return n

    def close(self):
        if self._f is not None:
            self._f.close()
            self._f = None


class DeviceMeter:
    """A serial device (USB adapter on P1/M-Bus), polled without blocking the loop."""

    def __init__(self, path, baud, line="8N1"):
        import select

        # The path quoted for the shell (a space or a ';' in it is the path's, not a
        # command), and a device stty cannot set is refused: not a serial port. "min 0
        # time 0": a read returns what has arrived. MicroPython's readinto reads until its
        # buffer is full, and raw mode's "min 1" made the tty block for every byte of it,
        # stalling the loop and holding a telegram until the next one filled the buffer.
        if _mode(path) is None:
            # Said in the reader's retry lines while a USB adapter is out (stty's own
            # complaint went to the log as well, every retry).
            raise OSError("%s does not exist: is the adapter plugged in?" % path)
        status = os.system("stty -F '%s' %d raw -echo min 0 time 0 %s 2>/dev/null" % (path.replace("'", "'\\''"),
                                                                                   baud, stty_line(line)))
        if status != 0:
            raise OSError("stty could not set %s (exit status %d): is it a serial port?" % (path, status >> 8))
        self._f = open(path, "rb")
        self._poll = select.poll()
        self._poll.register(self._f, select.POLLIN)

    async def readinto(self, buf):
        while not self._poll.poll(0):
            await asyncio.sleep(_POLL_MS / 1000)
        return self._f.readinto(buf) or 0

    def close(self):
        self._f.close()
