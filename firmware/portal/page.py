"""The one portal page: HTML5 with inline CSS and a few lines of inline JS, no external
resources (it must render on a phone joined to the dongle's AP, with no internet).

The browser checks what it can (required, min/max, minlength); the device checks
everything again (form.py) and the page shows each message next to its field, tied to it by
``aria-describedby`` (WAI-ARIA 1.2) so a screen reader reads it with the field. A message is
an error (red, ``aria-invalid``) or a note (amber: "type it again", "this tab had ..."),
which asks for a look but reports no failure. Secrets are never written into the page: a
stored secret shows as an empty field with the placeholder "unchanged", and an empty field
keeps it. The page works without JS; the JS only hides rows that do not apply.
"""

from portal import const, meters
from portal.ap import AP_PASSWORD, ap_ssid

_SSID_MAX = const(32)  # IEEE 802.11: an SSID is at most 32 octets
_SCAN_SHOWN = const(20)  # networks listed; a crowded block of flats can show 40+


_ESCAPES = const((("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#39;")))
_KEYS = const((("meter.key", "Encryption key (GUEK)"), ("meter.auth_key", "Authentication key (GAK)")))

_CSS = const((
    "*{box-sizing:border-box}body{font:16px/1.4 system-ui,sans-serif;margin:0;"
    "background:#f3f5f7;color:#1c2430}main{max-width:34em;margin:auto;padding:1em}"
    "h1{font-size:1.4em;margin:.2em 0}fieldset{border:0;background:#fff;border-radius:8px;"
    "margin:0 0 1em;padding:.6em 1em 1em;box-shadow:0 1px 3px #0002}legend{font-weight:600;"
    "padding:.8em 0 0}label{display:block;margin-top:.8em;font-size:.9em}"
    "input,select{width:100%;font:inherit;padding:.5em;border:1px solid #9aa5b1;"
    "border-radius:5px;margin-top:.2em}input[type=checkbox]{width:auto;margin-right:.5em}"
    "input:invalid:not(:placeholder-shown){border-color:#c0392b}"
    ".err,.attn{font-size:.9em;margin:.2em 0 0}.err{color:#c0392b}"
    ".attn{color:#5c4400;background:#fff7d6;padding:0 .3em}.bad input,.bad select"
    "{border-color:#c0392b;background:#fff5f4}.hint{color:#5b6773;font-size:.85em;margin:.2em 0 0}"
    "button{width:100%;font:inherit;font-weight:600;padding:.8em;border:0;border-radius:8px;"
    "background:#1e6fd9;color:#fff}.note{background:#fff7d6;padding:.6em 1em;border-radius:8px}"
))

# Rows that apply to one choice only: the hidden network's name (no network picked), the
# VSE group (the VSE layout). Without JS both stay shown, and form.py ignores what does not apply.
_JS = const((
    "function w(c,r,f){c=document.getElementById(c);r=document.getElementById(r);"
    "function t(){r.style.display=f(c.value)?'block':'none'}c.onchange=t;t()}"
    "w('wifi.ssid','ssid-other-row',function(v){return!v});"
    "w('mqtt.layout','vse-group-row',function(v){return v=='vse'})"
))
# The head of every page: the title goes in, _CSS and "</style></head>" follow.
_HEAD = const(('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
               '<meta name="viewport" content="width=device-width,initial-scale=1">'
               '<link rel="icon" href="data:,">'  # no /favicon.ico request: a second page render
               "<title>%s</title><style>"))


def escape(text):
    """HTML-escape a value for element text or a double-quoted attribute."""
    text = str(text)
    for raw, safe in _ESCAPES:
        if raw in text:
            text = text.replace(raw, safe)
    return text


def _row(out, name, label, control, messages, hint=None, row_id=None):
    # One piece per row: a list of ~100 small pieces needed a 1 kB block for the list itself,
    # which a heap fragmented by the form's checks may not have.
    entry = messages.get(name)
    control, message = _said(name, control, entry)
    ident = ' id="%s"' % row_id if row_id else ""
    if entry and entry[0] == "err":
        ident += ' class="bad"'
    hint = '<p class="hint">%s</p>' % hint if hint else ""
    out.append('<div%s><label for="%s">%s</label>%s%s%s</div>' % (
        ident, escape(name), label, control, message, hint))


def _said(name, control, entry):
    """(control, message paragraph) for a field's message ``entry`` = (kind, text), kind
    "err" or "attn": the control names the paragraph, so a screen reader reads it with the
    field, and only an error marks the field invalid."""
    if not entry:
        return control, ""
    kind, text = entry
    ident = kind + "-" + escape(name)
    cut = control.index(">")  # the end of the control's opening tag
    mark = ' aria-describedby="%s"%s' % (ident, ' aria-invalid="true"' if kind == "err" else "")
    return (control[:cut] + mark + control[cut:],
            '<p class="%s" id="%s">%s</p>' % (kind, ident, escape(text)))


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


def _wifi(out, values, messages, secrets, networks):
    out.append("<fieldset><legend>WiFi</legend>")
    current = values.get("wifi.ssid", "")
    names = [n for n in networks[:_SCAN_SHOWN] if n]
    pairs = [(n, n) for n in names]
    if current and current not in names:
        pairs.insert(0, (current, current))
    pairs.append(("", "Other / hidden network..."))
    select = '<select id="wifi.ssid" name="wifi.ssid">%s</select>' % _options(pairs, current)
    _row(out, "wifi.ssid", "Network", select, messages)
    _row(out, "wifi.ssid_other", "Hidden network name",
         _input("wifi.ssid_other", values.get("wifi.ssid_other", ""), extra=' maxlength="%d"' % _SSID_MAX), messages,
         row_id="ssid-other-row")
    _row(out, "wifi.password", "WiFi password",
         _secret("wifi.password", secrets.get("wifi.password"), ' minlength="8" maxlength="64"'),
         messages, "8 to 63 characters, or the key as 64 hex digits; empty for an open network "
                   "(or, for the same network, to keep its password)")
    power = values.get("wifi.txpower")
    _row(out, "wifi.txpower", "Transmit power limit (dBm)",
         _input("wifi.txpower", "" if power is None else power, "number", ' min="2" max="21" step="any"'),
         messages, "Empty: the board's default (8.5 on an ESP32-C3 SuperMini, full power on others)")
    out.append("</fieldset>")


def _meter(out, values, messages, secrets):
    out.append("<fieldset><legend>Meter</legend>")
    profile = values.get("meter.profile", "auto")
    baud, line = values.get("meter.baud", 9600), values.get("meter.format", "8N1")
    preset = values.get("meter") or (meters.for_settings(profile, baud, line) or ("current",))[0]
    pairs = [(p[0], p[1]) for p in meters.PRESETS]
    if preset == "current":
        pairs.insert(0, ("current", "Keep: profile %s, %s baud %s" % (profile, baud, line)))
    select = '<select id="meter" name="meter">%s</select>' % _options(pairs, preset)
    _row(out, "meter", "Meter", select, messages, "The customer port settings follow from it.")
    # No pattern: the browser's "match the requested format" does not say that a pasted
    # space or dash is the trouble, and the device takes those (config.key_hex).
    key_extra = ' maxlength="128" spellcheck="false" autocapitalize="off"'
    for name, label in _KEYS:
        _row(out, name, label, _secret(name, secrets.get(name), key_extra), messages,
             "32 hex digits from your utility; empty if the meter does not encrypt")
    out.append("</fieldset>")


def _mqtt(out, values, messages, secrets):
    out.append("<fieldset><legend>MQTT</legend>")
    _row(out, "mqtt.host", "Broker host", _input("mqtt.host", values.get("mqtt.host", ""),
         extra=' maxlength="253" autocapitalize="off"'), messages, "Empty: HTTP API only")
    _row(out, "mqtt.port", "Port", _input("mqtt.port", values.get("mqtt.port", 1883), "number",
         ' min="1" max="65535" required'), messages)
    _row(out, "mqtt.user", "User", _input("mqtt.user", values.get("mqtt.user", ""),
         extra=' maxlength="128" autocapitalize="off"'), messages)
    _row(out, "mqtt.password", "Password", _secret("mqtt.password", secrets.get("mqtt.password"),
         ' maxlength="128"'), messages)
    _row(out, "mqtt.prefix", "Topic prefix", _input("mqtt.prefix", values.get("mqtt.prefix", ""),
         extra=' maxlength="128" required autocapitalize="off"'), messages)
    checked = " checked" if values.get("mqtt.discovery") in (True, "on", "true") else ""
    control, message = _said("mqtt.discovery", '<input id="mqtt.discovery" name="mqtt.discovery" '
                             'type="checkbox"%s>' % checked, messages.get("mqtt.discovery"))
    out.append("<div><label>%sHome Assistant discovery</label>%s</div>" % (control, message))
    select = '<select id="mqtt.layout" name="mqtt.layout">%s</select>' % _options(
        (("meterlink", "meterlink"), ("vse", "meterlink + Swiss VSE topic")),
        values.get("mqtt.layout", "meterlink"))
    _row(out, "mqtt.layout", "Message layout", select, messages)
    # No "required": the row is hidden unless the VSE layout is chosen, and a browser
    # cannot point at a hidden empty field.
    control = _input("mqtt.vse_group", values.get("mqtt.vse_group", ""),
                     extra=' maxlength="32" autocapitalize="off"')
    _row(out, "mqtt.vse_group", "VSE topic group", control, messages,
         "dt/&lt;group&gt;/&lt;meter id&gt;/ds; VSE layout only", "vse-group-row")
    out.append("</fieldset>")


def _admin(out, messages, secrets, ask_current):
    out.append("<fieldset><legend>Admin</legend>")
    if ask_current:
        _row(out, "admin.current", "Current admin password",
             _secret("admin.current", False, ' maxlength="128" required'), messages,
             "This dongle is already set up: prove it is yours (or hold the button while the light blinks after a restart)")
    is_set = secrets.get("admin.password")
    extra = ' minlength="8" maxlength="128"' + ("" if is_set else " required")
    _row(out, "admin.password", "Admin password", _secret("admin.password", is_set, extra),
         messages, "Protects this page on your network (/config)")
    out.append("</fieldset>")


def render(values, errors, secrets, networks, device="meterlink", notice=None,
           ask_current=False, notes=None, name=None):
    """The form page as a list of str pieces (sent one by one: no large join).

    values: dotted key -> value to show (never secrets), and "revision" (form.revision of
    the stored settings) for the hidden field; errors: field -> message; notes: field ->
    a message that is no error (retype a secret, what this tab had); secrets: dotted key ->
    True when a value is stored; networks: SSIDs from a scan; ask_current: add a "current
    admin password" field (portal.app.Portal.require_admin); name: the heading's name for the
    device when a device_id is configured (``device``, the board's id, names the setup AP).
    """
    messages = {}
    for key in notes or ():
        messages[key] = ("attn", notes[key])
    for key in errors:
        messages[key] = ("err", errors[key])  # an error outweighs a note on its field
    out = [_HEAD % "meterlink setup", _CSS, "</style></head><body><main>"
           "<h1>meterlink setup</h1><p class=\"hint\">Device %s</p>" % escape(name or device)]
    if notice:
        out.append('<p class="note" id="notice">%s</p>' % escape(notice))
    out.append('<form method="post" autocomplete="off">')
    if values.get("revision"):
        out.append('<input type="hidden" name="revision" value="%s">' % escape(values["revision"]))
    _wifi(out, values, messages, secrets, networks)
    _meter(out, values, messages, secrets)
    _mqtt(out, values, messages, secrets)
    _admin(out, messages, secrets, ask_current)
    out.append('<button id="save" type="submit">Save and restart</button></form>')
    out.append(footer(device))
    out.append("</main><script>%s</script></body></html>" % _JS)
    return out


def footer(device):
    """The setup access point and its passphrase (public by design, portal/ap.py), where a
    user who has to reconfigure from scratch will look for them."""
    return ('<p class="hint" id="setup-ap">Setup access point <b>%s</b>, WPA2 password '
            "<b>%s</b>: restart the dongle and hold its button while the light blinks fast.</p>"
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
    return ((_HEAD % "meterlink saved") + _CSS + '</style></head><body><main><h1 id="saved">'
            'Saved</h1><p class="note">%s</p></main></body></html>' % what).encode()


def refusal(status, message, path):
    """The page a person in a browser gets for a 401, 403 or 429 (app.py; API clients get
    JSON): what happened and what to do (``message``), and a link back to the form at
    ``path``."""
    heading = {401: "Admin password required", 403: "Not allowed", 429: "Please wait"}[status]
    text = escape(message[:1].upper() + message[1:])
    return ((_HEAD % "meterlink") + _CSS + '</style></head><body><main><h1 id="refused">%s</h1>'
            '<p class="note">%s.</p><p><a href="%s">Back to the settings</a></p></main></body>'
            "</html>" % (heading, text, escape(path))).encode()
