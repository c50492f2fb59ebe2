"""Home Assistant MQTT discovery: one retained sensor config per OBIS reading.

Topic ``<discovery_prefix>/sensor/<device_id>/<object_id>/config`` with a
JSON config (Home Assistant "MQTT Sensor" + device registry fields)::

    {"name": "Energy import", "unique_id": "<device>_obis_1_0_1_8_0",
     "state_topic": "<prefix>/<device>/state",
     "value_template": "{{ value_json.readings['1-0:1.8.0'].value
                         if '1-0:1.8.0' in value_json.readings else '' }}",
     "availability_topic": "<prefix>/<device>/availability",
     "unit_of_measurement": "Wh", "device_class": "energy",
     "state_class": "total_increasing", "device": {...}}

Energy registers are ``total_increasing`` with device class ``energy`` (what
the Energy dashboard accepts); powers, voltages, currents are
``measurement``; a unit is matched regardless of case and named as Home
Assistant spells it ("kVArh" -> "kvarh"). Only numbers get a unit or a class:
Home Assistant marks a sensor with a unit and a text state as broken. The
unique_id depends only on the device id and the OBIS code, so it survives
reboots and firmware updates. No ``object_id``: Home
Assistant deprecated it (2025) and derives the entity id from the device and
sensor names. The device's ``configuration_url`` (Home Assistant's "Visit" link)
is the dongle's setup page while its address is known.
"""

from decoder.compat import const

# The tables below are text, one "|key=value" entry each, looked up with _lookup():
# discovery runs after a (re)connect and when a new code appears, and imports this
# module for it at the gateway's busiest moment (the first telegram). As dicts of
# tuples they cost ~1.8 kB of heap then; as strings ~40 B each.

# Unit as the meter spells it, lower-cased = the unit as Home Assistant spells it,
# its device_class ("-": none) and state_class (T total_increasing, M measurement).
# Meters differ in case (an LG E360 P1 port writes "kVArh" and "kVAr"), Home Assistant
# matches units exactly and refuses a device class with a unit outside its table, so
# the lookup ignores case and the config names the unit Home Assistant's way (same
# unit, same value). GJ: heat meters behind DSMR (0-n:24.2.1). reactive_energy exists
# since Home Assistant 2025.6 (architecture #724). m3: a gas or water register (DSMR
# 0-n:24.2.1): only its device type tells which (config() looks it up), so the table
# gives no device class, but a growing total all the same. MWh: heat meters' readouts
# (6.8(0029.055*MWh)). kV and kHz: Lithuanian ESO meters' P1 lines; no mV (lower-cased
# it is MV) and no kA (Home Assistant has none: shown as sent, without a class). VAh, kVAh: apparent energy (OBIS C 9, 10), which Home
# Assistant has no class for yet, but a growing total all the same: with the state class
# it keeps long-term statistics of it.
_UNITS = const(("|wh=Wh energy T|kwh=kWh energy T|mwh=MWh energy T|gj=GJ energy T"
                "|varh=varh reactive_energy T|kvarh=kvarh reactive_energy T"
                "|w=W power M|kw=kW power M|var=var reactive_power M|kvar=kvar reactive_power M"
                "|va=VA apparent_power M|kva=kVA apparent_power M|v=V voltage M|a=A current M"
                "|hz=Hz frequency M|s=s duration M|m3=m\u00b3 - T|kv=kV voltage M|ma=mA current M"
                "|khz=kHz frequency M|vah=VAh - T|kvah=kVAh - T|deg=\u00b0 - M|\u00b0=\u00b0 - M|"))

# OBIS C value = what it measures (IEC 62056-6-1 electricity C codes);
# C 21..40, 41..60, 61..80 repeat 1..20 for phases L1, L2, L3.
_QUANTITY = const(("|1=import|2=export|3=reactive import|4=reactive export|5=reactive Q1|6=reactive Q2"
                   "|7=reactive Q3|8=reactive Q4|9=apparent import|10=apparent export|11=current"
                   "|12=voltage|13=power factor|14=frequency|"))
_NEUTRAL = const(91)
# C 81, D 7: the angle between two of these (IEC 62056-6-1), E = 10 x the first's place
# + the second's (81.7.4: from U L1 to I L1); four characters each, place 3 unused.
_ANGLE = const(81)
_ANGLE_ENDS = const("U L1U L2U L3    I L1I L2I L3I N ")
# "p" + OBIS D = the name's pattern ("_" is the quantity) for powers and energies (C 1-10),
# "q" + D for the others (current, voltage, power factor, frequency); "m" + an M-Bus
# device type (EN 13757-3 medium) = Home Assistant's class for its register.
_KINDS = const("|p7=power _|p8=energy _|p4=demand _|p6=peak demand _|q7=_|q32=_ sags|q36=_ swells|m3=gas|m7=water|")
# A readout's units that are no electricity meter's: a heat or water meter's energy,
# volume and flow (a Landis+Gyr UH50 writes 6.8(0328.871*GJ)6.26(03329.67*m3)6.33(000.744*m3ph)).
_HEAT = const(("gj", "m3", "m3ph"))
# C.D.E of an abstract (A = 0) code = its name.
_ABSTRACT = const(("|96.1.0=Meter ID|96.1.1=Meter ID 2|42.0.0=Logical device name"
                   "|1.0.0=Meter clock|96.13.0=Message|24.2.1=Reading|24.2.3=Reading|24.1.0=Device type"
                   "|0.0.0=Meter number|"))


def _lookup(table, key):
    """The value of ``key`` in a "|key=value|…|" table, or None."""
    mark = "|%s=" % key
    start = table.find(mark)
    if start < 0:
        return None
    start += len(mark)
    return table[start : table.find("|", start)]


_ID_CHARS = const("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def object_id(code):
    """ "1-0:1.8.0" -> "obis_1_0_1_8_0"; every other character becomes "_" (Home
    Assistant accepts only [a-zA-Z0-9_-] there; the decoder also names untagged
    values "#3"). An attribute other than the value ("0-0:96.3.10/3", the XT211's
    disconnect state) becomes "_a3": plain "_3" would be the id of F group 3. A
    readout's "&" becomes "_b": IEC 62056-21 readouts write a billing period (F) after
    "*" and, for a second billing period scheme, after "&", both in one readout (an
    EFR's "1-1:1.8.0*25" and "1-1:1.8.0&33"), and "1.8.0&03" had the id, topic and
    unique_id of "1.8.0*03" (keyed "1.8.0.03"): one entity, two readings."""
    return "obis_" + "".join([c if c in _ID_CHARS else "_a" if c == "/" else "_b" if c == "&" else "_"
                              for c in code])


def _split(code):
    # An IEC 62056-21 readout writes an electricity meter's codes without "A-B:" ("1.8.0",
    # "33.7.0"): named and classed as 1-0:'s. Raises ValueError for a code of neither
    # form ("#3", the letter codes "C.1.0", "F.F").
    if ":" not in code and code[:1].isdigit():
        return ["1", "0"], code.split(".")
    ab, cde = code.split(":")
    return ab.split("-"), cde.split(".")


def friendly_name(code):
    """A short English name for an OBIS code; the code itself when unknown. Names are
    unique per code: Home Assistant shows entities by name, and DSMR's voltage sag and
    swell counters (1-0:32.32.0, 32.36.0) were three more "Voltage L1"s, as a readout's
    billing periods (value group F: 1-0:1.8.0.96) were more "Energy import"s."""
    try:
        (a, b), cde = _split(code)
        c, d = int(cde[0]), int(cde[1])
        e = int(cde[2]) if len(cde) > 2 else 0
    except (ValueError, IndexError):
        return code
    if len(cde) > 3:
        base = code[: code.rfind(".")]
        name = friendly_name(base)
        return code if name == base else "%s, billing period %s" % (name, cde[3])
    if a == "0":
        name = _lookup(_ABSTRACT, ".".join(cde[:3]))
        if name is None:
            return code
        return name if b == "0" else "%s, channel %s" % (name, b)  # M-Bus devices 0-1:, 0-2:
    if a != "1":
        return code  # heat, gas, water (A 6, 7, 8): C means other things there than electricity's
    if c == _NEUTRAL:
        return "Current N"
    if c == _ANGLE:
        at, to = 4 * (e // 10), 4 * (e % 10)
        first, second = _ANGLE_ENDS[at : at + 4].strip(), _ANGLE_ENDS[to : to + 4].strip()
        if d != 7 or at == to or not first or not second:
            return code
        return "Angle %s to %s" % (first, second)
    phase = (c - 1) // 20 if 21 <= c <= 80 else 0
    what = _lookup(_QUANTITY, c - 20 * phase)
    if what is None:
        return code
    # D: 7 instantaneous, 8 energy, 4 current demand, 6 peak demand (P, Q, S); for
    # current, voltage, power factor, frequency 7, and the sag and swell counters.
    kind = _lookup(_KINDS, ("p" if c - 20 * phase <= 10 else "q") + cde[1])
    if kind is None:
        return code
    what = kind.replace("_", what)
    name = what[0].upper() + what[1:]
    if phase:
        name += " L%d" % phase
    if e:
        # E: a tariff of an energy or a peak (IEC 62056-6-1), named: a ZMD's readout sends
        # the peaks 1.6.1 to 1.6.4, which were four "Peak demand import"s. Of the others
        # (a harmonic of a voltage, 32.7.3) the code itself, which no other reading has.
        if d != 6 and d != 8:
            return code
        name += " tariff %d" % e
    return name


def topic(discovery_prefix, device_id, code):
    return "%s/sensor/%s/%s/config" % (discovery_prefix, device_id, object_id(code))


def _template(expression, code):
    # The state is the snapshot since boot: after a reboot the minute list's readings are
    # missing from it for up to a minute. Reading them then made Home Assistant log a
    # template error per sensor and push. A numeric sensor ignores '' and keeps its last
    # state (Home Assistant's MQTT sensor documentation); a text sensor shows it empty.
    return ("{{ " + expression + " if '%s' in value_json.readings else '' }}") % (code, code)


def config(code, value, unit, device_id, state_topic, availability_topic, version, page=None, readings=None,
           expire=0):
    """The discovery config dict for one reading; ``page``: the dongle's web page, if known;
    ``readings``: the snapshot's, where an M-Bus channel's device type is looked up;
    ``expire``: seconds without a state message after which Home Assistant shows the
    reading unavailable (0: never)."""
    uid = "%s_%s" % (device_id, object_id(code))
    # A readout's codes without "A-B:" are named and classed as an electricity meter's
    # (_split), but not in a heat or water meter's readout, which one such code in GJ, m3
    # or m3ph gives away: Home Assistant showed a UH50's heat energy 6.8 as "Energy
    # reactive Q2", its temperatures 9.4 as "Demand apparent import", and kept statistics
    # of its unitless 9.20 and 9.21, its own numbers. Named by its code there, as A 6 is.
    heat = False
    if ":" not in code and readings is not None:
        for other in readings:
            other_unit = readings[other][1]
            if ":" not in other and other_unit and other_unit.lower() in _HEAT:
                heat = True
                break
    if isinstance(value, (str, list, tuple)):
        # Home Assistant refuses a state over 255 characters (the entity goes unknown);
        # a DSMR 5 text message may be 1024, a list (a power failure log) runs long as
        # text. Whatever the value turns into later must still render: null (a clock
        # found never set) as nothing, a number (an unnamed slot, a DSMR "()" filled
        # in) as its text. [:255] of a number raised, logged by HA on every push.
        expression = "(([value_json.readings['%s'].value, ''] | reject('none') | first) | string)[:255]"
    else:
        expression = "value_json.readings['%s'].value"
    out = {
        "name": code if heat else friendly_name(code),
        "unique_id": uid,
        "state_topic": state_topic,
        "value_template": _template(expression, code),
        "availability_topic": availability_topic,
        "device": {
            "identifiers": ["meterlink_%s" % device_id],
            "name": "meterlink %s" % device_id,
            "manufacturer": "meterlink",
            "model": "smart meter gateway",
            "sw_version": version,
        },
    }
    if page:
        out["device"]["configuration_url"] = page
    if expire:
        # The availability topic says whether the dongle is on the broker, not whether
        # the meter still sends: a cable pulled from the meter left every reading at its
        # last value. The state goes out with every telegram (each few seconds), so a
        # silence this long is the meter's.
        out["expire_after"] = expire
    if isinstance(value, (str, list, tuple)):
        return out  # text: no unit, no class
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return out  # flags: Home Assistant shows them as they are
    if not unit:
        # Statistics only of a quantity: not of an abstract code (A = 0: a tariff, a device
        # type), an id, status word, list or manufacturer's code (C 0, or 96 and up: a
        # Kamstrup's 1-1:0.0.1, an EasyMeter's 1-0:96.5.5), nor a positional value of an
        # unnamed list ("#3", no A-B:), which can be a number in one push and text in
        # another (Home Assistant then refuses it), nor a heat meter's readout's (above).
        try:
            (a, _), cde = _split(code)
            c = int(cde[0])
        except ValueError:
            return out
        if a == "0" or c == 0 or c >= 96 or heat:
            return out
        out["state_class"] = "measurement"
        if c in (13, 33, 53, 73) and cde[1:2] == ["7"]:
            # Power factor, total or L1-L3: Home Assistant takes the class without a unit.
            out["device_class"] = "power_factor"
        return out
    # A unit holding the table's separators is none of its units; "a" is DLMS's year
    # (unit 1), which lower-case matching took for an ampere.
    classes = None if "|" in unit or "=" in unit or unit == "a" else _lookup(_UNITS, unit.lower())
    if classes is None:
        out["unit_of_measurement"] = unit  # unknown: shown as sent, no class to violate
        return out
    ha_unit, device_class, state_class = classes.split(" ")
    mbus = code.startswith("0-") and (":24.2." in code or ":24.3." in code)
    if ha_unit == "m\u00b3" and readings is not None and mbus:
        # An M-Bus channel's register (DSMR 0-n:24.2.x, DSMR 2.2's 0-n:24.3.0): its device
        # type 0-n:24.1.0 (EN 13757-3 medium: 3 gas, 7 water) names the class Home
        # Assistant's Energy dashboard lists gas and water sources by. Only for m3: Home
        # Assistant refuses a gas or water class on any other unit of the table.
        kind = readings.get(code[: code.find(":")] + ":24.1.0")
        device_class = (kind is not None and _lookup(_KINDS, "m%s" % kind[0])) or "-"
    out["unit_of_measurement"] = ha_unit
    if device_class != "-":
        out["device_class"] = device_class
    if state_class == "M":
        out["state_class"] = "measurement"
    else:
        out["state_class"] = "total" if _falls(code) else "total_increasing"
    return out


def _falls(code):
    # OBIS C 16, 36, 56, 76: import minus export (total, L1-L3), which falls while more
    # goes out than comes in; Home Assistant takes a fall of a total_increasing for a
    # meter reset and counts the whole value again.
    try:
        c = int(_split(code)[1][0])
    except (ValueError, IndexError):
        return False
    return c % 20 == 16 and c < 80
