"""Mount /config on the gateway's HTTP server (station mode) without loading the portal.

The page, the form rules and the guard cost ~15 kB of RAM on the device (~25 kB on the
64-bit unix port); a gateway that is never reconfigured should not pay for them. ``mount``
registers a small handler that imports portal.app on the first request to /config and
keeps that one Portal (and so its failed-attempt counter) for later requests.

    from portal import lan
    lan.mount(server, config_path, device_id)     # in app/api.register
"""


def mount(server, config_path, device="meterlink"):
    """Serve GET/POST /config behind the admin password (portal/auth.py)."""
    held = []

    def config_page(request):
        if not held:
            from portal.app import Portal

            held.append(Portal(config_path, device))
        return held[0].guarded(request)

    server.route("/config", config_page, ("GET", "POST"))
