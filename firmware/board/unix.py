"""The board layer on the MicroPython unix port (and CPython): a desktop as a dongle.

Same interface as board/esp32.py:

    Board(config_dir=None)
    .name, .device_id(), .config_path(), .prepare(cfg) -> None, or why cfg cannot run here
    await .open_meter(source, baud, line="8N1") -> meter with  await readinto(buf) -> n (0 = gone), close()
    .start_network(cfg) / .network_up() / .address() / .name_server() / .rssi()
    .led(on), .watchdog_start(), .watchdog_feed(), .mem_free()
    .button_held(), .start_ap(ssid, password, txpower) -> ip, .scan() -> [ssid], .stop_ap(), .reset()
                                                          (the captive portal's, portal/boot.py)

The meter comes from ``tcp://HOST:PORT`` (a ser2net-style raw TCP port, how
the simulator and remote serial servers expose a meter), a serial device path
(set to raw mode at the configured baud rate with stty), or a capture file
(replayed once, then silence); those two are in board/unix_local.py, loaded
only for such a source. Configuration lives in a local folder
(``$METERLINK_DIR`` or ./var).
"""

import os
import sys

try:
    import asyncio
except ImportError:  # pragma: no cover - MicroPython before 1.21
    import uasyncio as asyncio


class _StreamMeter:
    """A meter behind an asyncio stream (TCP)."""

    def __init__(self, reader, writer):
        self._reader = reader
        self._writer = writer

    async def readinto(self, buf):
        if hasattr(self._reader, "readinto"):
            # MicroPython: straight into the reader's buffer. read(n) made a new bytes
            # object per read, which on a fragmented heap was the allocation that failed.
            while True:
                n = await self._reader.readinto(buf)
                if n is not None:  # None: woken with nothing to read yet
                    return n
        data = await self._reader.read(len(buf))  # CPython's streams have no readinto
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


async def _connected(host, port):
    """A stream connected to host:port. MicroPython's open_connection leaves its socket
    open when the handshake fails or the task is cancelled while it waits (a /config save
    restarts the gateway while the meter's host is down), and the unix port's sockets
    have no finaliser: a descriptor lost each time, and a handshake that completes later
    holds a one-client ser2net for good."""
    import errno
    import socket

    # Every address of the name in turn: "localhost" is ::1 first on many systems, and a
    # ser2net or simulator listening on 127.0.0.1 only was refused there for good. A name
    # with no address at all is a host not reached, not a NameError on `error`.
    error = OSError(errno.EHOSTUNREACH)
    for info in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
        try:
            return await _handshake(info)
        except OSError as e:
            error = e
    raise error


async def _handshake(info):
    import errno
    import select
    import socket

    sock = socket.socket(info[0], info[1], info[2])
    connected = False
    try:
        sock.setblocking(False)
        try:
            sock.connect(info[-1])
        except OSError as e:
            if e.errno != errno.EINPROGRESS:
                raise
        poller = select.poll()
        poller.register(sock, select.POLLOUT)
        while True:
            ready = poller.poll(0)
            if ready:
                break
            await asyncio.sleep_ms(20)
        if ready[0][1] & select.POLLERR:
            sock.recv(1)  # raises the handshake's own error: refused, unreachable, timed out
        connected = True
        return asyncio.StreamReader(sock)
    finally:
        if not connected:
            sock.close()


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

    async def open_meter(self, source, baud, line="8N1"):
        if source.startswith("tcp://"):
            host, port = source[6:].rsplit(":", 1)
            if host.startswith("[") and host.endswith("]"):
                host = host[1:-1]  # an IPv6 address, written as in a URL: tcp://[::1]:7000
            if sys.implementation.name == "micropython":
                reader = writer = await _connected(host, int(port))
            else:
                reader, writer = await asyncio.open_connection(host, int(port))
            sock = getattr(writer, "s", None)  # MicroPython's stream; CPython's has none
            if sock is not None and sys.platform == "linux":
                # A meter only talks, so a ser2net host that reboots or drops off the
                # network leaves this end half open and the reader waiting for good.
                # Keepalive probes after 30 s of silence (10 s apart, 3 unanswered)
                # end such a session and the reader reopens the port; a live peer
                # answers them, however long its meter is quiet. Linux's numbers:
                # SOL_SOCKET/SO_KEEPALIVE, then IPPROTO_TCP with TCP_KEEPIDLE,
                # TCP_KEEPINTVL, TCP_KEEPCNT, which MicroPython's socket does not name.
                for level, option, value in ((1, 9, 1), (6, 4, 30), (6, 5, 10), (6, 6, 3)):
                    sock.setsockopt(level, option, value)
            return _StreamMeter(reader, writer)
        # A serial device or a capture file: loaded for that source only (a TCP meter,
        # the common case on unix, does not hold their code).
        from board import unix_local

        if source.startswith("/dev/") or unix_local.is_terminal(source):
            return unix_local.DeviceMeter(source, baud, line)
        return unix_local.FileMeter(source)

    def prepare(self, cfg):
        """The device starts its drivers here, before the heap grows; a desktop has none.
        What this board cannot run is refused: the text, or None."""
        if cfg["meter"]["source"] == "uart":
            # The default, and the only source of the device: here it left a gateway that
            # served HTTP and MQTT and retried a port it can never open.
            return 'meter.source: "uart" is the ESP32\'s port; on unix give tcp://HOST:PORT, a serial device or a file'
        return None

    def start_network(self, cfg):
        return None  # the host's network is up or not; nothing to manage

    def network_up(self):
        return True

    def address(self):
        # Where the HTTP server listens, when that is one address (loopback by default).
        return None if self.http_host == "0.0.0.0" else self.http_host

    def name_server(self):
        # None: the host's resolver (getaddrinfo(), /etc/hosts and all). METERLINK_DNS
        # ("ip" or "ip:port") looks mqtt.host up the ESP32's way instead, for tests.
        return os.getenv("METERLINK_DNS")

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

    def start_ap(self, ssid, password, txpower=None):
        return "127.0.0.1"

    def scan(self):
        """Networks to list in the portal: METERLINK_SCAN="Home,Neighbour" (none by default)."""
        names = os.getenv("METERLINK_SCAN") or ""
        return [n for n in names.split(",") if n]

    def stop_ap(self):
        pass

    def reset(self):
        pass  # unix goes on into station mode in the same process (portal/boot.py)
