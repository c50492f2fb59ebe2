"""The Swiss industry (VSE) MQTT JSON form, as smartmeter-datacollector 2.0 publishes it.

Topic ``dt/<group>/<meter-id>/ds``; payload (not retained, as the reference
publishes it)::

    {"meter": {"ts": "2026-11-25T11:00:00+00:00", "1.8.0": 14358023, "1.7.0": 1500, ...}}

Read against smartmeter-datacollector 2.0.0 (its RlDsp MQTT sink and COSEM
reader), so that tools written for it read the dongle unchanged:

- the meter id is the first identifying object: the logical device name
  0-0:42.0.0, else 0-0:96.1.0 to 0-0:96.1.9 (a SiL meter sends only 96.1.1;
  96.1.4 is a Swiss or Belgian P1 telegram's version, no id) with a Swiss P1
  telegram's meter number 0-0:0.0.0 after 96.1.1, then an IEC 62056-21 readout's
  serial number C.1.0 or meter number 0.0.0 (written without "A-B:", and also
  without E: an Itron EM214's "C.1", a Landis+Gyr UH50's "0.0"),
  else the lowest of 1-b:0.0.0 to 1-b:0.0.9 (a Kamstrup's meter id 1-1:0.0.5,
  or its meter number 1-1:0.0.1 sent as an integer), text or number (the
  reference takes the first the meter sent, an order MicroPython's dicts
  do not keep);
- ``ts`` is UTC, written ``+00:00``; a meter time without an offset is Swiss
  local time, Central European with the EU's summer time (last Sundays of
  March and October, 01:00 UTC);
- only electricity quantities (OBIS medium A = 1, or no "A-B:" in a readout's code;
  C neither 0, the meter's
  ids and constants, nor 93-99, service entries, error registers and
  profiles) that are numbers, shortened to ``C.D.E``, in W, Wh, var, varh,
  VA, VAh, V, A and Hz, and phase angles in degrees (81.7.40 and so on, which
  the reference's E450 table lists): a DSMR meter's kW and kWh are written in W and Wh
  (the form has no unit field, so its readers take those), unitless ones
  (power factor) as they are, anything else (m³, GJ, seconds),
  positional ``#n`` or attribute ``/n`` readings and past billing periods'
  values (value group F: ``1.8.0*01``, ``1.8.0&01``) not at all.

When two channels carry the same ``C.D.E`` (1-0:1.8.0 and 1-1:1.8.0) the lowest
channel's goes out: the form has one value per ``C.D.E`` (the reference has no
rule for it: its OBIS codes compare equal whatever their B and F), and channel 0
is the meter's own register. NaN and infinities (which float registers can carry,
and JSON cannot) are left out.
"""

import time

from decoder import finite
from decoder.compat import const
from app.clock import EPOCH_OFFSET

# An MQTT topic level built from meter data is cut to this length; meter ids
# are 8-16 characters, anything longer is not an id.
MAX_ID = 32
# The codes that name the meter, in the reference's order of preference (see above), but
# for the Swiss and Belgian P1 telegrams: their 0-0:96.1.4 is the P1 version ("50220", the
# same on every meter of a kind), and a Swiss one names itself in 0-0:0.0.0 (IEC 62056-21's
# meter number), ahead of its public key in 0-0:96.1.2 (blanks, or a key).
_ID_CODES = ("0-0:42.0.0", "0-0:96.1.0", "0-0:96.1.1", "0-0:0.0.0", "0-0:96.1.2", "0-0:96.1.3", "0-0:96.1.5",
             "0-0:96.1.6", "0-0:96.1.7", "0-0:96.1.8", "0-0:96.1.9", "C.1.0", "0.0.0", "C.1", "0.0")

# The units the form knows (lower-cased), and the prefixes a meter may put before them.
# Degrees: the phase angles (C 81) the reference's E450 table lists (81.7.40, 81.7.51,
# 81.7.62), published in the meter's degrees (DLMS unit 8 reads "\u00b0", a readout "Deg").
_UNITS = const(("w", "wh", "var", "varh", "va", "vah", "v", "a", "hz", "\u00b0", "deg"))
_PREFIXES = {"k": 1000, "K": 1000, "M": 1000000, "m": 0.001}


def short_code(code):
    """ "1-0:1.8.0" -> "1.8.0"; F (a fourth group) is dropped as well."""
    colon = code.find(":")
    return ".".join(code[colon + 1 :].split(".")[:3])


def meter_id(store, fallback):
    """The meter's own id from the snapshot (topic-safe), else ``fallback``."""
    for code in _ID_CODES:
        mid = _id_text(store.value(code))
        if mid:
            return mid
    for code in sorted(store.readings):  # (MicroPython's dicts keep no order once they grow)
        rest = code[code.find(":") + 1 :]
        if code.startswith("1-") and len(rest) == 5 and rest.startswith("0.0."):
            mid = _id_text(store.value(code))  # 1-b:0.0.0 to 1-b:0.0.9
            if mid:
                return mid
    return fallback


def _id_text(value):
    # An id value as a topic level: its letters, digits, "-" and "_", or None.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # a Kamstrup's meter number 1-1:0.0.1
    if isinstance(value, str) and value:
        clean = "".join([c for c in value if c.isalpha() or c.isdigit() or c in "-_"])
        if clean:
            return clean[:MAX_ID]
    return None


def _quantity(code):
    """C of an OBIS text ("1-0:32.7.0" -> 32), or -1 when it has none."""
    colon = code.find(":")
    dot = code.find(".", colon + 1)
    text = code[colon + 1 : dot]
    return int(text) if dot > colon + 1 and text.isdigit() else -1


def topic(group, mid):
    return "dt/%s/%s/ds" % (group, mid)


def payload(store, now_iso=None):
    """The VSE JSON dict for the current snapshot.

    ``ts`` is the latest push's own time; a push without a clock (an Aidon's
    2.5 s and 10 s lists, between hourly ones that have one) gets ``now_iso()``
    instead, the gateway's UTC time, or null while the gateway's clock is not
    set either: never an earlier push's time for values that are newer. So does
    a push whose clock told only its time or only its date (its year unspecified,
    or a date that does not exist): ``ts`` is an instant or null, never "12:00:00"."""
    ts = store.latest_time
    if ts is not None and (len(ts) < 19 or ts[10] != "T"):
        ts = None  # a clock that told only its time or its date: no instant to give
    if ts is None and now_iso is not None:
        ts = now_iso()
    meter = {"ts": utc(ts)}
    # Of the channels that carry one C.D.E the lowest wins: sorted by where ":" is, then as
    # text, 1-2: comes before 1-10:, which text alone put first ("1-1" < "1-2"); a code
    # without "A-B:" (-1, taken as 98) after them, as text had it.
    for code in sorted(store.readings, key=lambda c: (c.find(":") % 99, c)):
        if not (code.startswith("1-") or ":" not in code and code[:1].isdigit()) or "/" in code:
            # Not electricity, a positional value or an attribute. An IEC 62056-21 readout
            # writes its codes without "A-B:" ("1.8.0"): an electricity meter's.
            continue
        if code.count(".") > 2 or "*" in code or "&" in code:
            # Value group F: a past billing period's value, not the register's; a readout's
            # 1.8.0*01 is keyed 1.8.0.01, its second scheme's 1.8.0&01 and a code without E
            # (1.8*01) as written. (The reference's OBIS codes compare equal whatever their
            # B and F, smartmeter-datacollector's obis.py: it would take one for the register.)
            continue

        quantity = _quantity(code)
        if quantity <= 0 or 93 <= quantity <= 99:
            continue  # an id, a constant, a version; service entries, errors, profiles (also
            # written C, F, L, P: IEC 62056-61 letters for 96-99)
        value, unit = store.readings[code]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not finite(value):
            continue  # text, or NaN or an infinity (a float register can hold them)
        factor = _factor(unit)
        if factor is None:
            continue
        if factor != 1:
            value = value * factor
            if isinstance(value, float):
                value = round(value, 6)  # 0.111 kW is 111.00000000000001 W in binary
        key = short_code(code)
        if key not in meter:
            meter[key] = value
    return {"meter": meter}


def _factor(unit):
    """What turns a value in ``unit`` into the form's unit: 1, 1000 for kW, None
    for a unit the form does not carry."""
    if unit is None or unit != "a" and unit.lower() in _UNITS:  # "a": DLMS's year, no ampere
        return 1
    if len(unit) > 1 and unit[0] in _PREFIXES and unit[1:].lower() in _UNITS:
        return _PREFIXES[unit[0]]
    return None


def utc(ts):
    """ISO 8601 text with or without an offset (or ``Z``) -> the same instant in
    UTC, ``YYYY-MM-DDTHH:MM:SS+00:00``; text of another shape is passed as it is."""
    if ts is None or len(ts) < 19 or ts[10] != "T":
        return ts
    try:
        year, month, day = int(ts[0:4]), int(ts[5:7]), int(ts[8:10])
        seconds = int(ts[11:13]) * 3600 + int(ts[14:16]) * 60 + int(ts[17:19])
        zone = ts[19:]
        if zone in ("Z", "+00:00", "-00:00"):
            offset = 0
        elif zone:
            offset = (int(zone[1:3]) * 60 + int(zone[4:6])) * (-60 if zone[0] == "-" else 60)
        else:
            offset = None
    except ValueError:
        return ts
    local = _days(year, month, day) * 86400 + seconds
    if offset is None:
        offset = 7200 if _summer(year, local - 7200) else 3600
    t = time.gmtime(local - offset - EPOCH_OFFSET)
    return "%04d-%02d-%02dT%02d:%02d:%02d+00:00" % (t[0], t[1], t[2], t[3], t[4], t[5])


def _summer(year, unix):
    """Whether EU summer time holds at Unix second ``unix`` of ``year``."""
    return _last_sunday(year, 3) <= unix < _last_sunday(year, 10)


def _last_sunday(year, month):
    """Unix second of 01:00 UTC on the last Sunday of a 31-day ``month``."""
    last = _days(year, month, 31)
    return (last - (last + 4) % 7) * 86400 + 3600  # 1970-01-01 was a Thursday


def _days(year, month, day):
    """Days from 1970-01-01 to a Gregorian date (the civil-calendar count)."""
    if month <= 2:
        year -= 1
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (9 if month <= 2 else -3)) + 2) // 5 + day - 1
    return era * 146097 + year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year - 719468
