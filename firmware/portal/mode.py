"""Portal or station: the boot decision (issue 4), kept pure so it can be tested.

The dongle opens its access point and the captive portal only when

1. the button is held in the first seconds after a start, while the LED blinks fast (the
   owner is standing next to it; board/esp32.py), or
2. there is no valid configuration, or
3. the station could not join the configured WiFi *and* has never joined it since the
   configuration was last changed (the settings are probably wrong).

A configured dongle that has joined before never falls back to the portal just because its
network is unreachable: a jammer or a rogue access point must not be able to pull it into
portal mode. It keeps retrying as a station instead.

When the first attempts with new settings fail, the station asks for the portal with a
one-shot flag file ``<config>.portal`` and reboots (``request_portal``); the next boot
reads and clears it (``take_portal_request``) and passes it to ``choose`` as ``join_failed``.

"Joined since the last change" is remembered in a small file beside the configuration:
``<config>.joined`` holds a stamp (hash) of the configuration file's bytes, written after a
successful join. Saving a new configuration changes the bytes, so the stamp no longer matches.
"""

import binascii
import hashlib

from portal import const

PORTAL = "portal"
STATION = "station"

_STAMP_BYTES = const(8)  # 64 bits of SHA-256: collisions between two configs are not a concern
_STAMP_CHUNK = const(256)  # bytes hashed per read: no file-sized buffer on a small heap


def choose(config_ok, button_held, joined_before, join_failed=False):
    """PORTAL or STATION from the four facts the boot sequence knows.

    ``join_failed`` is False at boot (before any attempt) and True once the station gave
    up its first join attempt with this configuration.
    """
    if button_held or not config_ok:
        return PORTAL
    if join_failed and not joined_before:
        return PORTAL
    return STATION


def config_ready(cfg):
    """True when a validated configuration names a WiFi network to join."""
    return bool(cfg) and bool(cfg.get("wifi", {}).get("ssid"))


def stamp(config_path):
    """Hex stamp of the configuration file's bytes, or None when there is no file."""
    digest = hashlib.sha256()
    buf = bytearray(_STAMP_CHUNK)
    try:
        with open(config_path, "rb") as f:
            while True:
                n = f.readinto(buf)
                if not n:
                    break
                digest.update(memoryview(buf)[:n])
    except OSError:
        return None
    return binascii.hexlify(digest.digest()[:_STAMP_BYTES]).decode()


def joined_before(config_path):
    """True when the station joined with exactly the configuration now stored."""
    current = stamp(config_path)
    if current is None:
        return False
    try:
        with open(config_path + ".joined") as f:
            return f.read().strip() == current
    except OSError:
        return False


def mark_joined(config_path):
    """Remember that the station joined with the stored configuration (call once per boot)."""
    current = stamp(config_path)
    if current is None or joined_before(config_path):
        return
    with open(config_path + ".joined", "w") as f:
        f.write(current)


def request_portal(config_path):
    """Ask the next boot to open the portal (the new settings never joined)."""
    with open(config_path + ".portal", "w") as f:
        f.write("1")


def refused(config_path):
    """Ask the next boot to open the portal, joined before or not: the gateway refused the
    stored configuration at start."""
    import os

    try:
        os.remove(config_path + ".joined")
    except OSError:
        pass
    request_portal(config_path)


def take_portal_request(config_path):
    """True once after request_portal(); the flag is removed so it cannot loop."""
    import os

    try:
        os.remove(config_path + ".portal")
    except OSError:
        return False
    return True
