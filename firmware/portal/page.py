"""The one portal page: HTML5 with inline CSS and a few lines of inline JS, no external
resources (it must render on a phone joined to the dongle's AP, with no internet).

The browser checks what it can (required, pattern, min/max, minlength); the device checks
everything again (form.py) and the page shows each message next to its field. Secrets are
never written into the page: a stored secret shows as an empty field with the placeholder
"unchanged", and an empty field keeps it.
"""

from portal import meters
from portal.ap import AP_PASSWORD, ap_ssid

SSID_MAX = 32  # IEEE 802.11: an SSID is at most 32 octets
SCAN_SHOWN = 20  # networks listed; a crowded block of flats can show 40+


_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#39;"))
_KEYS = (("meter.key", "Encryption key (GUEK)"), ("meter.auth_key", "Authentication key (GAK)"))

_CSS = (
    "*{box-sizing:border-box}body{font:16px/1.4 system-ui,sans-serif;margin:0;"
    "background:#f3f5f7;color:#1c2430}main{max-width:34em;margin:auto;padding:1em}"
    "h1{font-size:1.4em;margin:.2em 0}fieldset{border:0;background:#fff;border-radius:8px;"
    "margin:0 0 1em;padding:.6em 1em 1em;box-shadow:0 1px 3px #0002}legend{font-weight:600;"
    "padding:.8em 0 0}label{display:block;margin-top:.8em;font-size:.9em}"
    "input,select{width:100%;font:inherit;padding:.5em;border:1px solid #9aa5b1;"
    "border-radius:5px;margin-top:.2em}input[type=checkbox]{width:auto;margin-right:.5em}"
    "input:invalid:not(:placeholder-shown){border-color:#c0392b}"
    ".err{color:#c0392b;font-size:.9em;margin:.2em 0 0}.bad input,.bad select"
    "{border-color:#c0392b;background:#fff5f4}.hint{color:#5b6773;font-size:.85em;margin:.2em 0 0}"
    "button{width:100%;font:inherit;font-weight:600;padding:.8em;border:0;border-radius:8px;"
    "background:#1e6fd9;color:#fff}.note{background:#fff7d6;padding:.6em 1em;border-radius:8px}"
)

_JS = (
    "var s=document.getElementById('wifi.ssid'),o=document.getElementById('ssid-other-row');"
    "function t(){o.style.display=s.value?'none':'block'}s.onchange=t;t();"
)


def escape(text):
    """HTML-escape a value for element text or a double-quoted attribute."""
    text = str(text)
    for raw, safe in _ESCAPES:
        if raw in text:
            text = text.replace(raw, safe)
    return text


def _row(out, name, label, control, errors, hint=None, row_id=None):
    error = errors.get(name)
    ident = ' id="%s"' % row_id if row_id else ""
    out.append("<div%s%s>" % (ident, ' class="bad"' if error else ""))
    out.append('<label for="%s">%s</label>%s' % (escape(name), label, control))
    if error:
        out.append('<p class="err" id="err-%s">%s</p>' % (escape(name), escape(error)))
    if hint:
        out.append('<p class="hint">%s</p>' % hint)
    out.append("</div>")


def _input(name, value="", kind="text", extra=""):
    return '<input id="%s" name="%s" type="%s" value="%s"%s>' % (
        escape(name), escape(name), kind, escape(value), extra)


def _secret(name, is_set, extra=""):
    """A password field that never carries the stored value."""
    holder = "unchanged" if is_set else ""
    return ('<input id="%s" name="%s" type="password" value="" placeholder="%s" '
            'autocomplete="%s"%s>' % (escape(name), escape(name), holder,
                                      "new-password" if name == "admin.password" else "off", extra))


def _options(pairs, selected):
    out = []
    for value, label in pairs:
        mark = " selected" if value == selected else ""
        out.append('<option value="%s"%s>%s</option>' % (escape(value), mark, escape(label)))
    return "".join(out)


def _wifi(out, values, errors, secrets, networks):
    out.append("<fieldset><legend>WiFi</legend>")
    current = values.get("wifi.ssid", "")
    names = [n for n in networks[:SCAN_SHOWN] if n]
    pairs = [(n, n) for n in names]
    if current and current not in names:
        pairs.insert(0, (current, current))
    pairs.append(("", "Other / hidden network..."))
    select = '<select id="wifi.ssid" name="wifi.ssid">%s</select>' % _options(pairs, current)
    _row(out, "wifi.ssid", "Network", select, errors)
    _row(out, "wifi.ssid_other", "Hidden network name",
         _input("wifi.ssid_other", values.get("wifi.ssid_other", ""), extra=' maxlength="%d"' % SSID_MAX), errors,
         row_id="ssid-other-row")
    _row(out, "wifi.password", "WiFi password",
         _secret("wifi.password", secrets.get("wifi.password"), ' minlength="8" maxlength="64"'),
         errors, "8 to 63 characters, or the key as 64 hex digits; empty for an open network")
    out.append("</fieldset>")


def _meter(out, values, errors, secrets):
    out.append("<fieldset><legend>Meter</legend>")
    profile = values.get("meter.profile", "auto")
    baud, line = values.get("meter.baud", 9600), values.get("meter.format", "8N1")
    preset = values.get("meter") or (meters.for_settings(profile, baud, line) or ("current",))[0]
    pairs = [(p[0], p[1]) for p in meters.PRESETS]
    if preset == "current":
        pairs.insert(0, ("current", "Keep: profile %s, %s baud %s" % (profile, baud, line)))
    select = '<select id="meter" name="meter">%s</select>' % _options(pairs, preset)
    _row(out, "meter", "Meter", select, errors, "The customer port settings follow from it.")
    # No pattern: the browser's "match the requested format" does not say that a pasted
    # space or dash is the trouble, and the device takes those (config.key_hex).
    key_extra = ' maxlength="128" spellcheck="false" autocapitalize="off"'
    for name, label in _KEYS:
        _row(out, name, label, _secret(name, secrets.get(name), key_extra), errors,
             "32 hex digits from your utility; empty if the meter does not encrypt")
    out.append("</fieldset>")


def _mqtt(out, values, errors, secrets):
    out.append("<fieldset><legend>MQTT</legend>")
    _row(out, "mqtt.host", "Broker host", _input("mqtt.host", values.get("mqtt.host", ""),
         extra=' maxlength="253" autocapitalize="off"'), errors, "Empty: HTTP API only")
    _row(out, "mqtt.port", "Port", _input("mqtt.port", values.get("mqtt.port", 1883), "number",
         ' min="1" max="65535" required'), errors)
    _row(out, "mqtt.user", "User", _input("mqtt.user", values.get("mqtt.user", ""),
         extra=' maxlength="128" autocapitalize="off"'), errors)
    _row(out, "mqtt.password", "Password", _secret("mqtt.password", secrets.get("mqtt.password"),
         ' maxlength="128"'), errors)
    _row(out, "mqtt.prefix", "Topic prefix", _input("mqtt.prefix", values.get("mqtt.prefix", ""),
         extra=' maxlength="128" required autocapitalize="off"'), errors)
    checked = " checked" if values.get("mqtt.discovery") in (True, "on", "true") else ""
    out.append('<label><input id="mqtt.discovery" name="mqtt.discovery" type="checkbox"%s>'
               'Home Assistant discovery</label>' % checked)
    out.append("</fieldset>")


def _admin(out, errors, secrets, ask_current):
    out.append("<fieldset><legend>Admin</legend>")
    if ask_current:
        _row(out, "admin.current", "Current admin password",
             _secret("admin.current", False, ' maxlength="128" required'), errors,
             "This dongle is already set up: prove it is yours (or hold the button at boot)")
    is_set = secrets.get("admin.password")
    extra = ' minlength="8" maxlength="128"' + ("" if is_set else " required")
    _row(out, "admin.password", "Admin password", _secret("admin.password", is_set, extra),
         errors, "Protects this page on your network (/config)")
    out.append("</fieldset>")


def render(values, errors, secrets, networks, device="meterlink", notice=None,
           ask_current=False):
    """The form page as a list of str pieces (sent one by one: no large join).

    values: dotted key -> value to show (never secrets); errors: field -> message;
    secrets: dotted key -> True when a value is stored; networks: SSIDs from a scan;
    ask_current: add a "current admin password" field (portal.app.Portal.require_admin).
    """
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
           '<meta name="viewport" content="width=device-width,initial-scale=1">'
           '<link rel="icon" href="data:,">'  # no /favicon.ico request: a second page render
           "<title>meterlink setup</title><style>", _CSS, "</style></head><body><main>"
           "<h1>meterlink setup</h1><p class=\"hint\">Device %s</p>" % escape(device)]
    if notice:
        out.append('<p class="note" id="notice">%s</p>' % escape(notice))
    out.append('<form method="post" autocomplete="off">')
    _wifi(out, values, errors, secrets, networks)
    _meter(out, values, errors, secrets)
    _mqtt(out, values, errors, secrets)
    _admin(out, errors, secrets, ask_current)
    out.append('<button id="save" type="submit">Save and restart</button></form>')
    out.append(footer(device))
    out.append("</main><script>%s</script></body></html>" % _JS)
    return out


def footer(device):
    """The setup access point and its passphrase (public by design, portal/ap.py), where a
    user who has to reconfigure from scratch will look for them."""
    return ('<p class="hint" id="setup-ap">Setup access point <b>%s</b>, WPA2 password '
            "<b>%s</b>: hold the button while the dongle starts to open it.</p>"
            % (escape(ap_ssid(device)), escape(AP_PASSWORD)))


def saved(ssid, device, on_lan=False):
    """The page shown after a successful save, just before the restart; ``on_lan``: saved
    from /config on the home network, not from the setup access point."""
    if on_lan:
        what = ("%s restarts with these settings: this page is back in about 10 seconds "
                "(reload it), at the same address unless the WiFi network changed."
                % escape(device))
    else:
        what = ("%s restarts and joins <b>%s</b>. Reconnect this phone to that network; the "
                "dongle's settings are then at /config on its address there (your router's "
                "list of devices shows it). If it cannot join within a minute, its setup "
                "network comes back." % (escape(device), escape(ssid)))
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            '<link rel="icon" href="data:,">'
            "<title>meterlink saved</title><style>%s</style></head><body><main>"
            '<h1 id="saved">Saved</h1><p class="note">%s</p>'
            "</main></body></html>" % (_CSS, what)).encode()
