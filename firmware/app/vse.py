"""The Swiss industry (VSE) MQTT JSON form, as smartmeter-datacollector 2.0 publishes it.

Topic ``dt/<group>/<meter-id>/ds``; payload::

    {"meter": {"ts": "2026-11-25T12:00:00+01:00", "1.8.0": 14358023, "1.7.0": 1500, ...}}

OBIS codes are shortened to ``C.D.E`` (medium and channel dropped); when two
channels carry the same C.D.E (1-0:1.8.0 and 1-1:1.8.0) the first one in
sorted order wins. Only numeric readings are included, in the unit the meter
sends (Wh, W, var, varh, V, A), as the values of the snapshot; NaN and
infinities (which float registers can carry, and JSON cannot) are left out.
"""

from decoder import finite

# Codes that identify the meter, in order of preference, for the topic.
_ID_CODES = ("0-0:96.1.1", "0-0:96.1.0", "0-0:42.0.0")
# An MQTT topic level built from meter data is cut to this length; meter ids
# are 8-16 characters, anything longer is not an id.
MAX_ID = 32


def short_code(code):
    """ "1-0:1.8.0" -> "1.8.0"; F (a fourth group) is dropped as well."""
    colon = code.find(":")
    return ".".join(code[colon + 1 :].split(".")[:3])


def meter_id(store, fallback):
    """The meter's own id from the snapshot (topic-safe), else ``fallback``."""
    for code in _ID_CODES:
        value = store.value(code)
        if isinstance(value, str) and value:
            clean = "".join([c for c in value if c.isalpha() or c.isdigit() or c in "-_"])
            if clean:
                return clean[:MAX_ID]
    return fallback


def topic(group, mid):
    return "dt/%s/%s/ds" % (group, mid)


def payload(store, now_iso=None):
    """The VSE JSON dict for the current snapshot.

    ``ts`` is the meter's own time; a meter that sends no clock (some Aidon
    lists) gets ``now_iso()`` instead, the gateway's UTC time, or null while
    the gateway's clock is not set either."""
    ts = store.meter_time
    if ts is None and now_iso is not None:
        ts = now_iso()
    meter = {"ts": ts}
    for code in sorted(store.readings):
        value = store.readings[code][0]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if not finite(value):
            continue  # NaN or an infinity (a float register can hold them): no reading
        key = short_code(code)
        if key not in meter:
            meter[key] = value
    return {"meter": meter}
