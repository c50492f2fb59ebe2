"""The readings and counters in the Prometheus text exposition format (version 0.0.4).

::

    # TYPE meterlink_reading gauge
    meterlink_reading{obis="1-0:1.8.0",unit="Wh"} 14358023
    # TYPE meterlink_decode_errors_total counter
    meterlink_decode_errors_total{kind="checksum"} 0
    ...

Only numeric readings become samples (ids, texts and the clock are not
numbers); label values are escaped as the format requires.
"""

from decoder import finite, float_text

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(text):
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if not isinstance(value, float):
        return str(value)
    if finite(value):
        return float_text(value)  # 0.941, where MicroPython's repr writes 0.9409999999999999
    # The format spells the IEEE specials NaN, +Inf, -Inf; Python writes nan, inf.
    if value != value:
        return "NaN"
    return "+Inf" if value > 0 else "-Inf"


def _family(name, kind, help_text):
    return "# HELP %s %s\n# TYPE %s %s\n" % (name, help_text, name, kind)


def render(status, readings):
    """The whole exposition as one string (tests, tools); the API sends ``lines``."""
    return "".join(lines(status, readings))


def lines(status, readings):
    """The exposition line by line (each ends in "\n"), for ``web.message.pieces``.

    ``status`` is the dict of /api/v1/status; ``readings`` the store's dict. Yielded,
    not joined: 40 readings make ~3 kB of text, a block a fragmented heap near the
    floor may not have (seen as a MemoryError on the DSMR Iskra AM550 capture at
    196 kB), while each line is under 100 bytes.
    """
    yield _family("meterlink_reading", "gauge", "Latest value of each numeric OBIS reading")
    for code in sorted(readings):
        value, unit = readings[code]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        yield 'meterlink_reading{obis="%s",unit="%s"} %s\n' % (_label(code), _label(unit or ""), _number(value))
    yield _family("meterlink_telegrams_total", "counter", "Telegrams decoded since boot")
    yield "meterlink_telegrams_total %d\n" % status["telegrams"]
    yield _family("meterlink_decode_errors_total", "counter", "Decode failures by kind")
    for kind in sorted(status["errors"]):
        yield 'meterlink_decode_errors_total{kind="%s"} %d\n' % (_label(kind), status["errors"][kind])
    yield _family("meterlink_mqtt_connected", "gauge", "1 while the MQTT broker connection is up")
    yield "meterlink_mqtt_connected %s\n" % _number(status["mqtt"]["connected"])
    yield _family("meterlink_meter_connected", "gauge", "1 while the meter port is open")
    yield "meterlink_meter_connected %s\n" % _number(status["meter"]["connected"])
    last = status["meter"].get("last_telegram_time")
    if last is not None:
        # A port can stay open with the meter silent: alert on time() minus this.
        yield _family("meterlink_last_telegram_timestamp_seconds", "gauge",
                      "Unix time of the last telegram decoded")
        yield "meterlink_last_telegram_timestamp_seconds %s\n" % _number(last)
    yield _family("meterlink_healthy", "gauge", "0 once the watchdog is no longer fed (the dongle restarts)")
    yield "meterlink_healthy %s\n" % _number(status["healthy"])
    yield _family("meterlink_uptime_seconds", "gauge", "Seconds since the gateway started")
    yield "meterlink_uptime_seconds %d\n" % status["uptime_s"]
    if status.get("free_heap") is not None:
        yield _family("meterlink_free_heap_bytes", "gauge", "Free MicroPython heap")
        yield "meterlink_free_heap_bytes %d\n" % status["free_heap"]
