"""The portal's HTTP side: the page, the save, the OS probes, /config behind the admin password.

Two ways to mount it on a web/server.HttpServer:

- ``captive_routes(server, ap_ip)``: on the dongle's own access point. ``/`` is the page
  (GET) and the save (POST); the operating systems' connectivity probes and every other
  path answer 302 to ``http://<ap_ip>/``, which makes phones pop up the portal:

      Android /generate_204          Apple /hotspot-detect.html
      Windows /connecttest.txt, /ncsi.txt   Firefox /canonical.html

- ``lan_routes(server)``: in station mode, ``/config`` (GET page, POST save) behind HTTP
  Basic with the admin password and the failure limit of auth.py.

Refusals (401, 403, 429) answer JSON, or a short page when the request is a browser's (its
Accept names text/html, RFC 9110 12.5.1): same status and header fields either way. A form
whose hidden ``revision`` no longer matches the stored settings (another tab or device
saved since it was loaded) is not saved: 409 and the form again, with the stored values.

Nothing here ever writes a secret into a response: the page gets only "is it set" flags.
A successful save sets ``saved`` (an asyncio.Event); whoever runs the portal restarts then.
"""

try:
    import asyncio
except ImportError:  # MicroPython before 1.21
    import uasyncio as asyncio

import config
from portal import auth, const, form, meters, page
from web.server import error_response, pieces, redirect, response

PROBES = ("/generate_204", "/gen_204", "/hotspot-detect.html", "/library/test/success.html",
          "/connecttest.txt", "/ncsi.txt", "/redirect", "/canonical.html", "/success.txt")
SHOWN_KEYS = ("wifi.ssid", "wifi.txpower", "meter.profile", "meter.baud", "meter.format", "mqtt.host", "mqtt.port",
              "mqtt.user", "mqtt.prefix", "mqtt.discovery", "mqtt.layout", "mqtt.vse_group")
_HTML = const("text/html; charset=utf-8")
_NO_STORE = {"Cache-Control": "no-store"}


def _clock():
    import time

    return time.time()


class Portal:
    """Routes for one configuration file; ``networks`` is the last WiFi scan (SSIDs)."""

    def __init__(self, config_path, device="meterlink", networks=(), clock=_clock,
                 require_admin=False):
        self.path = config_path
        self.device = device
        self.networks = list(networks)
        # The AP password is public: when the portal opened by itself (settings that never
        # joined) over a stored admin password, a passer-by must not re-point MQTT (and so
        # the stored MQTT password) at their own broker. The button after a restart skips this.
        self.require_admin = require_admin
        self.guard = auth.Guard(clock)
        self.saved = asyncio.Event()
        self.saved_config = None
        self.on_lan = False  # /config on the home network (lan_routes, portal/lan.py)
        self.wifi = True  # a network to join is needed: not on a unix gateway (portal/lan.py)

    def captive_routes(self, server, ap_ip):
        """The access-point mode routes; every unknown path leads to the page."""
        home = "http://%s/" % ap_ip
        if server.port != 80:  # only on the unix port, where tests use a free port
            home = "http://%s:%d/" % (ap_ip, server.port)
        server.route("/", self.handle, ("GET", "POST"))

        def probe(request):
            return redirect(home)

        for path in PROBES:
            server.route(path, probe)
        server.route("*", probe, ("GET", "HEAD", "POST"))

    def lan_routes(self, server):
        """/config on the LAN, behind the admin password."""
        self.on_lan = True
        server.route("/config", self.guarded, ("GET", "POST"))

    def guarded(self, request):
        """HTTP Basic in front of ``handle``: 401 without or with a wrong password, 429 locked."""
        stored = form.stored_or_defaults(self.path)
        password = stored["admin"]["password"]
        verdict = self.guard.check(request.headers.get("authorization"), password) if password else None
        if verdict != auth.OK:
            return refusal(request, *auth.refusal(self.guard, verdict))
        return self.handle(request, stored)

    def handle(self, request, stored=None):
        """GET: the page with the stored values; POST: validate, save, or show the errors."""
        if self.saved.is_set():
            # Saved: the dongle restarts in a moment. A second tap on Save, Back or another
            # tab gets the same answer; the form again would ask for the admin password the
            # save just set, and count a wrong guess.
            return self._saved_page()
        if stored is None:
            stored = form.stored_or_defaults(self.path)
        if request.method != "POST":
            return self._page(_shown(stored), {}, stored)
        if not same_origin(request):
            return refusal(request, 403, "the form must be sent from this device's own page: "
                                         "open it at the dongle's address and save there")
        posted = request.form()
        given = posted.get("revision")
        if given and given != form.revision(stored):  # none: a tool's POST, not a page's
            # Loaded before the stored settings last changed (another tab or device saved):
            # the stored ones are shown, with what this page had beside them, so the person
            # chooses rather than undoing the other save unseen.
            return self._page(_shown(stored), {}, stored, 409, "The settings were changed in "
                              "another tab or by another device since this page was loaded: "
                              "check them and save again.", _unsaved(posted, stored))
        cfg, errors = form.apply(posted, stored, self.wifi)
        if self._ask_current(stored):
            error = self._current_refused(posted, stored)
            if error:
                errors["admin.current"] = error
        if errors:
            return self._page(_typed(posted, stored), errors, stored, 422,
                              "Please correct the marked fields.", _retype(posted, errors))
        try:
            cfg = config.save(self.path, cfg)
        except (OSError, config.ConfigError) as e:
            return self._page(_typed(posted, stored), {}, stored, 500, "Could not save: %s" % e)
        self.saved_config = cfg
        self.saved.set()
        return self._saved_page()

    def _saved_page(self):
        cfg = self.saved_config
        body = page.saved(cfg["wifi"]["ssid"], cfg["device_id"] or self.device, self.on_lan)
        return response(200, body, _HTML, _NO_STORE)

    def _ask_current(self, stored):
        return self.require_admin and bool(stored["admin"]["password"])

    def _current_refused(self, posted, stored):
        """Why the typed current admin password opens nothing, or None; counted by the same
        lockout as /config (a field left empty is no guess)."""
        verdict = self.guard.verify(posted.get("admin.current") or None, stored["admin"]["password"])
        if verdict == auth.LOCKED:
            return "too many wrong passwords: wait %d s (or hold the button while the light blinks after a restart)" % self.guard.retry_after()
        if verdict != auth.OK:
            return "wrong password (or hold the button while the light blinks after a restart)"
        return None

    def _page(self, values, errors, stored, status=200, notice=None, notes=None):
        secrets = {}
        for key in config.SECRET_KEYS:
            secrets[key] = bool(config.get(stored, key))
        values["revision"] = form.revision(stored)
        # The heading names the device as MQTT and Home Assistant do (a configured device_id);
        # the setup access point below stays named from the board's id, as portal/ap.py does.
        parts = page.render(values, errors, secrets, self.networks, self.device, notice,
                            self._ask_current(stored), notes, stored["device_id"])
        return pieces(status, parts, _HTML, _NO_STORE)

    async def wait_saved(self):
        """Wait for a successful save; returns the configuration written."""
        await self.saved.wait()
        return self.saved_config


def refusal(request, status, message, headers=None):
    """A refusal: a short page for a person in a browser (which names text/html in Accept),
    the JSON error body for everyone else (API clients, scripts)."""
    if "text/html" in request.headers.get("accept", ""):
        return response(status, page.refusal(status, message, request.path), _HTML, headers)
    return error_response(status, message, headers)


def _unsaved(posted, stored):
    """Notes for a form not saved over newer settings: what it had beside each field it
    would have changed, and which typed secrets to type again."""
    cfg = form.apply(posted, stored)[0]
    notes = _retype(posted, {})
    for key in SHOWN_KEYS:
        value = config.get(cfg, key)
        if value != config.get(stored, key):
            if key.startswith("meter."):  # one field, the preset, sets all three
                key = "meter"
                preset = meters.for_settings(cfg["meter"]["profile"], cfg["meter"]["baud"],
                                             cfg["meter"]["format"])
                value = preset[1] if preset else posted.get("meter")
            elif value is True or value is False:
                value = "on" if value else "off"
            elif value is None or value == "":
                notes[key] = "this tab had it empty, not saved"
                continue
            notes[key] = 'this tab had "%s", not saved' % value
    return notes


def _retype(posted, errors):
    """Notes for the secrets typed into a form that is shown again: they are never sent
    back, so without a word the next save would keep the stored one, or none."""
    notes = {}
    for key in config.SECRET_KEYS + ("admin.current",):
        if posted.get(key) and key not in errors:
            notes[key] = "type it again: passwords and keys are never sent back"
    return notes


def same_origin(request):
    """False for a cross-site POST: a page elsewhere must not ride on the browser's cached
    admin password (it could point MQTT at its own broker and collect the stored MQTT
    password). Browsers send Origin on every form POST; tools that send none are let by."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin in ("http://" + host, "https://" + host)


def _typed(posted, stored):
    """The form's values as typed, for the page that shows it again (secrets are never shown)."""
    values = dict(posted)
    if not posted.get("wifi.ssid_other", "").strip():
        values["wifi.ssid"] = form.ssid_of(posted)
    else:  # typed: shown again in its box, "Other / hidden network..." chosen
        values["wifi.ssid"] = ""
    for key in ("profile", "baud", "format"):  # not on the form: the "Keep" choice shows them
        values["meter." + key] = stored["meter"][key]
    return values


def _shown(cfg):
    """The non-secret values the page shows, by dotted key."""
    values = {}
    for key in SHOWN_KEYS:
        values[key] = config.get(cfg, key)
    return values
