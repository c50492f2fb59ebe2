"""The telegram as the CLI's JSON line (``decoder.telegram_json``) and its dict.

Loaded on first use: the CLI and the tests print telegrams this way; the gateway writes
the same text through its snapshot buffer (app/snapshot.py) and never loads this module.
"""

from decoder import to_json


def _plain(value):
    # Readings are already JSON-friendly from obis.py; bytes and tuples can
    # still reach here from unusual bodies, so spell them out explicitly.
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def telegram_dict(t):
    """The telegram as the JSON-ready dict of the CLI and MQTT contract."""
    readings = {}
    for code, pair in t.readings.items():
        item = {"value": _plain(pair[0])}
        if pair[1] is not None:
            item["unit"] = pair[1]
        readings[code] = item
    return {
        "meter_time": t.meter_time,
        "system_title": t.system_title,
        "frame_counter": t.frame_counter,
        "readings": readings,
    }


def telegram_json(t):
    """One line of JSON: meter_time, system_title, frame_counter, readings."""
    return to_json(telegram_dict(t))
