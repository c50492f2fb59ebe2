"""Home Assistant discovery is loaded at the gateway's busiest moment, so it loads light.

Discovery configs go out after every (re)connect and when a new code appears: the
first telegram, while the decoder is still building its caches. app.discovery is
imported for that and dropped after it, so its tables are text looked up on demand,
not dicts of tuples. Here: the tables say what they said as dicts, unit by unit, and
the module costs little heap while it is loaded.
"""

import pytest

from app import discovery
from resident_support import from_rom, heap_script

# The unit as meters spell it -> (as Home Assistant spells it, device_class, state_class).
UNITS = {
    "Wh": ("Wh", "energy", "total_increasing"),
    "kWh": ("kWh", "energy", "total_increasing"),
    "GJ": ("GJ", "energy", "total_increasing"),
    "varh": ("varh", "reactive_energy", "total_increasing"),
    "kVArh": ("kvarh", "reactive_energy", "total_increasing"),
    "W": ("W", "power", "measurement"),
    "kW": ("kW", "power", "measurement"),
    "var": ("var", "reactive_power", "measurement"),
    "kVAr": ("kvar", "reactive_power", "measurement"),
    "VA": ("VA", "apparent_power", "measurement"),
    "kVA": ("kVA", "apparent_power", "measurement"),
    "V": ("V", "voltage", "measurement"),
    "A": ("A", "current", "measurement"),
    "Hz": ("Hz", "frequency", "measurement"),
    "s": ("s", "duration", "measurement"),
    "m3": ("m\u00b3", None, "total_increasing"),
    "kV": ("kV", "voltage", "measurement"),  # Lithuanian ESO meters' P1 lines
    "mA": ("mA", "current", "measurement"),
    "kHz": ("kHz", "frequency", "measurement"),
    "MWh": ("MWh", "energy", "total_increasing"),  # a heat meter's readout, 6.8(0029.055*MWh)
}


def config(unit, value=1):
    return discovery.config("1-0:1.8.0", value, unit, "dev", "m/dev/state", "m/dev/availability", "9")


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_every_unit_of_the_table_names_its_unit_and_classes(unit):
    doc = config(unit)
    assert (doc["unit_of_measurement"], doc.get("device_class"), doc["state_class"]) == UNITS[unit]
    if unit != "A":  # "a" is DLMS's year (test_gateway_units)
        lower = config(unit.lower())
        assert lower["unit_of_measurement"] == UNITS[unit][0]  # any case


@pytest.mark.parametrize("unit", ["\u00b0C", "l/h", "wh|w", "w=", "|", "=", "kwh ", "kA"])
def test_a_unit_outside_the_table_is_shown_as_sent_with_no_class(unit):
    doc = config(unit)
    assert doc["unit_of_measurement"] == unit
    assert "device_class" not in doc and "state_class" not in doc


@pytest.mark.parametrize("code, name", [
    ("1-0:3.8.0", "Energy reactive import"), ("1-0:10.7.0", "Power apparent export"),
    ("1-0:13.7.0", "Power factor"), ("1-0:33.7.0", "Power factor L1"), ("1-0:14.7.0", "Frequency"),
    ("1-0:5.8.0", "Energy reactive Q1"), ("1-0:0.0.0", "1-0:0.0.0"), ("0-0:42.0.0", "Logical device name"),
    ("0-0:1.0.0", "Meter clock"), ("0-0:96.13.0", "Message"), ("0-0:96.1.0", "Meter ID"),
    ("0-0:96.14.0", "0-0:96.14.0"), ("0-0:96.1", "0-0:96.1"),
])
def test_names_come_from_the_quantity_and_abstract_tables(code, name):
    assert discovery.friendly_name(code) == name


def test_the_loaded_module_costs_about_two_kilobytes():
    # From the ROMFS image, as on a device with one: 2.0 kB (module, functions, a str
    # object per table); its dicts of tuples made that 4.1 kB. Names unique per code
    # and the gas/water class of an M-Bus channel's register added ~100 B (2,112 B).
    assert from_rom(heap_script("", "from app import discovery")) < 2048 + 128
