"""Boot into the portal or the gateway (issue 4): the glue between mode.py, the board's
access point and the captive portal.

    load config ─► mode.choose(valid?, button held?, joined before?)
        portal ─► board.start_ap("meterlink-XXXX", AP_PASSWORD) ─► DNS :53 + HTTP :80
                   ─► saved ─► RESTART_DELAY ─► board.reset() (device) / station (unix)
        station ─► the gateway (app/app.py)

The access point belongs to the board layer (board/esp32.py; unix has none and serves on
loopback). Board methods used here, each optional so an older board file still boots:
``button_held()``, ``start_ap(ssid, password, txpower) -> ip``, ``scan() -> [ssid]``, ``stop_ap()``,
``reset()``.

On unix: ``micropython -m portal.boot --config FILE [--portal-port N] [--dns-port N] [--portal-host H]``
(or ``-c "from portal import boot; boot.main()"``) — the same code as on the device.
"""

import sys

try:
    import asyncio
except ImportError:  # MicroPython before 1.21
    import uasyncio as asyncio

from app import command_line, unload
from portal import mode

# The AP's name and its public WPA2 passphrase live in portal/ap.py (the status API shows
# them without loading the portal); re-exported here, where design.md names them.
from portal.ap import AP_ID_DIGITS, AP_PASSWORD, AP_PREFIX, ap_ssid  # noqa: F401

RESTART_DELAY = 2  # seconds: the "saved" page must reach the phone before the AP goes down
# Seconds new settings get to join before the portal reopens: board/esp32.py tries for
# 20 s per attempt with backoff, so this allows three attempts.
JOIN_TIMEOUT = 60
# Seconds between an error that ended the program on the device and the restart: time to
# read it on the USB console, and a crash at every boot does not restart the radio nonstop.
CRASH_RESTART_S = 10
UNIX_AP_IP = "127.0.0.1"  # the unix port has no access point: the portal serves on loopback


def _call(board, name, *args):
    fn = getattr(board, name, None)
    return fn(*args) if fn is not None else None


def load(path, device_id):
    """(configuration, ok): ok when it validates and names a network to join."""
    # Imported here, not at the top: the station-mode watch_join task keeps this module
    # loaded, and the validation tables are ~10 kB the running gateway never needs.
    import config

    try:
        cfg = config.load(path, device_id)
    except config.ConfigError as e:
        print("portal: configuration %s refused: %s" % (path, e))
        return None, False
    return cfg, mode.config_ready(cfg)


async def run_portal(path, device, ap_ip, networks, http_port=80, dns_port=53, host="0.0.0.0",
                     require_admin=False):
    """Serve the captive portal until a valid configuration is saved; returns it."""
    from portal.app import Portal
    from portal.dns import DnsResponder
    from web.server import IDLE_TIMEOUT, HttpServer

    portal = Portal(path, device, networks, require_admin=require_admin)
    server = HttpServer(http_port, host)
    portal.captive_routes(server, ap_ip)
    dns = DnsResponder(ap_ip, dns_port, host)
    dns.open()
    await server.start()
    task = asyncio.create_task(dns.run())
    print("portal: setup page on http://%s:%d/ (DNS on %d)" % (ap_ip, http_port, dns_port))
    try:
        cfg = await portal.wait_saved()
        await asyncio.sleep(RESTART_DELAY)
    finally:
        await server.close_and_wait()
        dns.close()
        task.cancel()
        try:
            await task  # let the cancellation finish, so no task outlives the portal
        except asyncio.CancelledError:
            pass
    # A connection still open (a browser's idle pre-connect, until IDLE_TIMEOUT) holds the
    # server, its routes and so the whole portal (~40 kB); on the unix port the gateway
    # starts next in this process and needs that heap (after a save from Chromium it did not
    # start in 256 kB).
    for _ in range(IDLE_TIMEOUT * 10):
        if not server.clients:
            break
        await asyncio.sleep(0.1)
    return cfg


def provision(board, path, http_port=80, dns_port=53, host="0.0.0.0"):
    """Run the portal when the boot decision says so; returns True if it ran."""
    device = board.device_id()
    cfg, ok = load(path, device)
    held = bool(_call(board, "button_held"))
    failed = mode.take_portal_request(path)
    if mode.choose(ok, held, mode.joined_before(path), failed) != mode.PORTAL:
        return False
    ssid = ap_ssid(device)
    # A stored wifi.txpower holds for the access point too (None: the board file's cap).
    txpower = cfg["wifi"]["txpower"] if cfg else None
    ip = _call(board, "start_ap", ssid, AP_PASSWORD, txpower) or UNIX_AP_IP
    networks = _call(board, "scan") or []
    print("portal: access point %s (button %s, config %s)"
          % (ssid, "held" if held else "up", "ready" if ok else "sets no WiFi network"))
    # Without the button, a stored admin password must be typed to change anything.
    asyncio.run(run_portal(path, device, ip, networks, http_port, dns_port, host, not held))
    _call(board, "stop_ap")
    print("portal: saved, restarting into station mode")
    _call(board, "reset")  # the device reboots here; unix goes on into station mode
    # The gateway gets the portal's RAM back (unix: it runs on in this same process).
    unload(("portal.app", "portal.page", "portal.form", "portal.meters", "portal.auth",
            "portal.dns"))
    return True


async def watch_join(board, path, timeout=JOIN_TIMEOUT, step=1):
    """Station-mode task: remember a successful join; reopen the portal (by a reboot) when
    settings that never joined still do not after ``timeout`` seconds. Settings that joined
    before are never given up on: a jammer must not reopen the portal."""
    waited = 0
    while waited < timeout:
        if board.network_up():
            mode.mark_joined(path)
            return True
        await asyncio.sleep(step)
        waited += step
    if board.network_up():
        mode.mark_joined(path)
        return True
    if mode.choose(True, False, mode.joined_before(path), True) == mode.PORTAL:
        print("portal: WiFi never joined with these settings, reopening the portal")
        mode.request_portal(path)
        _call(board, "reset")
    return False


def main(argv=None, board=None, on_device=sys.platform == "esp32"):
    """Portal if needed, then the gateway, in one process on unix. On the device nothing
    returns: an error or a stop that would leave the dongle at the REPL, where nobody is,
    until it is unplugged (the watchdog may not be running yet), restarts it instead; after
    the gateway refused its configuration (status 2), into the portal."""
    argv = sys.argv if argv is None else argv
    if not on_device:
        return _boot(board or _board(), argv)
    try:
        try:
            board = board or _board()
            status = _boot(board, argv)
            print("meterlink: the gateway stopped (status %s)" % status)
            if status == 2:
                # A check only the gateway makes (an unknown meter profile): the boot
                # decision took the settings for good, and would take them again at every boot.
                mode.refused(board.config_path())
        except Exception as e:  # Ctrl-C at the USB console still stops at the REPL
            sys.print_exception(e)
        print("meterlink: restarting in %d s (Ctrl-C for the REPL)" % CRASH_RESTART_S)
        import time

        time.sleep(CRASH_RESTART_S)
    except KeyboardInterrupt:
        # The REPL for as long as it is needed: a watchdog the gateway started is parked.
        _call(board, "watchdog_park")  # (None: no Board, so no watchdog either)
        raise
    if board is None:  # making the Board failed (out of memory, say): its module restarts
        from board.esp32 import reset
    else:
        reset = board.reset
    reset()


def _board():
    from board import Board

    return Board()


def _boot(board, argv):
    options = command_line(argv)
    if options is None:
        return 2
    try:
        ports = int(options.get("--portal-port", 80)), int(options.get("--dns-port", 53))
    except ValueError:
        print("meterlink: --portal-port and --dns-port take a port number")
        return 2
    path = options.get("--config") or board.config_path()
    provision(board, path, ports[0], ports[1], options.get("--portal-host", "0.0.0.0"))
    if _call(board, "network_up"):
        mode.mark_joined(path)
    from app.app import main as gateway

    return gateway(argv)


if __name__ == "__main__":
    sys.exit(main() or 0)
