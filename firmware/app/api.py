"""The REST API on web/server.py: readings, status and Prometheus metrics.

    GET /api/v1/readings  the merged snapshot (same JSON as the MQTT state topic)
    GET /api/v1/status    version, uptime, telegrams, errors by kind, last error,
                          meter/MQTT/WiFi state, free heap
    GET /metrics          readings and counters in Prometheus text format
    GET/POST /config      the setup page behind the admin password (portal/lan.py)
    GET /                 a page that shows the readings to a person, linking the above (app/page.py)

``setup_access_point`` in the status names the AP the dongle opens for setup (button at
boot) and its WPA2 passphrase, which is public by design (portal/ap.py). No secret of
the configuration (WiFi, MQTT, admin passwords, meter keys) is in any response.

Everything else is the server's business: unknown paths 404, other methods
405, bounded requests and timeouts (web/server.py).
"""

from app import VERSION, unload
from app.clock import now

# The setup AP's {"ssid", "password"} (None in a build without the portal). register()
# asks portal/ap.py once and drops it: held for every status read, it kept ~0.5 kB of
# code loaded beside a ROMFS image, and each read built the same dict again (~0.9 kB).
_setup_ap = None


def status(app):
    """The status document (also the source of /metrics counters)."""
    errors = app.decoder.errors
    mqtt = app.mqtt
    return {
        "version": VERSION,
        "device_id": app.cfg["device_id"],
        "board": app.board.name,
        "uptime_s": app.uptime_s(),
        # False: the ESP32's watchdog is no longer fed and restarts the dongle (app.healthy).
        "healthy": app.healthy(),
        "time": now(),
        "telegrams": app.decoder.telegrams,
        "errors": errors.counts,
        "last_error": errors.last_error,
        "last_error_time": errors.last_error_time,
        "meter": {
            "source": app.cfg["meter"]["source"],
            "connected": app.reader.connected,
            "connects": app.reader.connects,
            "bytes": app.reader.bytes_read,
            "memory_errors": app.reader.memory_errors,
            "readings": len(app.store.readings),
            # Readings of codes past store.MAX_CODES, dropped (counted per telegram).
            "dropped_readings": app.store.dropped_codes,
            "last_telegram_time": app.store.updated,
        },
        "mqtt": {
            "enabled": bool(app.cfg["mqtt"]["host"]),
            "connected": mqtt.connected,
            "connects": mqtt.connects,
            "published": mqtt.published,
            "last_error": mqtt.last_error,
            "last_error_time": mqtt.last_error_time,
            "memory_streak": mqtt.memory_streak,
        },
        "wifi": {"connected": app.board.network_up(), "rssi": app.board.rssi()},
        "free_heap": app.board.mem_free(),
        # Named from the board's id, as portal/boot.py names it, whatever device_id says.
        "setup_access_point": _setup_ap,
    }


def register(server, app):
    """Add the routes to a ``web.server.HttpServer`` (/config when the app knows its file)."""
    global _setup_ap
    from web.message import JSON_PIECE, pieces, slices
    from web.server import response

    import sys

    # The portal package goes too unless something loaded it before (portal/boot.py on
    # the ESP32 does). Loaded with the API, not by a status read: a module appearing
    # between two free_heap readings would read as a leak.
    drop = ("portal.ap",) if "portal" in sys.modules else ("portal.ap", "portal")
    try:
        from portal.ap import public_info
    except ImportError:  # a build without the portal
        pass
    else:
        _setup_ap = public_info(app.board.device_id())
        del public_info
        unload(drop)

    def readings(request):
        # Copied out of the snapshot buffer, which MQTT reuses while the reply is sent;
        # the slices go out as they are, not joined back into 1 kB pieces. A snapshot
        # rendered in pieces is such copies already.
        body = app.snapshot.render(app.store)
        return pieces(200, body if type(body) is list else slices(body), "application/json", None, JSON_PIECE)

    def status_handler(request):
        return response(200, status(app))

    def index(request):
        # The dongle's address in a browser (make run prints it, a router lists it)
        # answered 404 in JSON. The page is a constant of a module loaded for the
        # request: the browser draws the readings from the JSON. Only names the gateway
        # holds anyway ("page", "body", its name from __name__, no "app.page" literal):
        # two new ones here took a gateway saving /config past its name pool's next block.
        from app import page

        body = page.body
        unload((page.__name__,))
        return pieces(200, body, target=JSON_PIECE)  # each piece as it is, none joined

    def metrics_handler(request):
        from app import metrics  # loaded by the first scrape, not by every gateway

        # Line by line into ~256-byte pieces: the whole text is one block too many near the floor.
        return pieces(200, metrics.lines(status(app), app.store.readings), metrics.CONTENT_TYPE, None, JSON_PIECE)

    server.route("/api/v1/readings", readings)
    server.route("/api/v1/status", status_handler)
    server.route("/metrics", metrics_handler)
    server.route("/", index)
    if app.config_path:
        _mount_config(server, app)


def _mount_config(server, app):
    # portal/lan.py is loaded by the first /config request, not at start: a gateway
    # that is never reconfigured over the LAN does not hold it (~0.9 kB). That request
    # mounts the real handler over this one and is handed on to it.
    def first_config(request):
        try:
            from portal import lan
        except ImportError:  # a build without the portal: as if there were no /config
            from web.message import HttpError

            raise HttpError(404, "no such path: %s" % request.path)
        lan.mount(server, app.config_path, app.board.device_id(), restart=app.request_restart)
        return server.find(request.path)[0](request)

    server.route("/config", first_config, ("GET", "POST"))
