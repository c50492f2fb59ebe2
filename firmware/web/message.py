"""HTTP/1.1 message syntax (RFC 9112 sections 2-6) for the tiny server: bounded parsing of
one request from an asyncio stream, and the response head.

    request-line   GET /path?a=1&b=2 HTTP/1.1\\r\\n          <= MAX_REQUEST_LINE
    header-fields  Name: value\\r\\n  (x <= MAX_HEADERS)       head <= MAX_HEAD
                   \\r\\n
    body           Content-Length bytes                       <= MAX_BODY

Out-of-bounds or malformed input raises ``HttpError`` with the status to answer:
414 (request line), 431 (header fields), 413 (body), 400 (syntax), 411 (chunked body).
"""

import json

from web.urlcode import parse_query

# An ESP32 with WiFi up has ~100 kB of Python heap: these bounds keep one request under
# ~10 kB so that the server's few concurrent clients fit next to the meter reader.
MAX_REQUEST_LINE = 1024  # longest URL we serve is short; 1 kB leaves room for a GET form
MAX_HEAD = 4096  # request line + headers; phones send ~600-900 bytes of headers
MAX_HEADERS = 32  # browsers send 10-20 header fields
MAX_BODY = 4096  # the portal form is < 1 kB urlencoded; JSON config < 2 kB
_CHUNK = 512  # socket read size: small enough to keep per-read allocation tiny

STATUS_TEXT = {
    200: "OK",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    411: "Length Required",
    413: "Content Too Large",
    414: "URI Too Long",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class HttpError(Exception):
    """A request the server refuses before any handler sees it."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class Request:
    """One parsed request: method, path, query (dict), headers (lower-case keys), body, remote."""

    def __init__(self, method, path, query, headers, body, remote):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.remote = remote

    def form(self):
        """The body as an application/x-www-form-urlencoded dict (last value of a name wins)."""
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
    """Status, body bytes and extra headers; build it with ``response()``."""

    def __init__(self, status, body, content_type, headers):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers


def response(status, body, content_type="application/json", headers=None):
    """A Response; ``body`` may be bytes, str, or (for JSON) a dict or list to serialise."""
    if isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, (bytes, bytearray)):
        body = json.dumps(body).encode()
    return Response(status, body, content_type, headers or {})


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
    if not version.startswith("HTTP/1.") or not target.startswith("/") or not method.isalpha():
        raise HttpError(400, "malformed request line")
    path, _, qs = target.partition("?")
    try:
        return method.upper(), path, parse_query(qs)
    except (ValueError, UnicodeError):
        raise HttpError(400, "query string is not UTF-8")


def _parse_headers(lines):
    if len(lines) > MAX_HEADERS:
        raise HttpError(431, "more than %d header fields" % MAX_HEADERS)
    headers = {}
    for line in lines:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            raise HttpError(400, "malformed header field")
        try:
            headers[name.decode().lower()] = value.strip().decode()
        except UnicodeError:
            raise HttpError(400, "header field is not UTF-8")
    return headers


def _body_length(headers):
    if "transfer-encoding" in headers:
        raise HttpError(411, "chunked bodies are not supported: send Content-Length")
    text = headers.get("content-length", "0")
    if not text.isdigit() or len(text) > 9:
        raise HttpError(400, "bad Content-Length")
    length = int(text)
    if length > MAX_BODY:
        raise HttpError(413, "body larger than %d bytes" % MAX_BODY)
    return length


async def _read_head(reader):
    """Read up to the blank line; returns (head bytes, bytes already read past it)."""
    buf = b""
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            return buf[:end], buf[end + 4 :]
        first = buf.find(b"\r\n")
        if (first < 0 and len(buf) > MAX_REQUEST_LINE) or first > MAX_REQUEST_LINE:
            raise HttpError(414, "request line longer than %d bytes" % MAX_REQUEST_LINE)
        if len(buf) > MAX_HEAD:
            raise HttpError(431, "request head larger than %d bytes" % MAX_HEAD)
        chunk = await reader.read(_CHUNK)
        if not chunk:
            raise EOFError()
        buf += chunk


async def _read_body(reader, have, length):
    while len(have) < length:
        chunk = await reader.read(min(_CHUNK, length - len(have)))
        if not chunk:
            raise EOFError()
        have += chunk
    return have[:length]


async def read_request(reader, remote=None):
    """Parse one request from a stream; raises HttpError on anything out of bounds."""
    head, rest = await _read_head(reader)
    lines = head.split(b"\r\n")
    if len(lines[0]) > MAX_REQUEST_LINE:
        raise HttpError(414, "request line longer than %d bytes" % MAX_REQUEST_LINE)
    method, path, query = _parse_request_line(lines[0])
    headers = _parse_headers(lines[1:])
    body = await _read_body(reader, rest, _body_length(headers))
    return Request(method, path, query, headers, body, remote)


def head_bytes(resp):
    """The status line and header fields of a response, ending in the blank line."""
    lines = [
        "HTTP/1.1 %d %s" % (resp.status, STATUS_TEXT.get(resp.status, "Unknown")),
        "Content-Type: %s" % resp.content_type,
        "Content-Length: %d" % len(resp.body),
        "Connection: close",
    ]
    for name in resp.headers:
        lines.append("%s: %s" % (name, resp.headers[name]))
    lines.append("\r\n")
    return "\r\n".join(lines).encode()
