"""What a running gateway does not load until it needs it.

A gateway reading a TCP meter port, never reconfigured over the LAN, holds neither the
/config handler (portal/lan.py: the first /config request loads it) nor the unix board's
serial-device and capture-file meters (board/unix_local.py: loaded for those sources).
Each was ~0.6-1 kB of live heap at steady state.
"""

import asyncio
import base64
import json
import sys

from app import api
from board.unix import Board
from web.message import Request
from web.server import HttpServer


class _App:
    """The attributes of app.app.App that api.register reads."""

    def __init__(self, config_path):
        self.config_path = config_path
        self.cfg = {"device_id": "meterlink-test"}
        self.board = Board()  # names the setup access point in the /config footer
        self.restarts = 0

    def request_restart(self, new_cfg=None):
        self.restarts += 1


def _get(server, path, headers=None):
    request = Request("GET", path, {}, headers or {}, bytearray(), None)
    return asyncio.run(server.dispatch(request))


def test_config_is_served_by_a_handler_loaded_with_the_first_request(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"admin": {"password": "letmein-please"}}))
    sys.modules.pop("portal.lan", None)
    server = HttpServer(0)
    api.register(server, _App(str(path)))
    assert "portal.lan" not in sys.modules
    first = server.find("/config")
    assert _get(server, "/config").status == 401  # the admin password is asked for
    assert "portal.lan" in sys.modules and server.find("/config") is not first
    token = base64.b64encode(b"admin:letmein-please").decode()
    assert _get(server, "/config", {"authorization": "Basic " + token}).status == 200


def test_without_a_config_file_there_is_no_config_route():
    server = HttpServer(0)
    api.register(server, _App(None))
    assert server.find("/config") is None


def test_a_tcp_meter_does_not_load_the_local_meters(tmp_path):
    # Unloaded as if never imported: out of sys.modules and off the package (another test
    # in this process may have imported it; `from board import unix_local` would then
    # find the attribute and import nothing).
    sys.modules.pop("board.unix_local", None)
    import board

    if hasattr(board, "unix_local"):
        del board.unix_local
    capture = tmp_path / "capture.bin"
    capture.write_bytes(b"\x7e\xa0")

    async def open_and_read(source):
        meter = await Board(str(tmp_path)).open_meter(source, 9600)
        try:
            buf = bytearray(16)
            return await meter.readinto(buf), bytes(buf[:2])
        finally:
            meter.close()

    try:
        asyncio.run(open_and_read("tcp://127.0.0.1:1"))
    except OSError:
        pass  # nobody listens there: only what was loaded to try matters
    assert "board.unix_local" not in sys.modules
    assert asyncio.run(open_and_read(str(capture))) == (2, b"\x7e\xa0")
    assert "board.unix_local" in sys.modules


def test_a_config_request_that_runs_out_of_memory_restarts_the_gateway_at_most_every_two_minutes(
        tmp_path, monkeypatch):
    # A heap that failed /config once failed it every time after (503 until a restart,
    # seen at make run's 256 kB after a run of odd requests): the gateway now restarts
    # with the same settings to have its heap whole again, but not in a loop.
    import types

    from portal import lan

    class Short(types.ModuleType):
        def __getattr__(self, name):
            raise MemoryError("no room for the portal")

    clock = [1000.0]
    monkeypatch.setattr(lan, "_clock", lambda: clock[0])
    monkeypatch.setattr(lan, "RESTART_DELAY", 0)
    restarts = []
    server = HttpServer(0)
    lan.mount(server, str(tmp_path / "config.json"), restart=restarts.append)
    monkeypatch.setitem(sys.modules, "portal.app", Short("portal.app"))

    answers = []

    async def ask(after, accept="application/json"):
        clock[0] += after
        resp = await server.dispatch(Request("GET", "/config", {}, {"accept": accept}, bytearray(), None))
        body = b"".join(resp.body) if isinstance(resp.body, tuple) else bytes(resp.body)
        answers.append((resp.status, resp.content_type, body))
        await asyncio.sleep(0.01)  # the restart comes RESTART_DELAY later, from a task

    async def main():
        for after in (30, 100, 30, 50, 130):
            await ask(after)
        await ask(1, "text/html,application/xhtml+xml")

    asyncio.run(main())
    assert restarts == [None, None]  # at 130 s and at 340 s of running, not at 30, 160, 210
    assert [status for status, _, _ in answers] == [503] * 6
    # A script gets JSON; a person in a browser a page that says what to do, not the raw
    # JSON 503 the server answers an unhandled MemoryError with.
    status, kind, body = answers[1]  # the one that restarts
    assert kind.startswith("application/json") and b"wait 10 seconds" in body
    assert b"wait 10 seconds" not in answers[2][2]
    status, kind, body = answers[-1]
    assert kind.startswith("text/html") and b"Not enough memory" in body and b"Back button" in body


def test_a_save_whose_page_finds_no_room_still_says_saved_and_restarts_into_it(tmp_path, monkeypatch):
    # A DSMR meter's gateway saving /config at make run's 256 kB: the portal's names took it
    # past the name pool's next block, the "saved" page ran out of memory after the file was
    # written, and the server's 503 "out of memory, try again" had the person save again.
    import urllib.parse

    from portal import lan, page

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"admin": {"password": "letmein-please"}}))

    def no_room(*args):
        raise MemoryError("no room for the page")

    monkeypatch.setattr(page, "saved", no_room)  # the module portal.app imports next
    monkeypatch.setattr(lan, "RESTART_DELAY", 0)
    restarts = []
    server = HttpServer(0)
    lan.mount(server, str(path), restart=restarts.append)
    form = {"wifi.ssid": "", "wifi.ssid_other": "", "meter": "current", "mqtt.host": "127.0.0.1",
            "mqtt.prefix": "saved-anyway", "mqtt.discovery": "on"}
    token = base64.b64encode(b"admin:letmein-please").decode()
    request = Request("POST", "/config", {}, {"authorization": "Basic " + token,
                                             "content-type": "application/x-www-form-urlencoded"},
                      bytearray(urllib.parse.urlencode(form).encode()), None)

    async def post():
        answer = await server.dispatch(request)
        await asyncio.sleep(0.01)  # the restart comes RESTART_DELAY later, from a task
        return answer

    answer = asyncio.run(post())
    assert answer.status == 200 and b'id="saved"' in answer.body
    assert json.loads(path.read_text())["mqtt"]["prefix"] == "saved-anyway"
    assert [cfg["mqtt"]["prefix"] for cfg in restarts] == ["saved-anyway"]


def test_a_save_counts_as_the_heal_restart_even_when_no_answer_fits(tmp_path, monkeypatch):
    # A save schedules the restart into the new settings. Should not even the short "Saved"
    # page fit, the MemoryError reaches the heal path of lan.py: two minutes into the run it
    # also asked for a restart with the *same* settings, which the app took as the latest
    # request, so the old MQTT topics were not cleared. The save's restart heals the heap.
    import urllib.parse

    from portal import lan, page

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"admin": {"password": "letmein-please"}}))

    def no_room(*args, **kwargs):
        raise MemoryError("no room")

    clock = [1000.0]
    monkeypatch.setattr(lan, "_clock", lambda: clock[0])
    monkeypatch.setattr(lan, "RESTART_DELAY", 0)
    monkeypatch.setattr(page, "saved", no_room)
    monkeypatch.setattr(lan, "response", no_room)
    restarts = []
    server = HttpServer(0)
    lan.mount(server, str(path), restart=restarts.append)
    clock[0] += 300  # long past the two minutes between heal restarts
    form = {"wifi.ssid": "", "wifi.ssid_other": "", "meter": "current", "mqtt.host": "127.0.0.1",
            "mqtt.prefix": "saved-anyway", "mqtt.discovery": "on"}
    token = base64.b64encode(b"admin:letmein-please").decode()
    request = Request("POST", "/config", {}, {"authorization": "Basic " + token},
                      bytearray(urllib.parse.urlencode(form).encode()), None)

    async def post():
        try:
            await server.dispatch(request)
        except MemoryError:  # the server's 503
            pass
        await asyncio.sleep(0.01)

    asyncio.run(post())
    assert [cfg and cfg["mqtt"]["prefix"] for cfg in restarts] == ["saved-anyway"]


def test_config_refuses_a_wrong_password_and_a_short_heap_before_loading_the_portal(tmp_path, monkeypatch):
    # Near its heap floor one GET /config without the password made the gateway load the
    # portal (~45 kB, ~190 names kept for good), and at times it never decoded the meter
    # again (a probe at 176 kB from .mpy files and 124 kB beside a ROMFS image).
    import types

    from portal import lan

    class Untouchable(types.ModuleType):
        def __getattr__(self, name):
            raise AssertionError("the portal was loaded")

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"admin": {"password": "right-horse-7"}}))
    server = HttpServer(0)
    lan.mount(server, str(path), restart=lambda saved: None)
    monkeypatch.setitem(sys.modules, "portal.app", Untouchable("portal.app"))

    def get(password=None, browser=False):
        headers = {"accept": "text/html"} if browser else {}
        if password is not None:
            token = base64.b64encode(("admin:" + password).encode()).decode()
            headers["authorization"] = "Basic " + token
        resp = asyncio.run(server.dispatch(Request("GET", "/config", {}, headers, bytearray(), None)))
        return resp.status, resp.headers, b"".join(resp.body) if isinstance(resp.body, tuple) else resp.body

    status, headers, _ = get()
    assert status == 401 and headers["WWW-Authenticate"].startswith("Basic ")
    status, _, page = get("guess", browser=True)
    assert status == 401 and b'<h1 id="refused">Admin password required</h1>' in page
    for _ in range(4):
        get("guess")
    status, headers, body = get("right-horse-7")  # locked out: even the right one waits
    assert status == 429 and int(headers["Retry-After"]) > 0

    import gc

    monkeypatch.setattr(gc, "mem_free", lambda: 40 * 1024, raising=False)  # MicroPython's
    server = HttpServer(0)  # mounted again: a new lockout count
    lan.mount(server, str(path), restart=lambda saved: None)
    status, _, body = get("right-horse-7")
    error = json.loads(body)["error"]
    assert status == 503 and error.startswith("not enough free memory") and "(40 kB, 44 kB needed)" in error
    monkeypatch.setattr(gc, "mem_free", lambda: 60 * 1024)

    path.write_text(json.dumps({"mqtt": {"host": "broker"}}))  # no admin password set
    status, _, body = get("right-horse-7")
    assert status == 403 and json.loads(body)["error"].startswith("no admin password is set")
    path.write_text(json.dumps({"admin": {"password": 1234}}))  # edited since: config.py refuses it
    assert get("1234")[0] == 403

    monkeypatch.delattr(gc, "mem_free")
    path.write_text("\ufeff" + json.dumps({"admin": {"password": "right-horse-7"}}), encoding="utf-8")
    assert get()[0] == 401  # a file saved by Notepad: read as config.py reads it
