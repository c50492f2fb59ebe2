"""Mount /config on the gateway's HTTP server (station mode) without loading the portal.

The page, the form rules and the guard cost ~15 kB of RAM on the device (~25 kB on the
64-bit unix port); a gateway that is never reconfigured should not pay for them. ``mount``
registers a small handler that imports portal.app on the first request to /config and
keeps that one Portal (and so its failed-attempt counter) for later requests.

    from portal import lan
    lan.mount(server, config_path, device_id, restart=board.reset)   # in app/api.register

After a successful save ``restart`` (if given) is called RESTART_DELAY seconds later, once
the "saved" page has gone out, so the new settings take effect.
"""

RESTART_DELAY = 2  # seconds for the "saved" page to reach the browser before the reset


def mount(server, config_path, device="meterlink", restart=None):
    """Serve GET/POST /config behind the admin password (portal/auth.py)."""
    held = []

    def config_page(request):
        if not held:
            from portal.app import Portal

            held.append(Portal(config_path, device))
            if restart is not None:
                _restart_after_save(held[0], restart)
        return held[0].guarded(request)

    server.route("/config", config_page, ("GET", "POST"))


def _restart_after_save(portal, restart):
    try:
        import asyncio
    except ImportError:  # MicroPython before 1.21
        import uasyncio as asyncio

    async def wait():
        await portal.wait_saved()
        await asyncio.sleep(RESTART_DELAY)
        restart()

    asyncio.create_task(wait())
