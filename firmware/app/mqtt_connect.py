"""The broker's TCP handshake without blocking the gateway, then umqtt.simple's CONNECT on it.

umqtt.simple connects synchronously. A broker host that does not answer at all (the
home server switched off: its address answers nothing) held the whole gateway, meter
port and HTTP included, for the connect timeout on every attempt; at 115200 baud (DSMR 5)
the ESP32's UART buffer holds less than that. Here the handshake is a non-blocking
connect that the event loop looks at every few milliseconds; umqtt then gets the
connected socket and only sends CONNECT and reads CONNACK, which a live broker answers
at once (a frozen one costs the socket timeout, once per attempt). A host *name* is
still resolved synchronously: give mqtt.host as an address where DNS may be slow.

Loaded for each connect and dropped after (app/mqtt.py), like the umqtt shim it
replaces: works with umqtt.simple 1.3 (no connect timeout, the unix port's) and 1.4+.
"""

import errno
import select
import socket
import sys

try:
    import asyncio
except ImportError:  # pragma: no cover
    import uasyncio as asyncio

from app.clock import since_ms, ticks_ms

_LOOK_EVERY = 0.02  # s between looks at a handshake in progress


async def open_socket(host, port, timeout):
    """A blocking socket connected to host:port within ``timeout`` s, the loop running
    meanwhile; raises OSError (ETIMEDOUT, ECONNREFUSED, ...)."""
    addr = socket.getaddrinfo(host, port)[0][-1]
    sock = socket.socket()
    connected = False
    try:
        sock.setblocking(False)
        try:
            sock.connect(addr)
        except OSError as e:
            if e.errno != errno.EINPROGRESS:
                raise
        poller = select.poll()
        poller.register(sock, select.POLLOUT)
        start = ticks_ms()
        events = poller.poll(0)
        while not events:
            if since_ms(start) > timeout * 1000:
                raise OSError(errno.ETIMEDOUT)
            await asyncio.sleep(_LOOK_EVERY)
            events = poller.poll(0)
        if events[0][1] & (select.POLLERR | select.POLLHUP):
            raise OSError(errno.ECONNREFUSED)  # a reset or refusal ends a handshake
        sock.setblocking(True)
        sock.settimeout(timeout)  # for CONNACK: a frozen broker costs this, once
        connected = True
        return sock
    finally:
        if not connected:
            sock.close()  # also when the task is cancelled: a socket per attempt would leak


class _Connected:
    """Stands in for umqtt.simple's ``socket`` module, and for the socket its connect()
    makes: that one is ``sock``, connected already."""

    def __init__(self, sock):
        self._sock = sock

    def socket(self, *args):
        return self

    def getaddrinfo(self, *args):
        return ((None, None, None, None, None),)  # [0][-1] goes to connect(), which is done

    def connect(self, addr):
        pass

    def settimeout(self, seconds):
        pass  # umqtt 1.4 sets None when connect() gets no timeout: ours stays

    def write(self, *args):
        return self._sock.write(*args)

    def read(self, *args):
        return self._sock.read(*args)


def handshake(client, sock):
    """``client.connect()`` (MQTT CONNECT, CONNACK) over ``sock``; the client keeps ``sock``."""
    module = sys.modules[type(client).__module__]
    real = module.socket
    module.socket = _Connected(sock)
    try:
        client.connect()
    finally:
        module.socket = real
        client.sock = sock  # the real socket, for the poller and the session's timeouts
