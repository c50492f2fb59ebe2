"""The gateway's configuration: one JSON file, defaults, validation, atomic save.

The file is a nested JSON object; every key is optional and falls back to
``DEFAULTS``. Keys are named by their dotted path (``mqtt.port``) everywhere:
in errors, in README, in the portal form.

::

    {"meter":  {"source": "uart", "baud": 9600, "format": "8N1", "key": "",
                "auth_key": "", "profile": "auto", "lists": []},
     "mqtt":   {"host": "", "port": 1883, "user": "", "password": "",
                "prefix": "meterlink", "discovery": true,
                "discovery_prefix": "homeassistant",
                "layout": "meterlink", "vse_group": "building", "keepalive": 60,
                "expire_after": 300},
     "http":   {"port": 80},
     "wifi":   {"ssid": "", "password": "", "txpower": null},
     "admin":  {"password": ""},
     "device_id": "", "board": ""}

``validate`` refuses anything it does not understand (unknown keys included,
so a typo is an error, not a silently ignored setting) by raising
``ConfigError`` naming the dotted key: the gateway never starts half-configured.
Form-style strings ("1883", "true") are accepted and normalised, so the captive
portal can hand its form fields straight in.

Secrets (``SECRET_KEYS``) are stored in the file in clear (the device has no
secure element to hide them in) but never shown: the API leaves them out, and
the setup page shows a stored one as an empty field, which keeps it when it
comes back empty (portal/form.py).
"""

import json
import os
import sys

try:
    from micropython import const
except ImportError:  # CPython (host tests, tools/): the value itself
    def const(value):
        return value

SECRET_KEYS = ("wifi.password", "meter.key", "meter.auth_key", "mqtt.password", "admin.password")

# The mandatory minimum: everything else has a working default. "uart" is the
# device's meter port; on the unix port run_local.py passes tcp://…
DEFAULTS = {
    "meter": {
        "source": "uart",
        "baud": 9600,
        "format": "8N1",
        "key": "",
        "auth_key": "",
        "profile": "auto",
        "lists": [],
    },
    "mqtt": {
        "host": "",
        "port": 1883,
        "user": "",
        "password": "",
        "prefix": "meterlink",
        "discovery": True,
        "discovery_prefix": "homeassistant",
        "layout": "meterlink",
        "vse_group": "building",
        "keepalive": 60,
        "expire_after": 300,
    },
    "http": {"port": 80},
    "wifi": {"ssid": "", "password": "", "txpower": None},
    "admin": {"password": ""},
    "device_id": "",
    "board": "",
}

# Rates a meter customer port or ser2net line actually uses (IEC 62056-21
# modes and P1/M-Bus practice); anything else is a typo.
BAUD_RATES = (300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
# Character formats (data bits, parity, stop bits): 8N1 is the SiL notice's and
# DSMR 4/5's, 8E1 wired M-Bus's default (EN 13757-2; some E450 ports keep it),
# 7E1 DSMR 2.2/3's. Read with the wrong one, bytes arrive with a parity bit inside.
LINE_FORMATS = ("8N1", "8E1", "7E1")
LAYOUTS = ("meterlink", "vse")

# An MQTT topic level or device id longer than this only makes topics and
# discovery ids unwieldy; 32 covers a MAC (12 hex) or a host name comfortably.
MAX_ID = 32
# Host names are at most 253 characters (RFC 1035); a file path on the unix
# port gets the same room.
_MAX_HOST = const(253)
# WPA2 passphrases are 8..63 characters (IEEE 802.11i); SSIDs at most 32 bytes.
_MAX_SSID = const(32)
_MIN_WPA = const(8)
_MAX_WPA = const(63)
# WiFi transmit power limits in dBm: ESP-IDF's esp_wifi_set_max_tx_power takes 8..84 in
# quarter dBm, and the esp32 port's WLAN.config(txpower=) multiplies by 4 and truncates.
_TXPOWER_MIN = const(2)
_TXPOWER_MAX = const(21)
# Other free-text settings (user names, passwords, prefixes): generous but
# bounded so a hostile form cannot fill the flash or the heap.
_MAX_TEXT = const(128)
# A configuration is well under 2 kB; a file far larger is not one (and would not
# fit a small heap).
_MAX_FILE = const(16384)
# A DLMS key (GUEK/GAK) is AES-128: 16 bytes, written as 32 hex digits.
_KEY_HEX = const(32)

_ID_CHARS = const("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
# A host name (RFC 1123 letters, digits, '-', '.'; '_' that local names carry) or an
# IPv4/IPv6 address.
_HOST_CHARS = const("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:")  # _ID_CHARS, ".:"
_HEX = const("0123456789abcdef")


class ConfigError(ValueError):
    """An invalid setting; ``key`` is its dotted name and ``str()`` names it."""

    def __init__(self, key, message):
        super().__init__("%s: %s" % (key, message))
        self.key = key
        self.message = message


def _text(key, value, max_len=_MAX_TEXT):
    if not isinstance(value, str):
        raise ConfigError(key, "must be a string")
    if len(value) > max_len:
        raise ConfigError(key, "longer than %d characters" % max_len)
    return value


def _ascii(text):
    return len(text.encode()) == len(text)


def _int(key, value, low, high):
    # ASCII digits only: CPython's isdigit() and int() also take "²" and "８８", which the
    # device refuses, so the host tools (deploy, make run) would pass what the dongle stops on.
    if isinstance(value, str) and value.strip().isdigit() and _ascii(value):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(key, "must be a whole number")
    if value < low or value > high:
        raise ConfigError(key, "must be between %d and %d" % (low, high))
    return value


def _bool(key, value):
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "on", "1", "yes"):
            return True
        if lowered in ("false", "off", "0", "no", ""):
            return False
    if isinstance(value, bool):
        return value
    raise ConfigError(key, "must be true or false")


def key_hex(key, value):
    """A key as utilities' letters and tools write it (spaced, with colons or dashes, as a
    C array "0x5A, 0xD8, ...", pasted with a tab or a no-break space around it) -> its 32
    hex digits in lower case, or "" for none; ConfigError naming ``key`` otherwise. Also
    what tools/decode.py takes for --key."""
    value = _text(key, value, 128).lower().replace("0x", "")
    clean = "".join([c for c in value if c not in " \t\r\n\u00a0:-,"])
    if clean == "":
        return ""
    if not _is_hex(clean):
        raise ConfigError(key, "must be hex digits 0-9, a-f (spaces, colons and dashes between them are fine)")
    if len(clean) != _KEY_HEX:
        raise ConfigError(key, "must be %d hex digits (16 bytes) or empty, not %d" % (_KEY_HEX, len(clean)))
    return clean


def _ident(key, value, allow_empty):
    value = _text(key, value, MAX_ID).strip()
    if value == "" and allow_empty:
        return value
    if value == "":
        raise ConfigError(key, "must not be empty")
    for ch in value:
        if ch not in _ID_CHARS:
            raise ConfigError(key, "only letters, digits, '-' and '_' are allowed")
    return value


def _host(key, value):
    value = _text(key, value, _MAX_HOST).strip()
    for ch in value:
        if ch not in _HOST_CHARS:
            raise ConfigError(key, "must be a host name or an IP address ('%s' is not allowed)" % ch)
    if value.count(":") == 1:  # an IPv6 address has at least two
        raise ConfigError(key, "the port goes in mqtt.port, not after the host")
    if ":" in value and sys.platform == "esp32":
        # MicroPython's ESP32 port has no IPv6: its getaddrinfo gives no address to connect to.
        raise ConfigError(key, "the ESP32 has no IPv6: give the broker's IPv4 address or its name")
    return value


def _source(key, value):
    value = _text(key, value, _MAX_HOST).strip()
    if value == "" or ("://" in value and not value.startswith("tcp://")):
        raise ConfigError(key, 'must be "uart", "tcp://HOST:PORT" or a device/file path')
    if value.startswith("tcp://"):
        hostport = value[6:]
        colon = hostport.rfind(":")
        if colon <= 0:
            raise ConfigError(key, "tcp source must be tcp://HOST:PORT")
        _int(key, hostport[colon + 1 :], 1, 65535)
        for ch in hostport[:colon]:
            # A host with a blank or a slash was looked up for ever; brackets: tcp://[::1]:7000,
            # with a zone: tcp://[fe80::1%eth0]:7000 (the unix port's getaddrinfo takes it).
            if ch not in _HOST_CHARS and ch not in "[]%":
                raise ConfigError(key, "must be tcp://HOST:PORT with a host name or an IP address ('%s' is not allowed)" % ch)
    return value


def _prefix(key, value):
    value = _text(key, value, _MAX_TEXT).strip()
    if value == "" or value.startswith("/") or value.endswith("/"):
        raise ConfigError(key, "must be a non-empty topic without leading or trailing '/'")
    if value.startswith("$"):  # MQTT 3.1.1 4.7.2: such topics are the broker's own
        raise ConfigError(key, "a topic starting with '$' is reserved for the broker")
    for ch in "+#":
        if ch in value:
            raise ConfigError(key, "MQTT wildcards '+', '#' are not allowed in a topic")
    return _mqtt_chars(key, value, "a topic")


def _mqtt_chars(key, value, what):
    # MQTT 3.1.1 1.5.3: a UTF-8 string must not hold U+0000 or a surrogate, and should not
    # hold other control characters or non-characters. mosquitto drops a CONNECT that does
    # (the user name and the will topic are in it): the gateway would retry for ever with
    # ECONNRESET.
    for ch in value:
        code = ord(ch)
        if (code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or 0xFDD0 <= code <= 0xFDEF
                or code & 0xFFFE == 0xFFFE):
            kind = "control characters" if code < 0xA0 else "surrogates or non-characters"
            raise ConfigError(key, "%s must not hold %s (U+%04X)" % (what, kind, code))
    return value


def _choice(key, value, choices):
    if value not in choices:
        raise ConfigError(key, "must be one of %s" % ", ".join([str(c) for c in choices]))
    return value


def _profile(key, value):
    # A profile the decoder does not know stopped the gateway at start after the
    # configuration had passed. Checked by the host tools (deploy, make run) and by a running
    # gateway's /config; not by the portal or the device's boot decision, which would load
    # the decoder (~7 kB) only for this: the portal offers known profiles only, and a gateway
    # that refuses its configuration at start opens the portal (portal/boot.py).
    value = _ident(key, value, False)
    profiles = sys.modules.get("decoder.profiles")
    if profiles is None and sys.implementation.name != "micropython":
        from decoder import profiles
    if value != "auto" and profiles is not None and not profiles.known(value):
        raise ConfigError(key, "unknown meter profile %r (known: auto, %s)"
                          % (value, ", ".join(profiles.names())))
    return value


def _lists(key, value):
    # Names of lists.py's value lists, or whole lines that define one ("name profile codes
    # ...", decoder/lists_user.py): checked here, so that a name the decoder does not know
    # keeps a device in the portal instead of stopping the gateway at start.
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list):
        raise ConfigError(key, "must be a list of value list names or definitions")
    value = [_text(key, v, _MAX_TEXT * 8).strip() for v in value]
    if value:
        from decoder.lists import names

        try:
            names(value, False)  # a definition is checked, not added to a running decoder's table
        except ValueError as e:
            raise ConfigError(key, str(e)[len("lists: "):])  # the key says it instead
    return value


def _ssid(key, value):
    if isinstance(value, str) and len(value.encode()) > _MAX_SSID:  # 802.11 counts bytes: "ä" is two
        raise ConfigError(key, "too long for a WiFi name: at most %d bytes, this is %d (ä or é count 2, "
                               "an emoji 4)" % (_MAX_SSID, len(value.encode())))
    value = _text(key, value, _MAX_SSID)
    return value


def _wifi_password(key, value):
    value = _text(key, value, _MAX_WPA + 1)
    if len(value) == _MAX_WPA + 1 and _is_hex(value):
        return value  # the 256-bit pre-shared key itself, as 64 hex digits (802.11i)
    size = len(value.encode())
    if value and not _MIN_WPA <= size <= _MAX_WPA:
        raise ConfigError(key, "a WPA2 passphrase has %d to %d characters (bytes in UTF-8), or is "
                               "the key as %d hex digits" % (_MIN_WPA, _MAX_WPA, _MAX_WPA + 1))
    return value


def _dbm(key, value):
    # wifi.txpower: the most the radio may send, or None for the PHY's default (~20 dBm).
    # A form sends text: "" is the default, "8.5" a number.
    if isinstance(value, str):
        value = value.strip()
        try:
            if not _ascii(value):
                raise ValueError(value)  # CPython's float() takes "８.５", the device's not
            value = float(value) if value else None
        except ValueError:
            raise ConfigError(key, "must be a number of dBm, or null for the default")
    if value is None:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(key, "must be a number of dBm, or null for the default")
    if not _TXPOWER_MIN <= value <= _TXPOWER_MAX:
        raise ConfigError(key, "must be between %d and %d dBm, or null for the default"
                          % (_TXPOWER_MIN, _TXPOWER_MAX))
    return value


def _expiry(key, value):
    # Shorter than a few pushes, every reading would flicker unavailable between them.
    value = _int(key, value, 0, 86400)
    if 0 < value < 30:
        raise ConfigError(key, "must be 0 (never) or at least 30 seconds")
    return value


def _is_hex(value):
    for ch in value.lower():
        if ch not in _HEX:
            return False
    return True


# One checker per dotted key: (section, name) -> function(key, value) -> value.
_CHECKS = {
    "meter.source": _source,
    "meter.baud": lambda k, v: _choice(k, _int(k, v, 1, 1000000), BAUD_RATES),
    "meter.format": lambda k, v: _choice(k, _text(k, v, 3).upper(), LINE_FORMATS),
    "meter.key": key_hex,
    "meter.auth_key": key_hex,
    "meter.profile": _profile,
    "meter.lists": _lists,
    "mqtt.host": _host,
    "mqtt.port": lambda k, v: _int(k, v, 1, 65535),
    "mqtt.user": lambda k, v: _mqtt_chars(k, _text(k, v), "a user name"),
    "mqtt.password": _text,
    "mqtt.prefix": _prefix,
    "mqtt.discovery": _bool,
    "mqtt.discovery_prefix": _prefix,
    "mqtt.layout": lambda k, v: _choice(k, v, LAYOUTS),
    "mqtt.vse_group": lambda k, v: _ident(k, v, False),
    "mqtt.keepalive": lambda k, v: _int(k, v, 2, 3600),
    "mqtt.expire_after": _expiry,
    "http.port": lambda k, v: _int(k, v, 0, 65535),
    "wifi.ssid": _ssid,
    "wifi.password": _wifi_password,
    "wifi.txpower": _dbm,
    "admin.password": _text,
    "device_id": lambda k, v: _ident(k, v, True),
    "board": lambda k, v: _ident(k, v, True),
}


def _merge_section(name, defaults, given):
    if not isinstance(given, dict):
        raise ConfigError(name, "must be an object")
    out = {}
    for key in given:
        if key not in defaults:
            raise ConfigError("%s.%s" % (name, key), "unknown setting")
    for key in defaults:
        dotted = "%s.%s" % (name, key)
        out[key] = _CHECKS[dotted](dotted, given.get(key, defaults[key]))
    return out


def validate(cfg, default_device_id=None):
    """Return a complete, normalised copy of ``cfg`` or raise ConfigError.

    ``default_device_id`` fills an empty ``device_id`` (the board layer passes
    the chip id or host name); without one an empty id stays empty, so that a
    saved file keeps following the board's default.
    """
    if not isinstance(cfg, dict):
        raise ConfigError("(top)", "the configuration must be a JSON object")
    for key in cfg:
        if key not in DEFAULTS:
            raise ConfigError(key or '""', "unknown setting")
    out = {}
    for key in DEFAULTS:
        default = DEFAULTS[key]
        if isinstance(default, dict):
            out[key] = _merge_section(key, default, cfg.get(key, {}))
        else:
            out[key] = _CHECKS[key](key, cfg.get(key, default))
    if out["device_id"] == "" and default_device_id:
        out["device_id"] = _ident("device_id", default_device_id, False)
    return out


def get(cfg, dotted):
    """The value at a dotted key, e.g. ``get(cfg, "mqtt.port")``."""
    node = cfg
    for part in dotted.split("."):
        node = node[part]
    return node


def load(path, default_device_id=None):
    """Read and validate the file at ``path``; a missing file means all defaults."""
    try:
        size = os.stat(path)[6]
    except OSError:
        return validate({}, default_device_id)
    if size > _MAX_FILE:
        raise ConfigError("(file)", "%s is %d bytes, more than a configuration holds (%d)" % (path, size, _MAX_FILE))
    return validate(_parsed(path), default_device_id)


def _parsed(path):
    # The file's JSON; every way it can fail to be one is refused by name, so that the
    # portal opens instead of a traceback (a Windows editor saves "é" as Latin-1).
    try:
        with open(path, "rb") as f:
            text = str(f.read(), "utf-8")
    except OSError as e:
        raise ConfigError("(file)", "cannot read %s: %s" % (path, e))
    except UnicodeError:
        raise ConfigError("(file)", "%s is not UTF-8 text" % path)
    if text.startswith("\ufeff"):
        text = text[1:]  # the byte-order mark Windows Notepad writes (RFC 8259 8.1: ignorable)
    try:
        return json.loads(text)
    except ValueError:
        raise ConfigError("(file)", "%s is not valid JSON" % path)
    except (RuntimeError, MemoryError):  # the parser's depth: CPython recursion, MicroPython's stack
        raise ConfigError("(file)", "%s nests too deep, or is too large, to read" % path)


def save(path, cfg):
    """Validate and write ``cfg`` atomically: a temp file, then a rename.

    A power cut mid-write leaves the old file intact (the rename is the only
    step that replaces it). Returns the normalised configuration written.
    """
    cfg = validate(cfg)
    _make_folder(path)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(cfg))
    try:
        os.rename(tmp, path)
    except OSError:
        # FAT cannot rename onto an existing file: remove it, then rename.
        os.remove(path)
        os.rename(tmp, path)
    return cfg


def _make_folder(path):
    # The unix port's default file is var/config.json, and a fresh checkout has no var/:
    # the portal's first save failed with ENOENT. One level is made, as that needs.
    cut = path.rfind("/")
    if cut > 0:
        try:
            os.stat(path[:cut])
        except OSError:
            os.mkdir(path[:cut])

