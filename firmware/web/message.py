"""HTTP/1.1 message syntax (RFC 9112 sections 2-6) for the tiny server: bounded parsing of
one request from an asyncio stream, and the response head.

    request-line   GET /path?a=1&b=2 HTTP/1.1\\r\\n          <= MAX_REQUEST_LINE
    header-fields  Name: value\\r\\n  (x <= MAX_HEADERS)       head <= MAX_HEAD
                   \\r\\n
    body           Content-Length bytes                       <= MAX_BODY

Out-of-bounds or malformed input raises ``HttpError`` with the status to answer:
414 (request line), 431 (header fields), 413 (body), 400 (syntax, or an HTTP/1.1 request
without Host), 411 (chunked body), 505 (HTTP/2 and later). A %-escaped path is decoded.
"""

import json
import sys

# An ESP32 with WiFi up has ~100 kB of Python heap: these bounds keep one request under
# ~10 kB so that the server's few concurrent clients fit next to the meter reader.
MAX_REQUEST_LINE = 1024  # longest URL we serve is short; 1 kB leaves room for a GET form
MAX_HEAD = 2048  # request line + headers: phones send 400-900 bytes to a device's IP
MAX_HEADERS = 32  # browsers send 10-20 header fields
MAX_BODY = 4096  # the portal form is < 1 kB urlencoded; JSON config < 2 kB
PIECE_TARGET = 1024  # bytes per send of a piecewise body: one or two TCP segments
# Pieces of a JSON body: small enough for the holes of a fragmented heap, large enough
# that the readings go out in a few sends (a dict's, as the status, are half as large).
JSON_PIECE = 256

# Reason phrases (RFC 9110 section 15) of the statuses this firmware sends, one string
# rather than a dict: ~1 kB less of resident heap, and looked up once per response.
_REASONS = ("|200 OK|204 No Content|301 Moved Permanently|302 Found|303 See Other|"
            "400 Bad Request|401 Unauthorized|403 Forbidden|404 Not Found|"
            "405 Method Not Allowed|408 Request Timeout|409 Conflict|411 Length Required|"
            "413 Content Too Large|414 URI Too Long|422 Unprocessable Content|"
            "429 Too Many Requests|431 Request Header Fields Too Large|"
            "500 Internal Server Error|503 Service Unavailable|505 HTTP Version Not Supported|")


def reason(status):
    """The reason phrase for a status code ("Unknown" for one this firmware never sends)."""
    key = "|%d " % status
    start = _REASONS.find(key)
    if start < 0:
        return "Unknown"
    start += len(key)
    return _REASONS[start : _REASONS.find("|", start)]


class HttpError(Exception):
    """A request the server refuses before any handler sees it."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class Request:
    """One parsed request: method, path, query (dict), headers (lower-case keys), body
    (bytearray), remote ((ip, port) or None)."""

    def __init__(self, method, path, query, headers, body, remote):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.remote = remote

    def form(self):
        """The body as an application/x-www-form-urlencoded dict (last value of a name wins)."""
        from web.urlcode import parse_query  # only forms need it (the portal's pages)

        try:
            return parse_query(self.body.decode())
        except (ValueError, UnicodeError):
            raise HttpError(400, "form body is not UTF-8")

    def json(self):
        """The body parsed as JSON; malformed JSON is the client's fault (400)."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeError):
            raise HttpError(400, "body is not valid JSON")


class Response:
    """Status, body and extra headers; build it with ``response()`` or ``pieces()``.

    ``body`` is bytes, or a tuple of bytes sent one after the other: a page assembled
    from pieces never needs one large contiguous buffer on a fragmented heap.
    """

    def __init__(self, status, body, content_type, headers):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers

    def length(self):
        """Content-Length of the body."""
        if isinstance(self.body, tuple):
            return sum([len(piece) for piece in self.body])
        return len(self.body)


def response(status, body, content_type="application/json", headers=None):
    """A Response; ``body`` may be bytes, str, or (for JSON) a dict or list to serialise.

    A dict goes out in pieces of about half JSON_PIECE bytes: the status document is
    ~760 bytes, more than a fragmented small heap may hold in one block."""
    if isinstance(body, str):
        body = body.encode()
    elif isinstance(body, dict):
        parts = []
        parts.append(_members(body, bytearray(), parts))
        return Response(status, tuple(parts), content_type, headers or {})
    elif not isinstance(body, (bytes, bytearray)):
        body = json.dumps(body).encode()
    return Response(status, body, content_type, headers or {})


def _members(doc, piece, parts):
    # ``doc`` as JSON text onto ``piece`` (a bytearray); a piece of JSON_PIECE // 2 bytes
    # or more goes to ``parts`` and a new one is begun; a dict inside is written the same
    # way. Returns the last piece. Each member was a string, its encoded copy, then a
    # join into 256-byte pieces, all held at once by a generator: a status read needed
    # 3.5-3.7 kB of free heap around it for its ~760 bytes (2.1 kB so, measured on the
    # unix port with the heap filled around it). At the ROMFS floor the heap's holes are
    # small: a piece grown to ~230 bytes found none (503s at 116 kB beside the image).
    sep = b"{"
    for key in doc:
        if len(piece) >= JSON_PIECE // 2:
            parts.append(piece)
            piece = bytearray()
        piece += sep
        piece += json.dumps(key).encode()
        piece += b": "
        if isinstance(doc[key], dict):
            piece = _members(doc[key], piece, parts)
        else:
            piece += json.dumps(doc[key]).encode()
        sep = b", "
    piece += b"}" if sep == b", " else b"{}"
    return piece


def slices(data, size=JSON_PIECE):
    """``data`` (e.g. a memoryview of a reused buffer) copied in pieces of ``size`` bytes,
    for pieces(): the copy outlives the buffer without needing one block as large."""
    return [bytes(data[i : i + size]) for i in range(0, len(data), size)]


def pieces(status, parts, content_type="text/html; charset=utf-8", headers=None, target=PIECE_TARGET):
    """A Response whose body is sent piece by piece (str pieces are UTF-8 encoded).

    Small parts are joined up to ``target`` bytes so the client is not sent a packet per
    HTML tag; no buffer grows beyond that or the largest single part.
    """
    body = []
    group = []
    size = 0
    for part in parts:
        if isinstance(part, str):
            part = part.encode()
        if group and size + len(part) > target:
            _joined(group, body)
            group = []
            size = 0
        group.append(part)
        size += len(part)
    if group:
        _joined(group, body)
    return Response(status, tuple(body), content_type, headers or {})


def _joined(group, body):
    # The group onto ``body`` as one piece (a lone part is not copied), or part by part
    # when the heap has no block that large: more sends, rather than a 503 for a page
    # whose parts are all there (the setup page's 1 kB joins found none, now and then,
    # in a gateway serving it beside the meter at 256 kB).
    if len(group) > 1:
        try:
            body.append(b"".join(group))
            return
        except MemoryError:
            pass
    body.extend(group)


def error_response(status, message, headers=None):
    """The JSON error body every refusal uses: {"error": message, "status": n}."""
    return response(status, {"error": message, "status": status}, headers=headers)


def redirect(location, status=302):
    """A redirect with a tiny HTML body for clients that do not follow Location."""
    body = '<a href="%s">continue</a>' % location
    return response(status, body, "text/html", {"Location": location, "Cache-Control": "no-store"})


def _parse_request_line(line):
    try:
        method, target, version = line.decode().split(" ")
    except (ValueError, UnicodeError):
        raise HttpError(400, "malformed request line")
    if target[:7].lower() == "http://":
        # The absolute form, which a server must accept (RFC 9112 3.2.2); proxies send it.
        # The scheme in any case; the host ends at the path or, without one, the query.
        slash, query = target.find("/", 7), target.find("?", 7)
        if query > 0 and not 0 < slash < query:
            target = "/" + target[query:]
        else:
            target = target[slash:] if slash > 0 else "/"
    if version[:5] == "HTTP/" and "1" < version[5:6] <= "9":
        raise HttpError(505, "only HTTP/1.1 and 1.0 are spoken here")  # RFC 9110 15.6.6
    # HTTP-version is "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3): "HTTP/1.x" is no version.
    if (len(version) != 8 or not version.startswith("HTTP/1.") or not version[7:].isdigit()
            or not target.startswith("/") or not method.isalpha()):
        raise HttpError(400, "malformed request line")
    path, _, qs = target.partition("?")
    if "%" in path:
        # RFC 3986 6.2.2.2: /api/v1/%72eadings is /api/v1/readings. An escaped reserved
        # character (%2F) is decoded as well, which the RFC does not make equivalent:
        # harmless where every route is a fixed path of plain ASCII.
        from web.urlcode import unquote

        try:
            path = unquote(path, False)
        except UnicodeError:
            raise HttpError(400, "request target is not UTF-8")
    if not qs:
        return method, path, {}
    from web.urlcode import parse_query  # the API takes no query: loaded when one comes

    try:
        return method, path, parse_query(qs)
    except (ValueError, UnicodeError):
        raise HttpError(400, "request target is not UTF-8")


def _parse_headers(lines):
    # The header fields by lower-case name, and the body's length (Content-Length).
    if len(lines) > MAX_HEADERS:
        raise HttpError(431, "more than %d header fields" % MAX_HEADERS)
    headers = {}
    for line in lines:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            raise HttpError(400, "malformed header field")
        try:
            key = name.decode().lower()
            if (key == "content-length" or key == "host") and key in headers:
                raise HttpError(400, "more than one %s" % key)  # RFC 9112 6.3, 3.2: which one?
            headers[key] = value.strip().decode()
        except UnicodeError:
            raise HttpError(400, "header field is not UTF-8")
    if "transfer-encoding" in headers:
        raise HttpError(411, "chunked bodies are not supported: send Content-Length")
    text = headers.get("content-length", "0")
    if not text.isdigit():
        raise HttpError(400, "bad Content-Length")
    # A length of ten digits or more is too large all the same (413, not a syntax error),
    # and is not turned into an int: a long digit string would make a big integer.
    length = int(text) if len(text.lstrip("0")) <= 9 else MAX_BODY + 1
    if length > MAX_BODY:
        raise HttpError(413, "body larger than %d bytes" % MAX_BODY)
    return headers, length


async def _read_some(reader, view):
    """Read into a memoryview: MicroPython streams have readinto, CPython's do not."""
    if hasattr(reader, "readinto"):
        return await reader.readinto(view) or 0
    data = await reader.read(len(view))
    view[: len(data)] = data
    return len(data)


async def within(coro, timeout):
    # asyncio.wait_for(coro, timeout) on CPython. MicroPython's wait_for makes coro a task,
    # then a second one to watch it (~2 kB of heap per call, twice per request): there
    # coro runs in this task, and one small task cancels it when the time is up. Nothing
    # is left running when the heap runs out: with wait_for, a read whose watcher found no
    # room went on into the head buffer lent to the next request.
    try:
        import asyncio
    except ImportError:  # MicroPython before 1.21
        import uasyncio as asyncio

    if sys.implementation.name != "micropython":
        return await asyncio.wait_for(coro, timeout)
    timer = asyncio.create_task(_expire(asyncio.current_task(), timeout))
    try:
        return await coro
    except asyncio.CancelledError:
        if timer.done():  # it cancelled this task: the time was up
            # (A cancel from outside due in the same pass of the loop reads as this too;
            # nothing cancels a task inside within(): connections end on their timeouts.)
            raise asyncio.TimeoutError()
        raise  # cancelled from outside: passed on
    finally:
        timer.cancel()


async def _expire(task, timeout):
    # within()'s timer (MicroPython): it runs only while ``task`` waits inside the call,
    # and a timer cancelled after its sleep ended never gets here.
    import asyncio

    await asyncio.sleep(timeout)
    task.cancel()


async def _read_head(reader, buf, idle=None):
    """Fill ``buf`` through the blank line; returns (where the head ends, bytes read)."""
    view = memoryview(buf)
    have = 0
    if idle is not None:
        have = await within(_read_some(reader, view), idle)  # asyncio.TimeoutError after
        if not have:
            raise EOFError()
    while True:
        if have and buf[0] == 0x16:  # (the lent buffer holds an earlier request until then)
            # A TLS handshake (https://, or a browser trying HTTPS first): refused at once.
            # Waiting for a request line held a connection slot for IDLE_TIMEOUT each.
            raise HttpError(400, "this is HTTP, not HTTPS")
        end = buf.find(b"\r\n\r\n", 0, have)
        bare = buf.find(b"\n\n", 0, have)  # RFC 9112 2.2: a lone LF may end a line (printf | nc)
        if bare >= 0 and (end < 0 or bare < end):
            return bare + 2, have
        if end >= 0:
            return end + 4, have
        first = buf.find(b"\n", 0, have)
        if (first < 0 and have > MAX_REQUEST_LINE) or first > MAX_REQUEST_LINE:
            raise HttpError(414, "request line longer than %d bytes" % MAX_REQUEST_LINE)
        if have == len(buf):
            raise HttpError(431, "request head larger than %d bytes" % MAX_HEAD)
        n = await _read_some(reader, view[have:])
        if not n:
            raise EOFError()
        have += n


async def read_request(reader, remote=None, buf=None, idle=None):
    """Parse one request from a stream; raises HttpError on anything out of bounds.

    One MAX_HEAD buffer per request holds the head (no growing buffers to fragment the
    heap): ``buf`` when the caller lends one (nothing refers to it once this returns),
    else a new one. ``body`` is a bytearray of exactly Content-Length bytes. ``idle``:
    seconds the first bytes may take (asyncio.TimeoutError after), None for no bound.
    """
    if buf is None:
        buf = bytearray(MAX_HEAD)
    end, have = await _read_head(reader, buf, idle)
    lines = bytes(buf[:end]).replace(b"\r\n", b"\n").split(b"\n")[:-2]  # the blank line's two
    while lines and not lines[0]:
        lines.pop(0)  # RFC 9112 2.2: empty lines before the request line are ignored
    lines = lines or [b""]
    if len(lines[0]) > MAX_REQUEST_LINE:  # the whole head came in one read
        raise HttpError(414, "request line longer than %d bytes" % MAX_REQUEST_LINE)
    method, path, query = _parse_request_line(lines[0])
    headers, length = _parse_headers(lines[1:])
    if "host" not in headers and not lines[0].endswith(b"/1.0"):
        raise HttpError(400, "an HTTP/1.1 request must name its Host")  # RFC 9112 3.2
    # The body in one allocation: what came with the head, then the rest read into place.
    body = bytearray(length)
    got = min(have - end, length)
    body[:got] = memoryview(buf)[end : end + got]
    view = memoryview(body)
    while got < length:
        n = await _read_some(reader, view[got:])
        if not n:
            raise EOFError()
        got += n
    return Request(method, path, query, headers, body, remote)


def head_bytes(resp):
    """The status line and header fields of a response, ending in the blank line."""
    lines = [
        "HTTP/1.1 %d %s" % (resp.status, reason(resp.status)),
        "Content-Type: %s" % resp.content_type,
        "Content-Length: %d" % resp.length(),
        "Connection: close",
    ]
    for name in resp.headers:
        lines.append("%s: %s" % (name, resp.headers[name]))
    lines.append("\r\n")
    return "\r\n".join(lines).encode()
