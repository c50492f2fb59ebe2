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
_EPOCH_OFFSET = UNIX_2000 if time.gmtime(0)[0] == 2000 else 0


def now():
    """Unix seconds. The ESP32 board sets its clock by NTP once WiFi is up; before
    that, and without a network, the device's clock starts at 2000-01-01."""
    return time.time() + _EPOCH_OFFSET


def since_ms(start):
    return ticks_diff(ticks_ms(), start)
