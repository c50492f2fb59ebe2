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

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(text):
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    return repr(value) if isinstance(value, float) else str(value)


def _family(out, name, kind, help_text):
    out.append("# HELP %s %s" % (name, help_text))
    out.append("# TYPE %s %s" % (name, kind))


def render(status, readings):
    """``status`` is the dict of /api/v1/status; ``readings`` the store's dict."""
    out = []
    _family(out, "meterlink_reading", "gauge", "Latest value of each numeric OBIS reading")
    for code in sorted(readings):
        value, unit = readings[code]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        out.append('meterlink_reading{obis="%s",unit="%s"} %s' % (_label(code), _label(unit or ""), _number(value)))
    _family(out, "meterlink_telegrams_total", "counter", "Telegrams decoded since boot")
    out.append("meterlink_telegrams_total %d" % status["telegrams"])
    _family(out, "meterlink_decode_errors_total", "counter", "Decode failures by kind")
    for kind in sorted(status["errors"]):
        out.append('meterlink_decode_errors_total{kind="%s"} %d' % (_label(kind), status["errors"][kind]))
    _family(out, "meterlink_mqtt_connected", "gauge", "1 while the MQTT broker connection is up")
    out.append("meterlink_mqtt_connected %s" % _number(status["mqtt"]["connected"]))
    _family(out, "meterlink_meter_connected", "gauge", "1 while the meter port is open")
    out.append("meterlink_meter_connected %s" % _number(status["meter"]["connected"]))
    _family(out, "meterlink_uptime_seconds", "gauge", "Seconds since the gateway started")
    out.append("meterlink_uptime_seconds %d" % status["uptime_s"])
    if status.get("free_heap") is not None:
        _family(out, "meterlink_free_heap_bytes", "gauge", "Free MicroPython heap")
        out.append("meterlink_free_heap_bytes %d" % status["free_heap"])
    out.append("")
    return "\n".join(out)
