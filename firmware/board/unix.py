"""The board layer on the MicroPython unix port (and CPython): a desktop as a dongle.

Same interface as board/esp32.py:

    Board(config_dir=None)
    .name, .device_id(), .config_path()
    await .open_meter(source, baud) -> meter with  await readinto(buf) -> n (0 = gone), close()
    .start_network(cfg) / .network_up() / .rssi()
    .led(on), .watchdog_start(), .watchdog_feed(), .mem_free()
    .button_held(), .start_ap(ssid, password) -> ip, .scan() -> [ssid], .stop_ap(), .reset()
                                                          (the captive portal's, portal/boot.py)

The meter comes from ``tcp://HOST:PORT`` (a ser2net-style raw TCP port, how
the simulator and remote serial servers expose a meter), a serial device path
(set to raw mode at the configured baud rate with stty), or a capture file
(replayed once, then silence). Configuration lives in a local folder
(``$METERLINK_DIR`` or ./var).
"""

import os

try:
    import asyncio
except ImportError:  # pragma: no cover - MicroPython before 1.21
    import uasyncio as asyncio

# Bytes handed to the decoder per read from a capture file: about a quarter
# second of 9600-baud line time, so a file replays like a slow meter.
_FILE_CHUNK = 256
# Pause between polls of a serial device with nothing to read (ms): at 9600
# baud 20 ms is ~19 bytes, far below the kernel's tty buffer.
_POLL_MS = 20


class _StreamMeter:
    """A meter behind an asyncio stream (TCP)."""

    def __init__(self, reader, writer):
        self._reader = reader
        self._writer = writer

    async def readinto(self, buf):
        data = await self._reader.read(len(buf))
        n = len(data)
        buf[:n] = data
        return n

    def close(self):
        try:
            self._writer.close()
            # MicroPython's Stream.close() leaves the socket open until wait_closed(); a
            # meter port kept open would hold a one-client meter server (ser2net) forever.
            sock = getattr(self._writer, "s", None)
            if sock is not None:
                sock.close()
        except OSError:
            pass


class _FileMeter:
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


class _DeviceMeter:
    """A serial device (USB adapter on P1/M-Bus), polled without blocking the loop."""

    def __init__(self, path, baud):
        import select

        os.system("stty -F %s %d raw -echo cs8 -cstopb -parenb" % (path, baud))
        self._f = open(path, "rb")
        self._poll = select.poll()
        self._poll.register(self._f, select.POLLIN)

    async def readinto(self, buf):
        while not self._poll.poll(0):
            await asyncio.sleep(_POLL_MS / 1000)
        return self._f.readinto(buf) or 0

    def close(self):
        self._f.close()


def _host_name():
    name = os.getenv("HOSTNAME")
    if not name:
        try:
            with open("/etc/hostname") as f:
                name = f.read().strip()
        except OSError:
            name = ""
    clean = "".join([c for c in name.split(".")[0] if c.isalpha() or c.isdigit() or c in "-_"])
    return clean[:32] or "meterlink"


class Board:
    """The unix port standing in for the dongle."""

    name = "unix"

    def __init__(self, config_dir=None):
        self.config_dir = config_dir or os.getenv("METERLINK_DIR") or "var"
        # Loopback unless asked otherwise: a developer machine is not a dongle
        # on a home network, and the API has no authentication.
        self.http_host = os.getenv("METERLINK_HTTP_HOST") or "127.0.0.1"

    def device_id(self):
        return _host_name()

    def config_path(self):
        return self.config_dir + "/config.json"

    async def open_meter(self, source, baud):
        if source.startswith("tcp://"):
            host, port = source[6:].rsplit(":", 1)
            reader, writer = await asyncio.open_connection(host, int(port))
            return _StreamMeter(reader, writer)
        if source == "uart":
            raise OSError("meter.source 'uart' needs the ESP32; on unix use tcp://, a device or a file")
        if source.startswith("/dev/"):
            return _DeviceMeter(source, baud)
        return _FileMeter(source)

    def start_network(self, cfg):
        return None  # the host's network is up or not; nothing to manage

    def network_up(self):
        return True

    def rssi(self):
        return None

    def led(self, on):
        pass

    def watchdog_start(self):
        pass

    def watchdog_feed(self):
        pass

    def mem_free(self):
        import gc

        if not hasattr(gc, "mem_free"):
            return None  # CPython
        gc.collect()  # a collected heap, so repeated readings are comparable
        return gc.mem_free()

    # --- captive portal (portal/boot.py): no radio here, the portal serves on loopback ---

    def button_held(self):
        """The unix stand-in for holding the button: METERLINK_BUTTON=1."""
        return os.getenv("METERLINK_BUTTON") == "1"

    def start_ap(self, ssid, password):
        return "127.0.0.1"

    def scan(self):
        """Networks to list in the portal: METERLINK_SCAN="Home,Neighbour" (none by default)."""
        names = os.getenv("METERLINK_SCAN") or ""
        return [n for n in names.split(",") if n]

    def stop_ap(self):
        pass

    def reset(self):
        pass  # unix goes on into station mode in the same process (portal/boot.py)
