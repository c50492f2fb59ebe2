"""The broker's TCP handshake and CONNACK without blocking the gateway, umqtt.simple's
CONNECT in between.

umqtt.simple connects synchronously. A broker host that does not answer at all (the
home server switched off: its address answers nothing) held the whole gateway, meter
port and HTTP included, for the connect timeout on every attempt, and so did a broker
that takes the connection but never answers CONNECT (a frozen process); at 115200 baud
(DSMR 5) the ESP32's UART buffer holds less than that. Here the handshake is a
non-blocking connect that the event loop looks at every few milliseconds. umqtt then
gets the connected socket and writes CONNECT; the loop waits for the broker's reply
the same way, and umqtt's connect() runs once more, its CONNECT not sent again, to read
and check that reply (a refusal raises as umqtt raises it). A host *name* is looked up
the same way (net/resolve.py) where the board knows its name server, as the ESP32 does.

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
from decoder.compat import const

_LOOK_EVERY = 0.02  # s between looks at a handshake in progress


async def open_socket(host, port, timeout, name_server=None):
    """A blocking socket connected to host:port within ``timeout`` s, the loop running
    meanwhile; raises OSError (ETIMEDOUT, ECONNREFUSED, ...). A host name is asked of
    ``name_server`` ("ip" or "ip:port") where one is given, else of getaddrinfo()."""
    # resolve.is_address's test, written here: a broker given by its address (the usual
    # setting) then loads no resolver into the heap at every connect.
    if name_server and not (":" in host or host.replace(".", "").isdigit()):
        from net import resolve

        host = await _looked_up(resolve, host, name_server, timeout)
    # Every address of the name in turn, as getaddrinfo() orders them: a name with an IPv6
    # and an IPv4 address ("localhost", a NAS) whose broker listens on IPv4 only was
    # refused on the first for good. (The unix port lists each address once per socket
    # type.) A name with no address at all is a host not reached.
    tried = []
    error = OSError(errno.EHOSTUNREACH)
    for info in socket.getaddrinfo(host, port):
        if info[-1] in tried:
            continue
        tried.append(info[-1])
        try:
            return await _handshake(info, timeout)
        except OSError as e:
            error = e
    raise error


async def _handshake(info, timeout):
    # The address's own family: socket() alone is IPv4, and an IPv6 broker ("::1", a
    # name with only an AAAA record on the unix port) failed with EAFNOSUPPORT for good.
    addr = info[-1]
    if addr is None:  # the ESP32 port's answer for an IPv6 address: it has no IPv6
        raise OSError(errno.EHOSTUNREACH)
    sock = socket.socket(info[0], socket.SOCK_STREAM)
    connected = False
    try:
        sock.setblocking(False)
        try:
            sock.connect(addr)
        except OSError as e:
            if e.errno != errno.EINPROGRESS:
                raise
        if await _ready(sock, select.POLLOUT, timeout) & (select.POLLERR | select.POLLHUP):
            raise OSError(errno.ECONNREFUSED)  # a reset or refusal ends a handshake
        sock.setblocking(True)
        sock.settimeout(timeout)  # CONNACK's 4 bytes, should they come in pieces
        connected = True
        return sock
    finally:
        if not connected:
            sock.close()  # also when the task is cancelled: a socket per attempt would leak


async def _looked_up(resolve, host, name_server, timeout):
    try:
        return await resolve.lookup(host, name_server, timeout)
    except OSError:
        if not host.rstrip(".").endswith(".local"):
            raise
    # Our multicast query went unanswered (a responder that does not answer one-shot
    # queries by unicast): the port's own mDNS lookup, which holds the loop, as before.
    return host


async def _ready(sock, event, timeout):
    # The poll events of ``sock`` once ``event`` (or an error) is there; ETIMEDOUT after
    # ``timeout`` s. The loop runs meanwhile.
    poller = select.poll()
    poller.register(sock, event)
    start = ticks_ms()
    events = poller.poll(0)
    while not events:
        if since_ms(start) > timeout * 1000:
            raise OSError(errno.ETIMEDOUT)
        await asyncio.sleep(_LOOK_EVERY)
        events = poller.poll(0)
    return events[0][1]


# What the stand-in answers connect()'s first run: "accepted". The broker's own reply is
# read and checked by the second run.
_ACCEPTED = const(b"\x20\x02\x00\x00")


class _Connected:
    """Stands in for umqtt.simple's ``socket`` module, and for the socket its connect()
    makes: that one is ``sock``, connected already. First CONNECT goes out and the
    reply is not waited for; once ``replay`` is set, nothing goes out and the broker's
    reply is read."""

    def __init__(self, sock):
        self._sock = sock
        self.replay = False

    def socket(self, *args):
        return self

    def getaddrinfo(self, *args):
        return ((None, None, None, None, None),)  # [0][-1] goes to connect(), which is done

    def connect(self, addr):
        pass

    def settimeout(self, seconds):
        pass  # umqtt 1.4 sets None when connect() gets no timeout: ours stays

    def write(self, data, *length):
        if self.replay:
            return length[0] if length else len(data)
        return self._sock.write(data, *length)

    def read(self, n):
        if not self.replay:
            return _ACCEPTED[:n]
        data = self._sock.read(n)
        if not data:  # umqtt would fail on an IndexError
            raise OSError(errno.ECONNRESET)  # closed by the server before its reply
        return data


async def handshake(client, sock, timeout):
    """``client.connect()`` (MQTT CONNECT, CONNACK) over ``sock``, the loop running while
    the broker answers (ETIMEDOUT after ``timeout`` s); the client keeps ``sock``."""
    stand_in = _Connected(sock)
    try:
        _connect(client, stand_in)  # CONNECT goes out
        await _ready(sock, select.POLLIN, timeout)
        stand_in.replay = True
        _connect(client, stand_in)  # CONNACK read and checked by umqtt
    finally:
        client.sock = sock  # the real socket, for the poller and the session's timeouts


def _connect(client, stand_in):
    module = sys.modules[type(client).__module__]
    real = module.socket
    module.socket = stand_in
    try:
        client.connect()
    finally:
        module.socket = real
