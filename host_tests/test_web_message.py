"""HTTP message parsing (firmware/web/message.py) in-process: any bytes a client sends end
in a Request or an HttpError with a status to answer — never another exception — and the
bounds hold however the bytes are split across reads."""

import asyncio
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mp import run_micropython
from web import message
from web.message import HttpError, read_request, response, pieces
from web.urlcode import parse_query, unquote


class Reader:
    """A stream that hands out ``data`` in the given chunk sizes (CPython's read API)."""

    def __init__(self, data, sizes=(7,)):
        self.data = data
        self.sizes = sizes
        self.reads = 0

    async def read(self, n):
        size = min(n, self.sizes[self.reads % len(self.sizes)])
        self.reads += 1
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk


class IntoReader(Reader):
    """The same with MicroPython's readinto."""

    async def readinto(self, view):
        chunk = await self.read(len(view))
        view[: len(chunk)] = chunk
        return len(chunk)


def parse(data, reader=Reader, sizes=(7,)):
    return asyncio.run(read_request(reader(data, sizes)))


@pytest.mark.parametrize("reader", [Reader, IntoReader])
@pytest.mark.parametrize("sizes", [(1,), (3, 11), (4096,)])
def test_a_request_parses_the_same_however_it_is_split(reader, sizes):
    raw = (b"POST /config?x=1&y=%C3%A4 HTTP/1.1\r\nHost: 192.168.4.1\r\n"
           b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\n"
           b"a=1&b=x+y%21")
    req = parse(raw, reader, sizes)
    assert (req.method, req.path, req.query) == ("POST", "/config", {"x": "1", "y": "\u00e4"})
    assert req.headers["host"] == "192.168.4.1"
    assert bytes(req.body) == b"a=1&b=x+y%2"  # exactly Content-Length bytes
    assert req.form() == {"a": "1", "b": "x y%2"}


@pytest.mark.parametrize("target, path, query", [
    ("http://dongle.local:8080/api/v1/status?x=1", "/api/v1/status", {"x": "1"}),
    ("HTTP://dongle.local/api/v1/status", "/api/v1/status", {}),  # RFC 9110 4.2.3: any case
    ("http://dongle.local?u=/api/v1/status", "/", {"u": "/api/v1/status"}),  # was /api/v1/status
    ("http://dongle.local", "/", {}),
])
def test_an_absolute_form_target_is_its_path_and_query(target, path, query):
    req = parse(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % target.encode())
    assert (req.path, req.query) == (path, query)


@pytest.mark.parametrize("sizes", [(1,), (4096,)])
@pytest.mark.parametrize("raw", [
    b"GET /api/v1/status HTTP/1.0\n\n",  # printf ... | nc: lines ended by LF alone
    b"GET /api/v1/status HTTP/1.1\nHost: x\r\nAccept: */*\n\n",  # mixed
    b"\r\nGET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n",  # a blank line before the request line
])
def test_lf_line_ends_and_a_leading_blank_line_are_read_as_rfc_9112_allows(raw, sizes):
    # RFC 9112 2.2: a recipient may take a lone LF as a line end, and a server should
    # ignore an empty line before the request line. The LF-only request used to wait for
    # a CR LF CR LF that never came, then got 408 after 10 s.
    req = parse(raw, IntoReader, sizes)
    assert (req.method, req.path) == ("GET", "/api/v1/status")
    assert bytes(req.body) == b""


@pytest.mark.parametrize("raw, status", [
    (b"GET /api/v1/status HTTP/1.1\r\nAccept: */*\r\n\r\n", 400),  # RFC 9112 3.2: MUST be 400
    (b"GET /api/v1/status HTTP/1.0\r\nAccept: */*\r\n\r\n", None),  # HTTP/1.0 had no Host
    (b"GET /api/v1/status HTTP/1.1\r\nhOsT: dongle\r\n\r\n", None),  # field names have no case
    (b"GET /api/v1/status HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),  # which one? (also 3.2)
])
def test_an_http_1_1_request_without_host_is_refused(raw, status):
    if status is None:
        assert parse(raw).path == "/api/v1/status"
        return
    with pytest.raises(HttpError) as e:
        parse(raw)
    assert e.value.status == status and "host" in e.value.message.lower()


@pytest.mark.parametrize("target, path", [
    ("/api/v1/%72eadings", "/api/v1/readings"),  # RFC 3986 6.2.2.2: the same resource
    ("/api%2Fv1%2fstatus?x=%41", "/api/v1/status"),  # the query is its own (decoded apart)
    ("/100%", "/100%"),  # a % without two hex digits stays, as browsers keep it
    ("/%C3%A9t%C3%A9", "/\u00e9t\u00e9"),
])
def test_a_percent_escaped_path_is_decoded_before_routing(target, path):
    assert parse(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % target.encode()).path == path


def test_a_path_whose_escapes_are_not_utf_8_is_a_400():
    with pytest.raises(HttpError) as e:
        parse(b"GET /%ff HTTP/1.1\r\nHost: x\r\n\r\n")
    assert e.value.status == 400


def test_two_content_lengths_are_a_400_not_the_last_one_silently():
    # RFC 9112 6.3: the body's end would be in doubt (the way requests are smuggled).
    with pytest.raises(HttpError) as e:
        parse(b"POST /config HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde")
    assert e.value.status == 400


def test_the_head_buffer_bound_is_a_431_not_a_bigger_buffer():
    raw = b"GET / HTTP/1.1\r\nX: " + b"a" * message.MAX_HEAD + b"\r\n\r\n"
    with pytest.raises(HttpError) as e:
        parse(raw, sizes=(512,))
    assert e.value.status == 431


def test_a_client_that_stops_mid_body_is_an_eof():
    with pytest.raises(EOFError):
        parse(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab")


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from([(1,), (5, 13), (700,)]))
def test_arbitrary_bytes_give_a_request_or_an_http_error(data, sizes):
    try:
        req = parse(data + b"\r\n\r\n", IntoReader, sizes)
    except (HttpError, EOFError):
        return
    assert req.path.startswith("/")
    assert len(req.body) <= message.MAX_BODY


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=20), st.text(max_size=20)), max_size=8))
def test_form_decoding_inverts_browser_encoding(pairs):
    import urllib.parse

    encoded = urllib.parse.urlencode(pairs)
    expected = {}
    for name, value in pairs:
        expected[name] = value
    assert parse_query(encoded) == expected


def test_a_stray_percent_stays_as_typed():
    assert unquote("100%") == "100%" and unquote("%zz") == "%zz"


def test_a_piecewise_body_keeps_its_length_and_joins_small_parts():
    resp = pieces(200, ["<p>", "x" * 3000, "</p>"] + ["a"] * 50)
    assert resp.length() == 3 + 3000 + 4 + 50
    assert b"".join(resp.body).startswith(b"<p>xxx")
    assert all(len(p) <= max(message.PIECE_TARGET, 3000) for p in resp.body)
    assert len(resp.body) <= 4


JOIN_SHORT_OF_MEMORY = """
import micropython
from web.message import _joined

group = [b"<p>", b"x" * 300, b"</p>"]
body = [0, 0, 0]  # room for three parts: the list itself needs no block below
while body:
    body.pop()
micropython.heap_lock()  # every allocation fails, as when no block is large enough
try:
    _joined(group, body)
finally:
    micropython.heap_unlock()
print(body == group)
"""


def test_a_group_the_heap_has_no_block_for_goes_out_part_by_part():
    # The setup page's parts are joined into ~1 kB sends; in a gateway serving it beside
    # the meter that join found no block now and then, and the whole page was a 503.
    done = run_micropython(["-c", JOIN_SHORT_OF_MEMORY], compiled=True)
    assert done.stdout.decode().split() == ["True"], done.stdout + done.stderr


def test_json_bodies_are_serialised():
    assert b"".join(response(200, {"a": [1, None]}).body) == b'{"a": [1, null]}'
    assert b"".join(response(200, {}).body) == b"{}"
    assert response(200, [1, 2]).body == b"[1, 2]"


def test_a_json_document_goes_out_in_pieces_no_larger_than_its_biggest_member():
    doc = {"k%d" % i: "v" * 40 for i in range(20)}
    resp = response(200, doc)
    assert json.loads(b"".join(resp.body)) == doc and resp.length() == len(b"".join(resp.body))
    assert len(resp.body) > 1 and all(len(p) <= message.JSON_PIECE + 60 for p in resp.body)


def test_slices_copy_a_buffer_in_pieces():
    data = memoryview(bytearray(range(256)) * 3)
    parts = message.slices(data, 100)
    assert [len(p) for p in parts] == [100] * 7 + [68] and b"".join(parts) == bytes(data)


def test_every_status_the_firmware_sends_has_its_rfc_9110_reason_phrase():
    assert message.reason(200) == "OK"
    assert message.reason(401) == "Unauthorized"
    assert message.reason(431) == "Request Header Fields Too Large"
    assert message.reason(503) == "Service Unavailable"
    # The portal's refusal of a form loaded before another save (portal/app.py) went out
    # as "HTTP/1.1 409 Unknown".
    assert message.reason(409) == "Conflict"
    assert message.reason(3) == "Unknown"  # never a piece of another code's line
    assert message.reason(999) == "Unknown"


TIMER_SHORT_OF_MEMORY = """
import asyncio
from web import message

real_expire = message._expire
armed = [True]

def expire(task, timeout):
    # within()'s timer finds no heap once (MicroPython: coroutine, then task).
    if armed[0]:
        armed[0] = False
        raise MemoryError("injected")
    return real_expire(task, timeout)

message._expire = expire
reads = [0]

async def read():
    reads[0] += 1
    await asyncio.sleep(0.05)
    return b"GET / HTTP/1.1"

async def main():
    try:
        await message.within(read(), 2)
    except MemoryError:
        print("MemoryError", reads[0])
    print(await message.within(read(), 2), reads[0])  # and the next one goes through

asyncio.run(main())
"""


def test_a_timer_short_of_memory_is_out_of_memory_and_nothing_runs_unwatched():
    # MicroPython's wait_for made the read a task before its watcher: when the watcher found
    # no room, the read ran on unwatched, and a CancelledError came out of within() (which
    # the server's connection handler does not catch). Now the timer comes first: without
    # it the read never starts, and the caller sees MemoryError (a 503).
    done = run_micropython(["-c", TIMER_SHORT_OF_MEMORY], compiled=True)
    lines = done.stdout.decode().splitlines()
    assert lines == ["MemoryError 0", "b'GET / HTTP/1.1' 1"], done.stdout + done.stderr


def test_a_cancel_from_outside_comes_out_of_within_as_a_cancel():
    # CPython's wait_for ends the awaited task before it passes the cancel on; a done task
    # there is no sign of a watcher short of memory (MicroPython's), and a cancel had
    # come out as MemoryError, which the server answers with a 503.
    async def main():
        started = asyncio.Event()

        async def slow():
            started.set()
            await asyncio.sleep(10)

        task = asyncio.create_task(message.within(slow(), 5))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


WITHIN_ON_MICROPYTHON = """
import asyncio, time
from asyncio import core
from web.message import within

def busy(ms):  # holds the loop: the timer and the call come due in the same pass
    t = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t) < ms:
        pass

async def nap(ms):
    await asyncio.sleep_ms(ms)
    return ms

async def hog(ms):
    busy(ms)

async def main():
    seen = {"ok": 0, "timeout": 0, "stray": 0}
    for i in range(240):
        h = asyncio.create_task(hog(i % 4))
        try:
            await within(nap(i % 5), 0.002)
            seen["ok"] += 1
        except asyncio.TimeoutError:
            seen["timeout"] += 1
        try:  # a timer that still fired would cancel one of these
            for _ in range(3):
                await asyncio.sleep_ms(1)
        except asyncio.CancelledError:
            seen["stray"] += 1
        await h
    print(seen["stray"], seen["ok"] > 0, seen["timeout"] > 0)

    async def victim():
        try:
            await within(nap(1000), 5)
        except asyncio.CancelledError:
            print("cancelled")
            raise
    task = asyncio.create_task(victim())
    await asyncio.sleep_ms(5)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    await asyncio.sleep_ms(5)
    print(core._task_queue.peek() is None, len(core._io_queue.map))  # no timer left

asyncio.run(main())
"""


def test_within_on_micropython_leaves_no_cancel_behind_and_passes_one_from_outside_on():
    # MicroPython's within() cancels its caller from a timer task: a timer already due when
    # the call ended must not cancel a later await, a cancel from outside is no timeout,
    # and no timer outlives its call. (The test above runs on CPython, i.e. wait_for.)
    done = run_micropython(["-c", WITHIN_ON_MICROPYTHON], compiled=True)
    lines = done.stdout.decode().splitlines()
    assert lines == ["0 True True", "cancelled", "True 0"], done.stdout + done.stderr
