"""The portal form -> a validated configuration, with one message per wrong field.

Form field names are the configuration's dotted keys (``mqtt.port``), plus three that are
the page's own:

    wifi.ssid        the network picked from the scan list ("" = typed below)
    wifi.ssid_other  a hidden network's name, typed; wins over the list when filled
    meter            a preset id from meters.PRESETS (sets meter.profile, meter.baud and meter.format),
                     or "current" to keep a profile the presets do not list

Secrets (config.SECRET_KEYS) are never sent to the browser, so an empty secret field means
"keep the stored value". The checkbox ``mqtt.discovery`` is absent from a form when off.
``mqtt.vse_group`` is taken only with ``mqtt.layout`` "vse" (the page hides it otherwise).
A hidden field ``revision`` carries ``revision()`` of the settings the page showed (app.py
refuses a save over settings changed since).

Every field is checked by config.validate (one rule book for the file, the API and the
portal): each failure is recorded against its key and the stored value put back, and the
check repeats, so the page can show every wrong field at once, not just the first.
"""

import json

import config
from portal import const, meters

TEXT_KEYS = ("wifi.txpower", "mqtt.host", "mqtt.port", "mqtt.user", "mqtt.prefix", "mqtt.layout")
_MIN_ADMIN = const(8)  # the admin password guards the meter key on the LAN: no 4-digit PINs
_MAX_ROUNDS = const(24)  # one validate() round per wrong field; the form has fewer fields


def _set(cfg, dotted, value):
    section, _, name = dotted.partition(".")
    if name:
        cfg.setdefault(section, {})[name] = value
    else:
        cfg[section] = value


def _get(cfg, dotted, default=None):
    section, _, name = dotted.partition(".")
    node = cfg.get(section, default if not name else {})
    if not name:
        return node
    return node.get(name, default) if isinstance(node, dict) else default


def ssid_of(form):
    """The SSID the form names: a typed hidden network wins over the list."""
    # A typed name loses the spaces around it (a phone keyboard adds one after a word);
    # one picked from the scan is taken as it is: an SSID is any bytes (802.11), spaces
    # around it included.
    typed = form.get("wifi.ssid_other", "").strip()
    return typed or form.get("wifi.ssid", "")


def _apply_meter(cfg, form, errors):
    choice = form.get("meter", meters.DEFAULT)
    if choice == "current":
        return
    preset = meters.find(choice)
    if preset is None:
        errors["meter"] = "choose one of the listed meters"
        return
    _set(cfg, "meter.profile", preset[2])
    _set(cfg, "meter.baud", preset[3])
    _set(cfg, "meter.format", preset[4])


def _merge(form, stored, errors):
    cfg = json.loads(json.dumps(stored))
    _set(cfg, "wifi.ssid", ssid_of(form))
    if _get(cfg, "wifi.ssid") != _get(stored, "wifi.ssid"):
        # Another network: the stored password is the old one's. Left empty, the field
        # means an open network, as its hint says, not the old network's password kept.
        _set(cfg, "wifi.password", "")
    for key in TEXT_KEYS:
        if key in form:
            _set(cfg, key, form[key].strip())
    if _get(cfg, "mqtt.layout") == "vse" and "mqtt.vse_group" in form:
        _set(cfg, "mqtt.vse_group", form["mqtt.vse_group"].strip())
    _set(cfg, "mqtt.discovery", "mqtt.discovery" in form)
    for key in config.SECRET_KEYS:
        typed = form.get(key, "")
        if typed:
            _set(cfg, key, typed.strip() if key.startswith("meter.") else typed)
    _apply_meter(cfg, form, errors)
    return cfg


def _portal_rules(form, cfg, errors, wifi):
    """What the portal needs beyond a valid file: a network to join (``wifi``: a device that
    joins one) and an admin password."""
    if wifi and not _get(cfg, "wifi.ssid"):
        errors["wifi.ssid"] = "choose a network or type its name"
    typed = form.get("admin.password", "")
    if typed and len(typed) < _MIN_ADMIN:
        errors["admin.password"] = "at least %d characters" % _MIN_ADMIN
    elif not _get(cfg, "admin.password"):
        errors["admin.password"] = "set an admin password for later changes"


def _restore(cfg, key, stored):
    if key in config.DEFAULTS or "." in key:
        fallback = _get(config.DEFAULTS, key)
        _set(cfg, key, _get(stored, key, fallback))


def apply(form, stored, wifi=True):
    """(configuration, errors) from a posted form and the stored configuration.

    ``errors`` maps a field name to its message; the configuration is only fit to save
    when ``errors`` is empty. ``wifi`` False: no network is needed (/config of a gateway on
    the unix port, which has no radio).
    """
    errors = {}
    cfg = _merge(form, stored, errors)
    _portal_rules(form, cfg, errors, wifi)
    for _ in range(_MAX_ROUNDS):
        try:
            cfg = config.validate(cfg)
            _typed_ssid_errors(form, errors)
            return cfg, errors
        except config.ConfigError as e:
            if e.key in errors and _get(cfg, e.key) == _get(stored, e.key):
                return stored, errors  # the stored value itself fails: give up cleanly
            errors.setdefault(e.key, e.message)
            _restore(cfg, e.key, stored)
    errors.setdefault("form", "too many errors")
    return stored, errors


def _typed_ssid_errors(form, errors):
    # A typed hidden network's name that is refused: the message goes beside the box it
    # was typed in, not beside the list (where the name would then show as if picked).
    if "wifi.ssid" in errors and form.get("wifi.ssid_other", "").strip():
        errors["wifi.ssid_other"] = errors.pop("wifi.ssid")


def revision(cfg):
    """A short digest of a configuration, for the page's hidden field: it changes when any
    setting does, but of the secrets only whether each is set goes in. The page is open to
    anyone on the public setup AP, and a digest over the admin password would let them
    test guesses offline, past auth.py's lockout; a secret's new value cannot be lost to
    another tab anyway: an empty secret field keeps the stored one."""
    import binascii
    import hashlib

    digest = hashlib.sha256()
    for section in sorted(cfg):  # sorted: the same settings, whatever order the dicts keep
        node = cfg[section]
        for name, value in sorted(node.items()) if isinstance(node, dict) else (("", node),):
            if section + "." + name in config.SECRET_KEYS:
                value = bool(value)
            digest.update(json.dumps([section, name, value]).encode())
    # 64 bits: two configurations never share one by chance.
    return binascii.hexlify(digest.digest()[:8]).decode()


def stored_or_defaults(path):
    """The stored configuration, or the defaults when the file is missing or invalid."""
    try:
        return config.load(path)
    except config.ConfigError:
        return config.validate({})
