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


def now():
    """Seconds since the epoch (the device sets its clock by NTP when it can)."""
    return time.time()


def since_ms(start):
    return ticks_diff(ticks_ms(), start)
