"""A tiny HTTP/1.1 server on asyncio streams (RFC 9110 semantics, RFC 9112 syntax in
web/message.py). No framework.

- Routes: exact paths; a path ending in ``*`` is a prefix route (``"*"`` alone catches
  everything, which the captive portal uses). The longest matching prefix wins.
- Unknown path: 404, JSON. Known path, wrong method: 405, JSON, with ``Allow``.
- One request per connection (``Connection: close``): no keep-alive state to bound.
- Every read and write is under a timeout (``within``, asyncio.wait_for): a slow or
  stalled client costs one task until its timeout and never blocks the meter reader or
  other clients; one that sends nothing at all (a browser's pre-connect) gives its slot
  back after ``IDLE_TIMEOUT``.
- At most ``MAX_CLIENTS`` connections are served at once; the rest get 503 straight away.
- On MicroPython the server accepts connections itself rather than through
  ``asyncio.start_server``, whose accept loop ends for good on a MemoryError while it
  sets up a connection (seen on the gateway near its heap floor under HTTP load: the
  API stopped answering while everything else ran on). Here such a connection is closed
  and the next one served. CPython keeps ``start_server``.

Usage::

    srv = HttpServer(80)
    srv.route("/api/status", status)                  # handler(request) -> Response
    srv.route("/config", save, methods=("POST",))     # handlers may be async
    await srv.start()
    ...
    srv.close()
"""

import gc
import sys

try:
    import asyncio
except ImportError:  # MicroPython before 1.21
    import uasyncio as asyncio

from web.message import (  # noqa: F401  (re-exported: handlers import them from here)
    MAX_HEAD,
    HttpError,
    Request,
    Response,
    error_response,
    head_bytes,
    pieces,
    read_request,
    redirect,
    response,
    within,
)

MAX_CLIENTS = 4  # lwIP on the ESP32 has 10 sockets by default; MQTT, DNS, listener need some
READ_TIMEOUT = 10  # seconds for a whole request: a phone on a weak AP link needs a few
# Seconds a new connection may send nothing at all: a browser's speculative pre-connect
# holds a slot idle for ~10 s, and four of them would hold every slot. A client that
# means to ask sends its request line right after connecting.
IDLE_TIMEOUT = 3
WRITE_TIMEOUT = 10  # seconds to hand a response to a client that does not read it
DISCARD_TIMEOUT = 1  # seconds spent draining an unread body after an error reply
DISCARD_LIMIT = 16384  # unread body bytes drained after an error so the reply is not reset
_CHUNK = 512  # read size while draining
_ECHO_MAX = 80  # characters of an unknown path quoted back in the 404 message
# MicroPython: the pause after a failed accept() or a MemoryError while a connection was
# set up (it waits in the backlog meanwhile). Otherwise the accept task sleeps until the
# listening socket is readable (_readable): it polled once every 20-100 ms before, each
# try ~370 B of heap on the unix port (the timed wake-up, accept()'s EAGAIN error), ~3.8 kB
# a second idle.
ACCEPT_EVERY = 0.02
_BACKLOG = MAX_CLIENTS + 1  # connections the kernel or lwIP queues until accept()
_OWN_ACCEPT = sys.implementation.name == "micropython"


class HttpServer:
    """Routes plus a listening socket; ``on_error(exc)`` sees handler crashes (500)."""

    def __init__(self, port, host="0.0.0.0"):
        self.port = port
        self.host = host
        self.clients = 0
        self.requests = 0
        self.on_error = _print_error
        self._exact = {}
        self._prefixes = []
        self._server = None
        self._sock = None  # MicroPython: the listening socket _accept_loop serves
        # The request head buffer, lent to one request at a time (others get their own):
        # 2 kB in one block is what a heap fragmented by hours of decoding lacks first
        # (503s on /api/v1/status with DSMR meters at the gateway's heap floor).
        self._heads = []

    def route(self, path, handler, methods=("GET",)):
        """Serve ``path`` with ``handler(request)`` for the given methods."""
        entry = (handler, tuple(m.upper() for m in methods))
        if path.endswith("*"):
            self._prefixes.append((path[:-1], entry))
            self._prefixes.sort(key=lambda p: -len(p[0]))
        else:
            self._exact[path] = entry

    def find(self, path):
        """The (handler, methods) serving ``path``, or None."""
        entry = self._exact.get(path)
        if entry is not None:
            return entry
        for prefix, entry in self._prefixes:
            if path.startswith(prefix):
                return entry
        return None

    async def dispatch(self, req):
        """Run the matching handler; always returns a Response."""
        entry = self.find(req.path)
        if entry is None:
            return error_response(404, "no such path: %s" % req.path[:_ECHO_MAX])
        handler, methods = entry
        if req.method not in methods:
            allow = ", ".join(methods)
            return error_response(405, "use %s" % allow, {"Allow": allow})
        try:
            resp = handler(req)
            if hasattr(resp, "send"):  # a coroutine (generator on MicroPython)
                resp = await resp
        except HttpError as e:
            return error_response(e.status, e.message)
        except MemoryError:
            raise  # not a bug in the handler: 503, try again (_serve)
        except Exception as e:  # a handler bug must not take the server down
            self.on_error(e)
            return error_response(500, "internal error")
        if not isinstance(resp, Response):
            resp = response(200, resp)
        return resp

    async def start(self):
        """Start listening; returns once the socket is bound."""
        if not self._heads:
            self._heads.append(bytearray(MAX_HEAD))  # now, while the heap is young
        if _OWN_ACCEPT:
            self._sock = _listening(self.host, self.port)
            self._server = asyncio.create_task(self._accept_loop(self._sock))
        else:
            self._server = await asyncio.start_server(self._serve, self.host, self.port)

    def listener(self):
        """The task accepting connections (MicroPython), to watch like any other; else None."""
        return self._server if _OWN_ACCEPT else None

    def close(self):
        """Stop accepting connections (open requests end on their own timeouts)."""
        if self._server is not None:
            if _OWN_ACCEPT:
                self._server.cancel()
                # Here, not only as the loop ends: cancelled before it first ran, it never
                # would, and the port would stay bound.
                self._sock.close()
            else:
                self._server.close()
            self._server = None

    async def close_and_wait(self):
        """close(), then wait until the listening task has really ended."""
        server = self._server
        self.close()
        if server is None:
            return
        if not _OWN_ACCEPT:
            await server.wait_closed()
            return
        try:
            await server
        except asyncio.CancelledError:
            pass

    async def _accept_loop(self, sock):
        # Nothing a client or a short heap does may end this loop: only close() does.
        try:
            while True:
                try:
                    await _readable(sock)  # makes a generator and the IO queue's entry
                    conn, addr = sock.accept()
                except OSError:
                    # The client left before it was taken, or no descriptor is free for it
                    # (EMFILE, while it waits in the backlog): the socket stays readable, and
                    # going straight back to it spun the loop (upstream's accept does too).
                    await asyncio.sleep(ACCEPT_EVERY)
                    continue
                except MemoryError:  # the connection waits in the backlog meanwhile
                    gc.collect()
                    await asyncio.sleep(ACCEPT_EVERY)
                    continue
                try:
                    conn.setblocking(False)
                    stream = asyncio.StreamReader(conn, {"peername": addr})
                    asyncio.create_task(self._serve(stream, stream))
                except (OSError, MemoryError):  # reset already, or no heap to serve it
                    conn.close()  # this client sees a reset; the server goes on
                    gc.collect()
        finally:
            sock.close()

    async def _serve(self, reader, writer):
        self.clients += 1
        serving = True
        try:
            if self.clients > MAX_CLIENTS:
                await _send(writer, error_response(503, "too many connections"))
                self.clients -= 1
                serving = False
                # Its request is unread, and a close over unread bytes resets the 503 away.
                # What has arrived is read in 0.2 s, holding no slot of those served.
                await _discard(reader, 0.2)
            else:
                await self._exchange(reader, writer)
        except (OSError, EOFError, asyncio.TimeoutError):
            pass  # the client went away or stopped reading: nobody to answer
        except MemoryError:
            try:
                await _out_of_memory(writer)
            except MemoryError:
                pass  # not even its coroutine found room: the connection is closed below
        finally:
            if serving:
                self.clients -= 1
            try:
                await _close(writer)
            except MemoryError:
                # Calling _close makes a coroutine: with no heap for it, the socket stayed
                # open for good (a soak at the floor left 11 in CLOSE-WAIT).
                _close_socket(writer)

    async def _exchange(self, reader, writer):
        peer = peer_address(writer.get_extra_info("peername"))
        head = self._heads.pop() if self._heads else None
        try:
            req = await within(read_request(reader, peer, head, IDLE_TIMEOUT), READ_TIMEOUT)
        except HttpError as e:
            await _send(writer, error_response(e.status, e.message))
            await _discard(reader)
            return
        except asyncio.TimeoutError:
            await _send(writer, error_response(408, "request not received in time"))
            return
        finally:
            if head is not None:
                self._heads.append(head)  # the request holds copies, not the buffer
        self.requests += 1
        await _send(writer, await self.dispatch(req), req.method == "HEAD")


def _readable(sock):
    # MicroPython: parks the task until ``sock`` is readable (a connection waits on a
    # listening socket), as asyncio's own streams wait; its loop polls the socket with the
    # others. A generator, not async def, as those are: it hands the loop its request
    # itself. asyncio offers no public call for it; core._io_queue has been there since
    # uasyncio v3 (MicroPython 1.13).
    yield asyncio.core._io_queue.queue_read(sock)


def _listening(host, port):
    import socket

    sock = socket.socket()
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(socket.getaddrinfo(host, port)[0][-1])
        sock.listen(_BACKLOG)
    except OSError:
        sock.close()  # the port is taken: the caller retries, and must not leak a socket a try
        raise
    sock.setblocking(False)
    return sock


def peer_address(addr):
    """(ip text, port) from a socket address; the unix port gives raw sockaddr_in bytes."""
    if isinstance(addr, (bytes, bytearray)):
        if len(addr) < 8:
            return None
        return "%d.%d.%d.%d" % (addr[4], addr[5], addr[6], addr[7]), (addr[2] << 8) | addr[3]
    return addr


def _print_error(exc):
    print("http: handler failed: %r" % (exc,))


async def _send(writer, resp, head_only=False):
    head = head_bytes(resp)  # out of memory here: nothing is sent, _serve answers 503
    try:
        writer.write(head)
        if head_only:  # HEAD: the GET's header fields, Content-Length included, and no body
            pass
        elif isinstance(resp.body, tuple):
            for piece in resp.body:  # drained one by one: the stream would concatenate them
                if _pending(writer):
                    await within(writer.drain(), WRITE_TIMEOUT)
                writer.write(piece)
        elif resp.body:
            writer.write(resp.body)
        if _pending(writer):
            await within(writer.drain(), WRITE_TIMEOUT)
    except MemoryError:
        # Part of this answer is out: it can only be cut short (the client sees fewer bytes
        # than its Content-Length). A 503 after it, as _serve sends, read as its body.
        pass


def _pending(writer):
    # Whether a drain has anything to wait for. MicroPython's stream hands each write to
    # the socket at once and keeps in out_buf only what the socket did not take (older
    # uasyncio kept every write there, and is drained as before). Each drain under within()
    # allocated ~1.8 kB (two tasks, a closure, a CancelledError): a status reply drained
    # five times, a /metrics scrape eleven (26 and 50 kB in all per request; 17 and 28 kB
    # now, measured on the unix port). CPython's writer has no out_buf: always drained.
    return getattr(writer, "out_buf", True)


async def _out_of_memory(writer):
    # What the failed request held is garbage now: a collection makes room for the short
    # answer. Building or sending it may still fail; the connection is closed either way.
    gc.collect()
    try:
        await _send(writer, error_response(503, "out of memory, try again"))
    except (OSError, MemoryError, asyncio.TimeoutError):
        pass


async def _discard(reader, timeout=DISCARD_TIMEOUT):
    """Read what the client is still sending, so closing does not reset the reply away."""
    try:
        await within(_drain_input(reader), timeout)
    except (OSError, MemoryError, asyncio.TimeoutError):
        pass  # the answer is out: no heap to read on only makes the close a reset


async def _drain_input(reader):
    seen = 0
    while seen < DISCARD_LIMIT:
        chunk = await reader.read(_CHUNK)
        if not chunk:
            return
        seen += len(chunk)


async def _close(writer):
    try:
        writer.close()
        await writer.wait_closed()
    except (OSError, MemoryError):
        # MicroPython closes the socket in wait_closed: if that failed for lack of heap,
        # close it here (no allocation), or the socket stays open for good (lwIP has 10).
        _close_socket(writer)


def _close_socket(writer):
    sock = getattr(writer, "s", None)
    if sock is not None:
        try:
            sock.close()
        except OSError:
            pass
