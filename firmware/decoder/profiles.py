"""Meter profiles and untagged value lists: DATA for obis.py, no logic but lookup.

Many meters push bare numbers: no {scaler, unit} structure (IEC 62056-6-2
class 3 attribute 3 is not in the push). The scaler then depends on the
model, so it lives here, per physical quantity::

    quantity   OBIS C.D (IEC 62056-6-1 7.5)             unit (IEC 62056-62)
    power      1-2,15-16,21-22,41-42,61-62 . 7          W   (27)
    reactive   3-4,5-8,23-24,43-44,63-64 . 7            var (29)
    apparent   9,29,49,69 . 7                           VA  (28)
    energy     1-2,15-16,21-22,41-42,61-62 . 8          Wh  (30)
    renergy    3-8,23-24,43-44,63-64 . 8                varh(32)
    aenergy    9,29,49,69 . 8                           VAh (31)
    voltage    12,32,52,72 . 7                          V   (35)
    current    11,31,51,71,91 . 7                       A   (33)
    pf         13,33,53,73 . 7                          -   (power factor)
    frequency  14 . 7                                   Hz  (44)

A profile maps quantity -> decimal exponent of the raw number ("voltage": -1
means the meter sends 0.1 V). Scaler and unit travelling in the frame always
win over the profile.

``auto`` picks the profile from the FLAG manufacturer id (three letters, first
bytes of the system title, DLMS UA FLAG list) or the first three letters of the
logical device name 0-0:42.0.0 / list identifier ("LGZ1030655933512",
"KFM_001", "AIDON_V0001", "Kamstrup_V0001").
"""

from decoder.compat import const

# Exponents common to most meters: W, var, Wh, varh as integers, power
# factor in 0.001, frequency in 0.01 Hz.
_BASE = const("power=0 reactive=0 apparent=0 energy=0 renergy=0 aenergy=0 voltage=-1 current=-2 pf=-3 frequency=-2")

# PROFILES as text, one profile a line: its name, the meter it stands for,
# then the exponents where it departs from _BASE. A profile becomes a dict
# when resolve() first returns it: built at import, the ten dicts held ~2.9 kB
# of RAM on the 64-bit port, and a gateway reads one meter.
_PROFILE_TEXT = const((
    # E450 on the M-Bus wire sends whole volts (ch-e450-vse2026: 236 = 236 V;
    # the smartmeter-datacollector test asserts 236 V) and 0.01 A (9 = 0.09 A).
    "e450|Landis+Gyr E450/E570|voltage=0\n"
    # E360 and AM550 on P1 send 0.1 V (2357 = 235.7 V) and 0.01 A
    # (ch-e360-vse2026, ch-am550-vse2026).
    "e360|Landis+Gyr E360|\n"
    "am550|Iskraemeco AM550|\n"
    # FLEXY F2: no public capture; one public reader of a Romande Energie meter
    # (sbeerh/Flexy-Meter, "verified against live captures") takes its push-setup
    # values as whole volts and 0.01 A, W and Wh. Its voltages are uint16 230, not
    # 2300: with the AM550's 0.1 V they read 23 V.
    "flexy-f2|Meter&Control FLEXY F2|voltage=0\n"
    # Kaifa MA304 (Norway/Sweden) sends current in mA and voltage in 0.1 V
    # (se-kaifa-ma304h4-flat: 446 with a 0.4 kW load on 230 V); MA309
    # (Austria) sends its own scalers in the frame.
    "kaifa|Kaifa MA304/MA309|current=-3\n"
    # Aidon always sends {scaler, unit}; these are the values it sends.
    "aidon|Aidon|current=-1\n"
    # Kamstrup Omnipower: whole volts, 0.01 A, energies in 0.01 kWh = 10 Wh,
    # power factor in 0.01 (Kamstrup HAN list documentation).
    "kamstrup|Kamstrup Omnipower|voltage=0 energy=1 renergy=1 pf=-2\n"
    # The same meter set up to count energy in Wh, which the frame does not tell:
    # Swiss (CKW) and Swedish utilities' Omnipowers (amsreader-firmware issues 239
    # and 359, Tasmota issue 8790's CKW script, amshan-homeassistant issue 43).
    "kamstrup-wh|Kamstrup Omnipower, energy in Wh (Switzerland, Sweden)|voltage=0 pf=-2\n"
    # An Omnipower on current transformers sends its currents in mA under the same list
    # id (amsreader-firmware issue 216: 90999 with ~91 A flowing, which P, Q and the
    # 233 V confirm); its energies are taken as the Danish default, 10 Wh.
    "kamstrup-ct|Kamstrup Omnipower CT (current transformers), current in mA|voltage=0 energy=1 renergy=1 pf=-2 current=-3\n"
    # ZPA AM375 (Czech, PRE Distribuce): powers in W, energies in Wh, no voltages or
    # currents in its list. It writes its clock's deviation as UTC to local time (+120
    # with the summer-time bit: dlms_parser's two captures, one from a meter, one from
    # the datasheet), where IEC 62056-6-2 has local time to UTC (-120 for CEST), as every
    # other meter seen sends it. east=1: a positive deviation in a list's clock reads as
    # that many minutes east of UTC, which every ZPA meter is (obis_untagged: the list
    # is the one ZPA push public). A negative one, should a later firmware follow the
    # standard, reads the same.
    "zpa|ZPA AM375|east=1\n"
    # Sagemcom T210-D / XT211 send {scaler, unit} with every value.
    "sagemcom|Sagemcom T210-D / XT211|\n"
    # Unknown meters: the widespread DLMS defaults (the SiL notice: "voltage
    # 0.1 V and current 0.01 A unless configured otherwise").
    "generic|any DLMS meter|"
))

_built = {}  # name -> the profile dicts resolve() returned so far (one per meter, usually)


def _profile(line):
    # "name|meter|q=e q=e" -> {"name": ..., "meter": ..., quantity: exponent...}
    name, meter, changes = line.split("|")
    p = {}
    for word in (_BASE + " " + changes).split():
        quantity, exponent = word.split("=")
        p[quantity] = int(exponent)
    p["name"] = name
    p["meter"] = meter
    return p


def _get(name):
    """The profile dict called ``name`` (built once, then shared), or None."""
    p = _built.get(name)
    if p is None:
        for line in _PROFILE_TEXT.split("\n"):
            if line.split("|", 1)[0] == name:
                p = _built[name] = _profile(line)
                break
    return p


def names():
    """The profile names, in table order."""
    return [line.split("|")[0] for line in _PROFILE_TEXT.split("\n")]


def known(name):
    """True when ``name`` is a profile (without building it)."""
    return name in names()


# FLAG id -> profile, " ID=profile" per manufacturer (text, not a dict: a
# meter looks it up once, and the dict with its short strings held ~500 bytes
# of RAM). LGZ is both the E450/E570 (whole volts) and the E360 (0.1 V):
# obis.py tells them apart by the push object (E360 and AM550 push on P1 with
# 0-6:25.9.0, the E450/E570 on M-Bus with 0-8:25.9.0); LGZ alone means E450,
# the meter the Swiss utilities install most.
_MANUFACTURERS = const(" LGZ=e450 ISK=am550 KFM=kaifa AID=aidon KAM=kamstrup SAG=sagemcom ZPA=zpa")

# Push object B channels: P1 (a Landis+Gyr meter there is the E360) and the
# M-Bus wire. Unencrypted pushes that name no manufacturer (ch-e450-gh934-apdu
# has only a serial number): in every capture the push object 0-8:25.9.0
# comes from a Landis+Gyr M-Bus meter (whole volts, e450). On P1 the Swiss
# AM550s and E360s name themselves (0-0:42.0.0 "ISK…", "LGZ…"); the FLEXY F2
# does not, and sends whole volts, so an unnamed P1 meter is taken as one: a
# meter there that sends 0.1 V reads right all the same, its 2300 being above
# any low-voltage phase (obis.reading takes the finer step), where the AM550's
# 0.1 V turned the FLEXY's 230 into 23 V, which no check can tell.
_P1_CHANNEL = const(6)
_MBUS_CHANNEL = const(8)

def __getattr__(name):
    # PEP 562 (MicroPython: MICROPY_MODULE_GETATTR): PROFILES (every profile
    # built) on first access, then a plain global.
    if name == "PROFILES":
        value = {}
        for key in names():
            value[key] = _get(key)
    else:
        raise AttributeError(name)
    globals()[name] = value
    return value




def by_code(code):
    """Profile name for a three-letter FLAG id, or None."""
    if not code or " " in code or "=" in code:
        return None
    at = _MANUFACTURERS.find(" %s=" % code.upper())
    if at < 0:
        return None
    at += len(code) + 2
    end = _MANUFACTURERS.find(" ", at)
    return _MANUFACTURERS[at:] if end < 0 else _MANUFACTURERS[at:end]


def _code(raw):
    """First three letters of a system title (bytes) or a name (str), or None."""
    if raw is None or len(raw) < 3:
        return None
    if isinstance(raw, str):
        return raw[:3]
    if not all(0x41 <= (b & 0xDF) <= 0x5A for b in raw[:3]):
        return None
    return str(bytes(raw[:3]), "ascii")


def resolve(name, system_title=None, logical_name=None, push_channel=None):
    """A PROFILES entry for ``name``; "auto" looks at who sent the frame.

    ``push_channel`` is the B field of the push object (6 on P1, 8 on M-Bus
    for Landis+Gyr) when the body is push-setup style.
    """
    if name != "auto":
        profile = _get(name)
        if profile is None:
            raise ValueError("unknown meter profile %r (known: auto, %s)"
                             % (name, ", ".join(sorted(names()))))
        return profile
    found = by_code(_code(system_title)) or by_code(_code(logical_name))
    if found is None:
        found = "flexy-f2" if push_channel == _P1_CHANNEL else "e450" if push_channel == _MBUS_CHANNEL else "generic"
    elif found == "e450" and push_channel == _P1_CHANNEL:
        found = "e360"
    return _get(found)
