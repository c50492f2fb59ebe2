"""Start the real boot sequence (portal, then gateway) under the MicroPython unix port.

``PortalRun`` writes a first-boot configuration (only what the unix board needs: where the
meter is), starts ``portal.boot.main`` on free loopback ports and records every HTTP body
the tests receive, so that a test can check that no secret ever left the device.
"""

import json
import os
import socket

from web_support import SERVE, Child, compiled_env, free_port, request

BOOT = """
from portal import boot
boot.main(["meterlink", "--config", %r, "--portal-port", "%d", "--dns-port", "%d",
           "--portal-host", "127.0.0.1"])
"""

LAN = """
import asyncio
from portal import lan
from web.server import HttpServer
srv = HttpServer(%d, "127.0.0.1")
lan.mount(srv, %r, "meterlink-test", restart=lambda saved: print("RESTART"))
"""


def unused_tcp_port():
    """A port nobody listens on: the meter the unix gateway will keep trying."""
    return free_port(socket.SOCK_STREAM)


class Bodies:
    """Every response body a test saw, to grep for secrets at the end."""

    def __init__(self):
        self.seen = []

    def request(self, port, method, path, **kw):
        status, headers, body = request(port, method, path, **kw)
        self.seen.append((method, path, status, body))
        return status, headers, body

    def leaks(self, secrets):
        found = []
        for method, path, status, body in self.seen:
            for secret in secrets:
                if secret.encode() in body or secret.upper().encode() in body:
                    found.append("%s %s -> %d contains %r" % (method, path, status, secret))
        return found


class PortalRun:
    """A first boot of the firmware on the unix port, in a temporary folder."""

    def __init__(self, folder, initial=None, env=None, expect="setup page on", files=None):
        self.folder = str(folder)
        self.config_path = os.path.join(self.folder, "config.json")
        self.http_port = free_port()
        self.portal_port = free_port()
        self.dns_port = free_port(socket.SOCK_DGRAM)
        cfg = {"meter": {"source": "tcp://127.0.0.1:%d" % unused_tcp_port()},
               "http": {"port": self.http_port}}
        cfg.update(initial or {})
        with open(self.config_path, "w") as f:
            json.dump(cfg, f)
        for suffix, text in (files or {}).items():  # e.g. {".portal": "1"}
            with open(self.config_path + suffix, "w") as f:
                f.write(text)
        code = BOOT % (self.config_path, self.portal_port, self.dns_port)
        self.child = Child("micropython", code, heapsize="256k", cwd=self.folder, env=env)
        self.child.wait_for(expect)
        self.bodies = Bodies()

    @property
    def portal_url(self):
        return "http://127.0.0.1:%d/" % self.portal_port

    def stored(self):
        with open(self.config_path) as f:
            return json.load(f)

    def stop(self):
        return self.child.stop()


class LanRun:
    """portal.lan.mount on its own server (what the gateway mounts at /config), from the
    .mpy build as the device loads it: compiled from source on every request, 128 kB would
    measure the compiler's heap, not the portal's.

    136 kB: a save refused as stale (409, the page with the stored settings and this tab's
    notes) is the heaviest answer. Measured 2026-11-27: it holds from 132 kB up and passes
    or fails between 112 and 128 kB as unrelated edits move blocks (at 128 kB it held
    before one lan.py line and failed after it; 124 kB the other way round)."""

    def __init__(self, config_path, heapsize="136k"):
        self.port = free_port()
        self.child = Child("micropython", LAN % (self.port, config_path) + SERVE,
                           heapsize=heapsize, env=compiled_env())
        self.child.wait_for("READY")
        self.bodies = Bodies()

    def stop(self):
        return self.child.stop()
