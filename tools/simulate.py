"""Meter simulator: SiL-like encrypted pushes over TCP, the way ser2net exposes a port.

Replays the two push lists of the SiL customer interface
(/work/shared/spec/sil-push-lists.md): "consumer information 1" (24 objects,
every 5 s) and the "consumer message" (15 objects, once a minute), with values
that change from push to push (power follows a slow wave, energy registers
integrate it). Frames are HDLC (AM550/E360 style, segmented) or M-Bus long
frames (E450 S5 / Kaifa style), ciphered with general-glo-ciphering.

Push ``n`` (0, 1, 2, …) is the 5-second list, followed by the minute list
when ``n % minute_every == 0``. Everything about push ``n`` is a pure
function of ``n`` (``expected(n)``), so tests know exactly what the gateway
must publish.

    python tools/simulate.py --port 7000 --framing mbus --key 00112233… --interval 5

The server accepts one client at a time (a meter port has one reader) and
starts over at push 0 for every new connection (``Simulator(resume=True)``, as
tools/chaos.py uses it, goes on counting instead).

The meter clock of push 0 is START, fixed for the tests. ``--now``
(``Simulator(wall_clock=True)``, what `make run` uses) gives each push the time
of day in Swiss time instead (CET or CEST, as the meter's clock shows it), push 0
being the minute the simulator started: the newcomer's dashboard shows today, and
the minute list still comes at second 00. A push is never stamped behind the
clock: a connection, or a push after the machine slept, takes the current 5 s.
"""

import argparse
import math
import socket
import struct
import sys
import threading
import time

import simframes as sf

DEFAULT_KEY = "5AD84121D9D20B364B7A11F3C1B5827F"
DEFAULT_AUTH_KEY = "AFB3F93E3E7204CDB495D4B2BA7E8C74"
SYSTEM_TITLE = b"SIM" + bytes([0x01, 0x02, 0x03, 0x04, 0x05])
METER_ID = "71000042"
MESSAGE = "Services industriels (simulated)"
START = (2026, 11, 25, 12, 0, 0)  # the meter clock of push 0
DEVIATION = -60  # CET: local time is UTC + 60 min (DLMS counts UTC - local)
DAYLIGHT_SAVING = 0x80  # clock status bit: daylight saving active

# The 5-second list: (OBIS, unit, scaler, base raw value, swing of the wave).
INFO_LIST = [
    ("1-0:1.7.0", "W", 0, 1500, 900), ("1-0:2.7.0", "W", 0, 0, 0),
    ("1-0:3.7.0", "var", 0, 200, 50), ("1-0:4.7.0", "var", 0, 10, 5),
    ("1-0:32.7.0", "V", -1, 2301, 20), ("1-0:52.7.0", "V", -1, 2315, 20),
    ("1-0:72.7.0", "V", -1, 2298, 20), ("1-0:31.7.0", "A", -2, 220, 130),
    ("1-0:51.7.0", "A", -2, 210, 130), ("1-0:71.7.0", "A", -2, 200, 130),
    ("1-0:91.7.0", "A", -2, 15, 10), ("1-0:21.7.0", "W", 0, 500, 300),
    ("1-0:41.7.0", "W", 0, 520, 300), ("1-0:61.7.0", "W", 0, 480, 300),
    ("1-0:22.7.0", "W", 0, 0, 0), ("1-0:42.7.0", "W", 0, 0, 0),
    ("1-0:62.7.0", "W", 0, 0, 0), ("1-0:23.7.0", "var", 0, 60, 20),
    ("1-0:43.7.0", "var", 0, 70, 20), ("1-0:63.7.0", "var", 0, 70, 20),
    ("1-0:24.7.0", "var", 0, 3, 2), ("1-0:44.7.0", "var", 0, 3, 2),
    ("1-0:64.7.0", "var", 0, 4, 2),
]
# The minute list's registers: (OBIS, unit, start value, share of the power).
ENERGY_LIST = [
    ("1-0:1.8.1", "Wh", 8123456, 0.4), ("1-0:1.8.2", "Wh", 6234567, 0.6),
    ("1-0:2.8.1", "Wh", 12345, 0.0), ("1-0:2.8.2", "Wh", 23456, 0.0),
    ("1-0:3.8.1", "varh", 345678, 0.05), ("1-0:3.8.2", "varh", 456789, 0.08),
    ("1-0:4.8.1", "varh", 5678, 0.0), ("1-0:4.8.2", "varh", 6789, 0.0),
]
SECONDS_PER_PUSH = 5
MINUTE_EVERY = 12


def _raw(entry, n):
    base, swing = entry[3], entry[4]
    return base + int(round(swing * math.sin(n / 7.0)))


def energies(n):
    """Register values at push n: start + integral of the wave, whole Wh."""
    out = {}
    for obis, unit, start, share in ENERGY_LIST:
        out[obis] = (start + int(share * 1500 * SECONDS_PER_PUSH * n / 3600.0), unit)
    for total, parts in (("1-0:1.8.0", "1-0:1.8."), ("1-0:2.8.0", "1-0:2.8."),
                         ("1-0:3.8.0", "1-0:3.8."), ("1-0:4.8.0", "1-0:4.8.")):
        out[total] = (out[parts + "1"][0] + out[parts + "2"][0], out[parts + "1"][1])
    return out


def clock(n):
    """Meter local time of push n as a tuple (y, m, d, H, M, S)."""
    import datetime

    t = datetime.datetime(*START) + datetime.timedelta(seconds=SECONDS_PER_PUSH * n)
    return (t.year, t.month, t.day, t.hour, t.minute, t.second)


def wall_stamp(seconds):
    """The 12-byte COSEM date-time a Swiss meter's clock shows at Unix time ``seconds``:
    Europe/Zurich local time, its deviation and the daylight-saving bit of the clock status
    (IEC 62056-6-2 4.1.6.1); CET all year where the machine has no zone data."""
    import datetime

    try:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo("Europe/Zurich")
    except (ImportError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        zone = datetime.timezone(datetime.timedelta(minutes=-DEVIATION))
    t = datetime.datetime.fromtimestamp(seconds, zone)
    # DLMS counts the deviation from local time to UTC: CET's +01:00 is -60.
    deviation = -int(t.utcoffset().total_seconds()) // 60
    return sf.date_time(t.year, t.month, t.day, t.hour, t.minute, t.second, deviation=deviation,
                        status=DAYLIGHT_SAVING if t.dst() else 0)


def info_values(n):
    """The 5-second list at push n: OBIS -> (scaled value, unit)."""
    out = {}
    for entry in INFO_LIST:
        raw, scaler = _raw(entry, n), entry[2]
        out[entry[0]] = (raw if scaler == 0 else round(raw * 10.0 ** scaler, 6), entry[1])
    return out


def expected(n, minute_every=MINUTE_EVERY):
    """What push n carries: list of (kind, {OBIS: (value, unit)}) in send order."""
    pushes = [("info", info_values(n))]
    if n % minute_every == 0:
        pushes.append(("minute", energies(n)))
    return pushes


def _info_apdu(n):
    entries = [sf.plain_entry("0-0:96.1.1", sf.octets(METER_ID.encode()))]
    for entry in INFO_LIST:
        tag = sf.T_INT32 if entry[1] in ("W", "var") else sf.T_UINT16
        entries.append(sf.register(entry[0], _raw(entry, n), entry[2], entry[1], tag))
    return entries


def _minute_apdu(n, when):
    entries = [
        sf.plain_entry("0-0:96.1.1", sf.octets(METER_ID.encode())),
        sf.plain_entry("0-0:1.0.0", sf.octets(when)),
        sf.plain_entry("0-0:96.13.0", sf.octets(MESSAGE.encode())),
    ]
    for obis, (value, unit) in sorted(energies(n).items()):
        entries.append(sf.register(obis, value, 0, unit, sf.T_UINT32))
    return entries


def push_bytes(n, framing="hdlc", key=DEFAULT_KEY, auth_key=DEFAULT_AUTH_KEY, minute_every=MINUTE_EVERY, when=None):
    """The wire bytes of push n: one or two ciphered, framed notifications; ``when`` is their
    12-byte date-time (default: clock(n), CET)."""
    if when is None:
        when = sf.date_time(*clock(n), deviation=DEVIATION)
    out = b""
    for index, (kind, _) in enumerate(expected(n, minute_every)):
        entries = _info_apdu(n) if kind == "info" else _minute_apdu(n, when)
        counter = 2 * n + index + 1
        plain = sf.data_notification(counter, when, entries)
        apdu = sf.glo_cipher(plain, bytes.fromhex(key), SYSTEM_TITLE, counter,
                             bytes.fromhex(auth_key) if auth_key else None)
        out += sf.FRAMINGS[framing](apdu)
    return out


def iso_time(n):
    """The meter_time the decoder should report for push n."""
    return "%04d-%02d-%02dT%02d:%02d:%02d+01:00" % clock(n)


class Simulator:
    """A TCP meter port in a background thread; ``drop()`` cuts the client."""

    def __init__(self, port=0, framing="hdlc", key=DEFAULT_KEY, auth_key=DEFAULT_AUTH_KEY,
                 interval=SECONDS_PER_PUSH, minute_every=MINUTE_EVERY, count=None, resume=False, wall_clock=False):
        self.framing, self.key, self.auth_key = framing, key, auth_key
        self.interval, self.minute_every, self.count, self.resume = interval, minute_every, count, resume
        if wall_clock and interval != SECONDS_PER_PUSH:
            # Push n is the meter's time + 5n s: sent faster, its clock would run ahead.
            raise ValueError("a wall clock needs the meter's %d s between pushes" % SECONDS_PER_PUSH)
        # Unix time of push 0 on the wall clock (the minute it started: Swiss offsets are
        # whole hours, so the minute list lands at second 00), else None.
        self.epoch = time.time() // 60 * 60 if wall_clock else None
        self.sent = 0  # pushes sent over all connections
        self.next_push = self._due()
        self.connections = 0
        self._client = None
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(1)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self.drop()
        self._thread.join(5)
        self._listener.close()

    def drop(self):
        """Close the current client connection (the meter cable pulled)."""
        client, self._client = self._client, None
        if client is not None:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            client.close()

    def _run(self):
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            self._client = client
            if not self.resume:
                self.next_push = self._due()
            self._serve(client)

    def _due(self):
        # The push of the current 5 seconds on the wall clock (push 0 without one).
        if self.epoch is None:
            return 0
        return int((time.time() - self.epoch) // SECONDS_PER_PUSH)

    def stamp(self, n):
        """Push n's date-time on the wall clock; None (clock(n)) without one."""
        return None if self.epoch is None else wall_stamp(self.epoch + SECONDS_PER_PUSH * n)

    def _serve(self, client):
        deadline = time.monotonic()
        while not self._stop.is_set() and self._client is client:
            if self.count is not None and self.sent >= self.count:
                break  # done: the connection is closed, so a reader sees the end
            if self.epoch is not None:
                # Pacing counts monotonic time, which a sleeping laptop does not: catch up.
                self.next_push = max(self.next_push, self._due())
            data = push_bytes(self.next_push, self.framing, self.key, self.auth_key, self.minute_every,
                              self.stamp(self.next_push))
            try:
                client.sendall(data)
            except OSError:
                break
            self.next_push += 1
            self.sent += 1
            deadline += self.interval
            delay = deadline - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
        if self._client is client:
            self.drop()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=7000)
    p.add_argument("--framing", choices=sorted(sf.FRAMINGS), default="hdlc")
    p.add_argument("--key", default=DEFAULT_KEY, help="GUEK, 32 hex digits")
    p.add_argument("--auth-key", default=DEFAULT_AUTH_KEY, help="GAK, 32 hex digits ('' = no tag)")
    p.add_argument("--interval", type=float, default=SECONDS_PER_PUSH,
                   help="seconds between pushes (5 like the meter; 0.05 for tests)")
    p.add_argument("--fast", action="store_true", help="same as --interval 0.05")
    p.add_argument("--minute-every", type=int, default=MINUTE_EVERY,
                   help="send the minute list with every Nth push")
    p.add_argument("--count", type=int, default=None,
                   help="send this many pushes, then close the connection and exit")
    p.add_argument("--now", action="store_true",
                   help="the meter clock reads this machine's time, in Swiss time, with pushes 5 s apart "
                        "(default: it starts at 2026-11-25 12:00, as the tests expect)")
    args = p.parse_args(argv)
    keys = _checked(p, args)
    try:
        sim = Simulator(args.port, args.framing, keys[0], keys[1],
                        0.05 if args.fast else args.interval, args.minute_every, args.count,
                        wall_clock=args.now).start()
    except OSError as e:
        p.error("argument --port: cannot listen on 127.0.0.1:%d: %s" % (args.port, e.strerror or e))
    print("simulate: meter on tcp://127.0.0.1:%d (%s, 5 s list every %.2f s)" % (sim.port, args.framing, sim.interval))
    sys.stdout.flush()
    try:
        while args.count is None or sim.sent < args.count or sim.connections == 0 or sim._client is not None:
            time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    sim.stop()
    return 0


def _checked(parser, args):
    """The keys as 32 hex digits (written as the configuration takes them); the numbers in
    range. Unchecked, a bad key or --minute-every 0 passed here and killed the server
    thread at the first client, which then waited with no byte."""
    import os

    firmware = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "firmware")
    if firmware not in sys.path:
        sys.path.insert(0, firmware)
    import config

    keys = []
    for option, text in (("--key", args.key), ("--auth-key", args.auth_key)):
        try:
            keys.append(config.key_hex(option, text))
        except config.ConfigError as e:
            parser.error("argument %s: %s" % (option, e.message))
    if not keys[0]:
        parser.error("argument --key: the simulated meter encrypts: give a key")
    if not 0 < args.port < 65536:
        parser.error("argument --port: must be between 1 and 65535")
    if args.interval <= 0:
        parser.error("argument --interval: must be more than 0 seconds")
    if args.minute_every < 1:
        parser.error("argument --minute-every: must be 1 or more")
    if args.count is not None and args.count < 1:
        parser.error("argument --count: must be 1 or more")
    if args.now and (args.fast or args.interval != SECONDS_PER_PUSH):
        parser.error("argument --now: the meter's clock needs its %d s between pushes" % SECONDS_PER_PUSH)
    return keys


if __name__ == "__main__":
    sys.exit(main())
