"""Every reading keeps a name of its own in every output that names it.

A reading is keyed by its OBIS code, and the outputs derive names from that key: Home
Assistant's object_id (and with it the discovery topic and unique_id) and the key its
value_template reads, the VSE form's short C.D.E key, and the Prometheus series. Two
readings under one name are one entity, one series or one VSE value that flips between
two meanings. Swept over every public capture, then over the spellings the standards
allow where no capture shows them: IEC 62056-21 readouts write a billing period (value
group F) after "*" and, for a second billing period scheme, after "&"; an EFR readout
holds "1-1:1.8.0*25" and "1-1:1.8.0&33", and a readout a published reader script lists
"1.8.0*04" and "1.8.0&03".
"""

import json
import os

import pytest

from app import discovery, metrics, vse
from app.store import Store
from decoder import Telegram
from decoder_support import decode_all
from mp import run_micropython

HERE = os.path.dirname(os.path.abspath(__file__))


def captures(corpus):
    with open(os.path.join(HERE, "public_captures.json")) as f:
        public = json.load(f)
    for entry in list(corpus.values()) + public:
        data = bytes.fromhex(entry["hex"]) if "hex" in entry else entry["text"].encode("latin-1")
        yield entry["id"], data, entry


def merged_stores(corpus):
    """(id, Store) for every capture, merged as the gateway does: every code since boot."""
    for cid, data, entry in captures(corpus):
        telegrams, _ = decode_all(data, key=entry.get("key_hex"), auth_key=entry.get("auth_key_hex"),
                                  profile=entry.get("profile", "auto"))
        store = Store()
        for telegram in telegrams:
            store.update(telegram)
        yield cid, store


def store_of(readings):
    store = Store()
    store.update(Telegram(None, None, None, readings, None))
    return store


def shared_names(readings):
    """{(output, name): [codes]} for every name two readings share."""
    seen = {}
    for code, (value, unit) in readings.items():
        for output, name in (("object_id", discovery.object_id(code)), ("name", discovery.friendly_name(code)),
                             ("template key", discovery.config(code, value, unit, "d", "s", "a", "v")[
                                 "value_template"].split("'")[1]),
                             ("series", 'obis="%s",unit="%s"' % (metrics._label(code), metrics._label(unit or "")))):
            seen.setdefault((output, name), []).append(code)
        for key in vse.payload(store_of({code: (value, unit)}))["meter"]:
            if key != "ts":
                seen.setdefault(("vse", key), []).append(code)
    return {k: sorted(v) for k, v in seen.items() if len(v) > 1 and k[0] != "vse"}


def test_no_two_readings_of_any_public_capture_share_a_name(corpus):
    found = {}
    for cid, store in merged_stores(corpus):
        for name, codes in shared_names(store.readings).items():
            found[cid, name] = codes
    assert found == {}


# Both billing period schemes of one readout, and the register itself.
BILLING_SCHEMES = (b"/EFR5EFR-readout\r\n\r\n1-1:1.8.0(012345.678*kWh)\r\n1-1:1.8.0*25(011000.000*kWh)\r\n"
                   b"1-1:1.8.0&25(010500.000*kWh)\r\n1-1:1.8.0&33(009000.000*kWh)\r\n"
                   b"1.8.0*03(000100.000*kWh)\r\n1.8.0&03(000090.000*kWh)\r\n!\r\n")


def billing_readings():
    telegrams, dec = decode_all(BILLING_SCHEMES)
    assert len(telegrams) == 1 and not [n for n in dec.errors.counts.values() if n]
    return telegrams[0].readings


def test_a_billing_period_after_an_ampersand_is_its_own_home_assistant_entity():
    readings = billing_readings()
    assert readings["1-1:1.8.0.25"] == (11000, "kWh") and readings["1-1:1.8.0&25"] == (10500, "kWh")
    ids = dict((code, discovery.object_id(code)) for code in readings)
    assert ids["1-1:1.8.0&25"] == "obis_1_1_1_8_0_b25" and ids["1.8.0&03"] == "obis_1_8_0_b03"
    # The readings that had a name of their own keep it: their entities stay as they were.
    assert ids["1-1:1.8.0.25"] == "obis_1_1_1_8_0_25" and ids["1.8.0.03"] == "obis_1_8_0_03"
    assert ids["1-1:1.8.0"] == "obis_1_1_1_8_0"
    assert len(set(ids.values())) == len(ids)
    topics = set(discovery.topic("homeassistant", "dev1", code) for code in readings)
    assert len(topics) == len(readings)
    assert shared_names(readings) == {}


def test_object_ids_of_a_billing_readout_are_the_same_on_micropython():
    codes = sorted(billing_readings())
    done = run_micropython(["-c", "from app import discovery\nfor c in %r: print(discovery.object_id(c))" % codes])
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().split() == [discovery.object_id(c) for c in codes]


def uh50_readings(corpus):
    entry = dict((cid, e) for cid, _, e in captures(corpus))["xx-lgz-uh50-heat-readout-several-sets-per-line"]
    telegrams, _ = decode_all(entry["text"].encode("latin-1"))
    return telegrams[0].readings


def test_last_years_value_of_a_code_without_e_is_not_read_as_a_tariff(corpus):
    # A Landis+Gyr UH50 heat meter's readout: "6.8" its energy, "6.8*01" last year's, "6.8.1"
    # a tariff register. "6.8*01" was keyed "6.8.01", which reads as E 01: the same Home
    # Assistant name as "6.8.1", "Energy reactive Q2 tariff 1", and a VSE value of a
    # readout in Wh would have gone out as "6.8.01".
    readings = uh50_readings(corpus)
    assert readings["6.8*01"] == (314.658, "GJ") and "6.8.1" in readings and "6.8.01" not in readings
    assert discovery.friendly_name("6.8*01") == "6.8*01"
    assert discovery.friendly_name("6.8*01") != discovery.friendly_name("6.8.1")
    assert discovery.object_id("6.8*01") == "obis_6_8_01"  # its Home Assistant entity stays
    assert shared_names(readings) == {}


def test_a_one_digit_period_of_a_code_without_e_no_longer_takes_the_place_of_e():
    # "1.8*1" was keyed "1.8.1", the key of the line after it: the decoder keeps a code's
    # first reading, and the tariff register was lost.
    telegrams, _ = decode_all(b"/ABC5readout\r\n1.8*1(000100.000*kWh)\r\n1.8.1(000200.000*kWh)\r\n!\r\n")
    assert telegrams[0].readings == {"1.8*1": (100, "kWh"), "1.8.1": (200, "kWh")}
    # Known and left: their Home Assistant ids still coincide ("obis_1_8_1"), since an id of
    # its own for "*" would rename the entities of every "6.8*01" that has one today. No
    # readout seen writes such a period in one digit ("*01", VZ's two).
    assert discovery.object_id("1.8*1") == discovery.object_id("1.8.1")


def vse_keys(readings):
    return vse.payload(store_of(readings))["meter"]


def test_the_vse_form_leaves_out_every_past_billing_period_however_the_readout_writes_it():
    # "1.8.0&03" and "1-1:1.8.0&33" went out as VSE keys "1.8.0&03" and "1.8.0&33", past
    # periods' values beside the registers; "1.8*02" (keyed so since the decoder keeps the
    # "*" of a code without E) as "1.8.02".
    readings = billing_readings()
    readings["1.8*02"] = (5, "kWh")
    assert vse_keys(readings) == {"ts": None, "1.8.0": 12345678}


def test_no_vse_key_of_a_public_capture_holds_a_billing_period(corpus):
    odd = {}
    for cid, store in merged_stores(corpus):
        keys = [k for k in vse.payload(store)["meter"] if k != "ts"]
        # C.D.E, or C.D of a readout that leaves E out (an electricity readout's 14.7)
        bad = [k for k in keys if len(k.split(".")) > 3 or not k.replace(".", "").isdigit()]
        if bad:
            odd[cid] = bad
    assert odd == {}


def test_of_the_channels_that_carry_one_c_d_e_the_vse_form_takes_the_lowest():
    # The form drops A, B and F by design: one value per C.D.E. Channel 0 is the meter's
    # own register; text order put channel 10 before 2 ("1-10" < "1-2"), and the value sent
    # could differ with the channels a meter happens to send.
    readings = {"1-10:1.8.0": (10, "Wh"), "1-2:1.8.0": (2, "Wh"), "1-64:1.8.0": (64, "Wh"),
                "1-2:2.8.0": (22, "Wh"), "1-10:2.8.0": (20, "Wh"), "1-0:1.8.0.101": (101, "Wh")}
    assert vse_keys(readings) == {"ts": None, "1.8.0": 2, "2.8.0": 22}
    readings["1-0:1.8.0"] = (0, "Wh")
    readings["1.8.0"] = (-1, "Wh")  # a readout's, without "A-B:": after the channels, as before
    assert vse_keys(readings)["1.8.0"] == 0


def test_the_vse_form_takes_the_same_channel_on_micropython():
    readings = {"1-10:1.8.0": (10, "Wh"), "1-2:1.8.0": (2, "Wh"), "1-0:1.8.0.101": (101, "Wh"),
                "1.8.0&03": (3, "Wh"), "1-2:2.8.0": (22, "Wh"), "1-10:2.8.0": (20, "Wh")}
    script = ("import json\nfrom app import vse\nfrom app.store import Store\nfrom decoder import Telegram\n"
              "s = Store()\ns.update(Telegram(None, None, None, %r, None))\nprint(json.dumps(vse.payload(s)))"
              % readings)
    done = run_micropython(["-c", script])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"meter": {"ts": None, "1.8.0": 2, "2.8.0": 22}}


def test_the_peaks_of_each_tariff_have_names_of_their_own():
    # A Landis+Gyr ZMD's readout sends its peaks per tariff, 1.6.1 to 1.6.4: Home Assistant
    # showed four entities named "Peak demand import", told apart by their ids only.
    telegrams, _ = decode_all(b"/LGZ5ZMD3104407\r\n1.6.0(000.03*kW)(17-11-02 08:30)\r\n"
                              b"1.6.1(000.01*kW)(17-11-02 08:30)\r\n1.6.2(000.02*kW)(17-11-02 08:30)\r\n!\r\n")
    readings = telegrams[0].readings
    assert sorted(discovery.friendly_name(c) for c in readings) == [
        "Peak demand import", "Peak demand import tariff 1", "Peak demand import tariff 2"]
    assert shared_names(readings) == {}


def test_a_heat_or_gas_register_is_not_named_as_electricitys():
    # OBIS C depends on the medium A: 6-0:1.8.0 (heat) and 7-0:1.8.0 (gas) were both
    # "Energy import", the name of 1-0:1.8.0 beside them.
    readings = {"1-0:1.8.0": (1, "Wh"), "6-0:1.8.0": (2, "GJ"), "7-0:1.8.0": (3, "m3")}
    assert [discovery.friendly_name(c) for c in sorted(readings)] == ["Energy import", "6-0:1.8.0", "7-0:1.8.0"]
    assert shared_names(readings) == {}
