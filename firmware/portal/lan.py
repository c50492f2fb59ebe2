"""Mount /config on the gateway's HTTP server (station mode) without keeping the portal loaded.

The page, the form rules, the guard and config.py's validation tables cost ~15 kB of RAM on
the device (~30 kB on the 64-bit unix port); a gateway that is only now and then
reconfigured should not carry them. ``mount`` registers a small handler that, per request
to /config, imports portal.app, answers, and (on MicroPython) drops those modules again.
Only the failed-attempt counter (one ``auth.Guard``) lives on between requests, so the
lockout of portal/auth.py holds across them.

    from portal import lan
    lan.mount(server, config_path, device_id, restart=app.request_restart)  # app/api.register

After a successful save ``restart`` (if given) is called with the saved configuration
RESTART_DELAY seconds later, once the "saved" page has gone out, so the new settings take
effect; after a request that ran out of memory, with None (the same settings, a whole heap),
at most once per _HEAL_AFTER seconds.
"""

import json
import sys

from app import unload
from decoder.compat import const
from web.server import response

RESTART_DELAY = 2  # seconds for the "saved" page to reach the browser before the reset
# A /config request that runs out of memory restarts the gateway, at most once per this many
# seconds of its running: the portal wants some of its room in one piece, and a heap that
# failed it once failed every later request too (503 until a restart, after a run of odd
# requests at 256 kB). A restart gives the heap back whole.
_HEAL_AFTER = const(120)

# Loaded for one /config request and dropped after it (auth stays: the Guard's class).
_TRANSIENT = const(("portal.app", "portal.page", "portal.form", "portal.meters", "config"))
_PARSER = const(("decoder.dsmr_parse",))
# Free heap (after a collection) below which /config does not even try to load the portal
# beside a running gateway, on a 64-bit port (half on a 32-bit ESP32). Measured on the unix
# port with a SiL meter (2026-11-27): beside a ROMFS image the page came with 56 kB free
# (and with 45 kB at a second visit, the first one's names loaded), from .mpy files with
# 76 kB and not with 60 kB. A try that failed there kept ~4-7 kB for good (the names it had
# loaded), but with 28 kB free (.mpy) or 25 kB (ROMFS) it kept up to 20 kB, and at times
# the meter was not decoded again.
_NEED = const(44 * 1024)
# A refusal for a person in a browser while the portal is not loaded (portal/page.py
# draws the same, styled, where it is).
_REFUSED_PAGE = const('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>meterlink'
                      '</title></head><body><main><h1 id="refused">%s</h1><p class="note">%s.</p>'
                      '<p><a href="/config"%s>Back to the settings</a></p></main></body></html>')
# The answer to a save whose own page found no room: short, and needing nothing loaded.
_SAVED_PAGE = const((b'<!DOCTYPE html><title>meterlink saved</title><h1 id="saved">Saved</h1><p>The '
                     b"dongle restarts with these settings: reload this page in about 10 seconds.</p>"))


def mount(server, config_path, device="meterlink", restart=None):
    """Serve GET/POST /config behind the admin password (portal/auth.py)."""
    guards = []  # the one Guard, created by the first request
    healed = [_clock()]  # when the gateway started, or last restarted to heal its heap

    def config_page(request):
        # What is answered with the portal not loaded: too little heap to load it (first:
        # near the floor even the password check's module weighs), a missing or wrong
        # password (a client without it made the gateway load the portal, and near the
        # heap floor one such request stopped the meter's decoding for good).
        import gc

        # The DSMR parser's ~9.5 kB of code goes too, reloaded by the next telegram: a DSMR
        # gateway has ~72 kB free at 256 kB, where the portal came with 76 kB and not with
        # 60 kB (above), and its page after a save came or not as the code's layout fell.
        unload(_PARSER)
        if hasattr(gc, "mem_free"):  # not CPython
            gc.collect()
            need = _NEED if sys.maxsize > 0x7FFFFFFF else _NEED // 2  # 64 or 32-bit objects
            free = gc.mem_free()
            if free < need:
                return _refused(request, 503, "not enough free memory to load the setup page "
                                "beside the running gateway (%d kB, %d kB needed): hold the "
                                "button while the light blinks after a restart to open the "
                                "setup portal, or edit the "
                                "configuration file" % (free // 1024, need // 1024))
        from portal import auth

        if not guards:
            guards.append(auth.Guard(_clock))  # lives on: the lockout holds across requests
        try:
            # Read without config.py, whose tables are part of what this spares the heap,
            # but as it reads it: a byte order mark (a file saved by Notepad) is no error.
            with open(config_path) as f:
                text = f.read()
            stored = json.loads(text[1:] if text[:1] == "\ufeff" else text)
            password = stored.get("admin", {}).get("password", "")
        except (OSError, ValueError, AttributeError):
            password = None  # the file does not read: the portal decides, as before
        if password is not None:
            if not isinstance(password, str):
                password = ""  # edited since the start into what config.py refuses: none set
            status = None  # no admin password set
            if password:
                status = guards[0].check(request.headers.get("authorization"), password)
            if status != auth.OK:
                return _refused(request, *auth.refusal(guards[0], status))
        try:
            return serve(request)
        except MemoryError:
            unload(_TRANSIENT)
            wait = ""
            if restart is not None and _clock() - healed[0] >= _HEAL_AFTER:
                healed[0] = _clock()
                print("http: /config ran out of memory: restarting to have it whole again")
                _restart_later(restart, None)
                wait = ", wait 10 seconds while the dongle restarts to free it,"
        # Out of the handler, whose exception holds the failed request's frames. A person
        # gets a page, not the server's JSON 503 ("out of memory, try again" as the whole
        # window, the form's entries out of sight); building it may fail too: then that one.
        gc.collect()
        return _refused(request, 503, "the dongle ran out of memory for this page: go back%s and "
                        "send it again (your browser's Back button keeps what you typed)" % wait)

    def serve(request):
        import gc

        gc.collect()  # loading the portal wants its room in one piece, not in fragments
        from portal.app import Portal

        portal = Portal(config_path, device, clock=_clock)
        portal.on_lan = True
        portal.wifi = sys.platform == "esp32"  # the unix port has no radio to point anywhere
        portal.guard = guards[0]  # config_page's, which counts the failures across requests
        try:
            return portal.guarded(request)
        except MemoryError:
            if portal.saved_config is None:
                raise  # nothing saved: the server's 503 says to try again, rightly
            # Saved, then no room for the page that says so (the portal's names can take a
            # gateway past its name pool's next block, 14 kB in one piece on the unix
            # port): a 503 "try again" would have the person save what is already saved.
        finally:
            saved = portal.saved_config
            portal = None
            unload(_TRANSIENT)
            if saved is not None and restart is not None:
                healed[0] = _clock()  # the restart into the saved settings heals the heap too
                _restart_later(restart, saved)
        gc.collect()
        return response(200, _SAVED_PAGE, "text/html; charset=utf-8")

    server.route("/config", config_page, ("GET", "POST"))


def _refused(request, status, message, headers=None):
    from web.server import error_response

    if "text/html" in request.headers.get("accept", ""):
        heading = {401: "Admin password required", 403: "Not allowed", 429: "Please wait",
                   503: "Not enough memory"}[status]
        # After a 503 the way back is the browser's (the form as it was typed), not a new form.
        back = ' onclick="history.back();return false"' if status == 503 else ""
        page = _REFUSED_PAGE % (heading, message[:1].upper() + message[1:], back)
        return response(status, page, "text/html; charset=utf-8", headers)
    return error_response(status, message, headers)


def _clock():
    # The Guard outlives portal.app: its clock must not be a portal.app function, whose
    # module globals (and so the whole portal) it would keep alive.
    import time

    return time.time()


def _restart_later(restart, saved):
    try:
        import asyncio
    except ImportError:  # MicroPython before 1.21
        import uasyncio as asyncio

    async def wait():
        await asyncio.sleep(RESTART_DELAY)
        restart(saved)

    asyncio.create_task(wait())
