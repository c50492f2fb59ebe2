"""Millisecond ticks and wall time, the same on MicroPython and CPython."""

import time

try:
    ticks_ms = time.ticks_ms
    ticks_diff = time.ticks_diff
except AttributeError:  # CPython

    def ticks_ms():
        return int(time.monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b


# MicroPython on the ESP32 counts seconds from 2000-01-01, the unix port and
# CPython from 1970-01-01; the status document gives Unix seconds on every port.
UNIX_2000 = 946684800
EPOCH_OFFSET = UNIX_2000 if time.gmtime(0)[0] == 2000 else 0  # Unix seconds at the port's 0


def now():
    """Unix seconds. The ESP32 board sets its clock by NTP once WiFi is up; before
    that, and without a network, the device's clock starts at 2000-01-01."""
    return time.time() + EPOCH_OFFSET


# Before NTP has answered, the ESP32's clock reads 2000: no date from before 2024 (before
# this firmware was written) is taken for the present. (A literal there, not a module name:
# a DSMR gateway serving /config sits at its name pool's next block, docs/memory.md.)


def iso_utc():
    """The gateway's time as ISO 8601 UTC ("2026-11-26T03:40:00Z"), or None while its
    clock has not been set."""
    t = time.gmtime()
    if t[0] < 2024:
        return None
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (t[0], t[1], t[2], t[3], t[4], t[5])


def since_ms(start):
    return ticks_diff(ticks_ms(), start)
