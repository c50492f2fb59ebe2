"""OBIS readings (IEC 62056-6-1, IEC 62056-62 units): what obis.readings,
obis_text and datetime_text must give, on real captures and on bodies built
by the independent encoder in axdr_support."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import axdr_support as enc
from decoder import lists_user, obis, obis_push
from decoder.errors import AxdrError, DecodeError

LGZ = b"LGZgs\x01\x02\x03"
ISK = b"ISKit\x01\x02\x03"


def readings(body, profile="auto", title=None, lists=None):
    return obis.readings(memoryview(body), profile, title, lists)


def body_of(corpus, name, index=0):
    title, _, body = enc.notifications(corpus[name])[index]
    return title, body


# --- OBIS text and date-time text --------------------------------------------


def test_obis_text_omits_f_when_255():
    assert obis.obis_text(b"\x01\x00\x01\x08\x00\xff") == "1-0:1.8.0"
    assert obis.obis_text(b"\x01\x01\x00\x02\x81\xff") == "1-1:0.2.129"
    assert obis.obis_text(b"\x01\x00\x01\x08\x00\x65") == "1-0:1.8.0.101"


@pytest.mark.parametrize("deviation,suffix", [
    (-120, "+02:00"), (-60, "+01:00"), (0, "+00:00"), (60, "-01:00"), (-330, "+05:30"),
    (-0x8000, ""),  # 0x8000: deviation not specified -> local time only
])
def test_datetime_offset_is_the_negated_deviation(deviation, suffix):
    raw = enc.cosem_datetime(2021, 7, 6, 14, 58, 18, hundredths=0x12, deviation=deviation)
    assert obis.datetime_text(raw) == "2021-07-06T14:58:18" + suffix


def test_datetime_unspecified_fields():
    full_ff = b"\xff" * 12
    assert obis.datetime_text(full_ff) is None
    no_date = b"\xff\xff\xff\xff\xff" + bytes([14, 58, 18, 0]) + b"\x80\x00\x00"
    assert obis.datetime_text(no_date) == "14:58:18"
    no_time = enc.cosem_datetime(2021, 7, 6, 0xFF, 0xFF, 0xFF, hundredths=0xFF)
    assert obis.datetime_text(no_time) == "2021-07-06"
    no_seconds = enc.cosem_datetime(2021, 7, 6, 14, 58, 0xFF, hundredths=0xFF)
    assert obis.datetime_text(no_seconds) == "2021-07-06T14:58:00"


@pytest.mark.parametrize("year,month,day", [
    (2026, 2, 30), (2026, 2, 29), (2100, 2, 29), (2026, 4, 31), (2026, 6, 31), (2026, 9, 31), (2026, 11, 31),
])
def test_a_day_past_its_months_end_is_no_date(year, month, day):
    # A clock reading 30 February is damaged or unset: only its time is read. It is still
    # a date-time (a list's clock slot takes it, and the list keeps its names).
    raw = enc.cosem_datetime(year, month, day, 12, 0, 0)
    assert obis.is_datetime(raw)
    assert obis.datetime_text(raw) == "12:00:00"


@pytest.mark.parametrize("year,month,day", [
    (2024, 2, 29), (2000, 2, 29), (2026, 2, 28), (2026, 1, 31), (2026, 7, 31), (2026, 8, 31), (2026, 12, 31),
    (2026, 4, 30),
])
def test_the_last_day_of_each_month_is_a_date(year, month, day):
    raw = enc.cosem_datetime(year, month, day, 12, 0, 0)
    assert obis.is_datetime(raw)
    assert obis.datetime_text(raw) == "%04d-%02d-%02dT12:00:00" % (year, month, day)


def test_twelve_printable_digits_are_not_a_date_time():
    assert not obis.is_datetime(b"181220000009")
    assert obis.is_datetime(enc.cosem_datetime(2019, 12, 16, 7, 59, 40, status=0xFF))



def test_a_croatian_ie5_short_list_is_named():
    # amsreader-firmware payload gh1174-1 (a body without its APDU): the 33-value list
    # without the reactive quadrants and the power factor; T1 + T2 = the total, the phases'
    # P+ add up to P+ (228 + 193 + 153 = 574 ~ 576 W).
    body = bytes.fromhex(
        "021C0908393537303034343509040F002800090507EA04070206003DD7930600269138060017465B0600000000"
        "060000000006000000000600000240060000000006000000E406000000C1060000009906000000000600000000"
        "060000000012096A12097712094F12006B12006612005B060001869F01011224B801011224B801011224B80301")
    got = readings(body)
    assert got["0-0:96.1.0"] == ("95700445", None)
    assert (got["1-0:1.8.0"], got["1-0:1.8.1"], got["1-0:1.8.2"]) == ((4052883, "Wh"), (2527544, "Wh"), (1525339, "Wh"))
    assert (got["1-0:1.7.0"], got["1-0:21.7.0"], got["1-0:61.7.0"]) == ((576, "W"), (228, "W"), (153, "W"))
    assert (got["1-0:32.7.0"], got["1-0:71.7.0"]) == ((241.0, "V"), (0.91, "A"))
    assert not [code for code in got if code.startswith("#")]


def test_netz_burgenlands_eleven_values_are_named():
    # Tasmota issue 23027's decrypted body (an Austrian E450): U1-3 in whole volts, I1-3,
    # P+ P-, A+ A-, the meter number; 228 V x 7.81 A + ... = 6.6 kVA carry the 5.4 kW.
    body = bytes.fromhex("020B1200E41200E21200E612030D1205CA1202830600001538060000000006"
                         "0263BD78060000000009083330303532303032")
    got = readings(body, title=LGZ)
    assert (got["1-0:32.7.0"], got["1-0:52.7.0"], got["1-0:31.7.0"]) == ((228, "V"), (226, "V"), (7.81, "A"))
    assert (got["1-0:1.7.0"], got["1-0:1.8.0"], got["0-0:96.1.0"]) == ((5432, "W"), (40091000, "Wh"), ("30052002", None))
    assert not [code for code in got if code.startswith("#")]


def _untagged(values, title=None):
    return readings(enc.encode(("structure", values)), title=title)


def test_eleven_or_fourteen_numbers_of_another_meter_stay_positional():
    # Netz Burgenland's lists have no mark on the first value (a voltage): their meter
    # number, text, tells them. Ten numbers and a clock are no Burgenland push.
    clock = enc.cosem_datetime(2024, 11, 22, 20, 45, 0)
    for values in ([("uint32", 230 + i) for i in range(10)] + [("octet-string", clock)],
                   [("uint32", 7 + 1000 * i) for i in range(14)]):
        got = _untagged(values, title=LGZ)
        assert [code for code in got if not code.startswith("#") and code != "0-0:1.0.0"] == [], got


def test_a_celje_list_1_with_a_dead_phase_is_no_ece_list_2():
    # 0 V on L1 passed for ECE list 2's disconnect state, and the volts and amps behind it
    # for a tariff and energies; list 2's tariff is text.
    values = [("octet-string", b"ISK1030789014731"), ("octet-string", b"UP_3f"), ("uint16", 0),
              ("uint16", 2303), ("uint16", 2348), ("uint16", 0), ("uint16", 525), ("uint16", 88),
              ("uint32", 1200), ("uint32", 0), ("uint32", 4), ("uint32", 264)]
    got = _untagged(values)
    assert (got["1-0:32.7.0"], got["1-0:52.7.0"], got["1-0:51.7.0"]) == ((0, "V"), (230.3, "V"), (5.25, "A"))
    assert "0-0:96.3.10" not in got


def test_a_list_whose_clock_is_30_february_keeps_its_names():
    clock = enc.cosem_datetime(2026, 2, 30, 12, 0, 0)
    values = [("octet-string", b"KFM_001"), ("octet-string", b"6970631401234567"), ("octet-string", b"MA304H3E")]
    values += [("uint32", v) for v in (1500, 0, 10, 200, 2000, 1500, 1800)]
    values += [("uint16", v) for v in (2301, 2310, 2298)]
    values += [("octet-string", clock)] + [("uint32", v) for v in (14358023, 0, 1000, 2000)]
    got = _untagged(values)
    assert got["1-0:1.8.0"] == (14358023, "Wh")
    assert got["0-0:1.0.0"][0] == "12:00:00"  # the time only: no such date

def test_values_become_json_friendly():
    assert obis.plain(b"63326413") == "63326413"
    assert obis.plain(b"\x00") == "00"
    assert obis.plain(b"\x07\xe8\x05\x07\x02") == "07e8050702"
    assert obis.plain(enc.cosem_datetime(2024, 3, 13, 9, 2, 45)) == "2024-03-13T09:02:45"
    assert obis.plain([b"ab", (1, 2)]) == ["ab", [1, 2]]


@pytest.mark.parametrize("code,symbol", [
    (27, "W"), (30, "Wh"), (44, "Hz"), (57, "Ah"), (58, None), (60, "Wh/m3"), (62, "Mol %"),
    (67, "atm"), (69, None), (70, "dBm"), (71, "dBµV"), (72, "dB"), (73, None), (255, None), (0, None),
])
def test_unit_codes_of_the_blue_book_table(code, symbol):
    # IEC 62056-62 / Blue Book 4.3.2: 1-57, then 60-67 (gas and heat) and 70-72 (radio levels).
    assert obis.unit_symbol(code) == symbol


@pytest.mark.parametrize("raw,text", [
    (b"\x0c\x1e\x2d\x00", "12:30:45"), (b"\x0c\xff\xff\xff", "12:00:00"), (b"\x0c\x1e\xff\xff", "12:30:00"),
    (b"\xff\xff\xff\xff", "ffffffff"),
])
def test_a_time_value_reads_unspecified_minutes_and_seconds_as_zero(raw, text):
    # Blue Book 4.1.6.1: 0xFF is "not specified", read as in a date-time; no hour, no clock.
    body = enc.encode(("structure", [("structure", [("octet-string", enc.obis("0-0:1.0.0")), ("time", raw)])]))
    assert readings(body)["0-0:1.0.0"] == (text, None)


@pytest.mark.parametrize("raw,exponent,value", [
    (2297, -1, 229.7), (9, -2, 0.09), (941, -3, 0.941), (0, -2, 0.0),
    (8582328, 1, 85823280), (28, 0, 28), (-5, -2, -0.05),
])
def test_scaling_gives_the_decimal_not_a_float_artifact(raw, exponent, value):
    got, unit = obis.reading(raw, exponent, "V")
    assert got == value and type(got) is type(value) and unit == "V"
    assert repr(got) == repr(value)


# --- real captures -------------------------------------------------------------
# Each expectation below was checked against the capture's `expected` field
# (the source's own assertions); comments say where we differ and why.

CORPUS_EXPECTED = {
    # test_lge450.py: id and clock; the gathering decode gives 28 W.
    "ch-e450-ekz-2021-gbt": {
        "0-0:42.0.0": ("LGZ1030655933512", None), "0-0:1.0.0": ("2021-07-06T14:58:18", None),
        "1-0:1.7.0": (28, "W"), "1-1:1.8.0": (886977, "Wh"), "1-0:13.7.0": (0.941, None),
    },
    # E450 voltage in whole volts, current in 0.01 A (test_lge450_vse_standard).
    "ch-e450-vse2026": {
        "0-0:42.0.0": ("LGZ1030653520967", None), "1-0:1.7.0": (28, "W"),
        "1-1:1.8.0": (482939, "Wh"), "1-1:3.8.0": (37, "varh"), "1-1:4.8.0": (344697, "varh"),
        "1-0:32.7.0": (236, "V"), "1-0:52.7.0": (236, "V"), "1-0:72.7.0": (0, "V"),
        "1-0:31.7.0": (0.09, "A"), "1-0:51.7.0": (0.08, "A"), "1-0:71.7.0": (0.0, "A"),
        "0-0:1.0.0": ("2026-05-04T11:39:21", None),
    },
    # E360 on P1: 0.1 V (test_lge360.py).
    "ch-e360-vse2026": {
        "0-0:42.0.0": ("LGZ1030163598905", None), "1-0:1.7.0": (11, "W"),
        "1-1:1.8.0": (21956, "Wh"), "1-1:2.8.0": (4547, "Wh"), "1-1:3.8.0": (27256, "varh"),
        "1-0:32.7.0": (235.7, "V"), "1-0:31.7.0": (0.06, "A"),
    },
    "ch-am550-vse2026": {
        "0-0:42.0.0": ("ISK1030783821282", None), "1-1:1.7.0": (27, "W"),
        "1-1:1.8.0": (15207, "Wh"), "1-1:2.8.0": (8987, "Wh"), "1-1:4.8.0": (5654, "varh"),
        "1-0:32.7.0": (234.7, "V"), "1-0:31.7.0": (0.12, "A"),
    },
    # The source's test converts the clock to UTC; we keep local time + offset.
    "ch-am550-ekz-2020": {
        "0-0:42.0.0": ("ISK1030775213859", None), "0-0:1.0.0": ("2020-08-15T06:19:45+02:00", None),
    },
    "eu-am550-tagged-ch0": {
        "0-0:96.1.0": ("84895126", None), "0-0:96.1.1": ("160456", None),
        "1-0:1.7.0": (182, "W"), "1-0:32.7.0": (236.4, "V"), "1-0:52.7.0": (234.4, "V"),
        "1-0:72.7.0": (237.0, "V"), "1-0:31.7.0": (0.63, "A"), "1-0:51.7.0": (0.89, "A"),
        "1-0:71.7.0": (0.68, "A"),
    },
    "ch-e450-baden-gbt": {"0-0:96.1.0": ("63326413", None)},
    # No manufacturer in this frame: the 0-8:25.9.0 push marks an E450
    # (whole volts; amsreader's "23.4 V" came from a 0.1 scaler).
    "ch-e450-gh934-apdu": {"0-0:96.1.0": ("63316890", None), "1-0:32.7.0": (234, "V")},
    "ch-e450-alt-config": {"0-0:96.1.0": ("44337811", None), "1-0:1.7.0": (777, "W")},
    "ch-e450-extended-registers": {"0-1:24.2.1": (30545, None)},
    "at-e450-gbt-enc-1": {
        "0-0:1.0.0": ("2022-02-21T17:37:30", None), "1-0:1.8.0": (4408736, "Wh"),
        "1-0:1.8.1": (3593919, "Wh"), "1-0:1.7.0": (2893, "W"), "1-0:3.7.0": (1735, "var"),
        "1-0:4.8.2": (528522, "varh"), "1-0:4.7.0": (0, "var"),
    },
    "at-e450-gbt-enc-2": {"1-0:1.8.0": (12048950, "Wh"), "1-0:4.7.0": (379, "var")},
    # Last element carries no OBIS: it is the meter number.
    "at-kaifa-netznoe-doc": {
        "0-0:96.1.0": ("181220000009", None), "1-0:1.8.0": (12937, "Wh"),
        "1-0:32.7.0": (233.7, "V"), "1-0:13.7.0": (1.0, None),
    },
    "pl-kaifa-ma309-mbus-key": {"0-0:96.1.0": ("1KFM0200169986", None)},
    "at-kaifa-vorarlberg-plain": {"0-0:96.1.0": ("1KFM0200182517", None)},
    "no-aidon-3phase-list": {
        "0-0:1.0.0": ("2019-12-16T07:59:40", None), "1-0:1.7.0": (1122, "W"),
        "1-0:3.7.0": (1507, "var"), "1-0:51.7.0": (7.5, "A"), "1-0:52.7.0": (249.9, "V"),
        "1-0:43.7.0": (1506, "var"), "1-0:1.8.0": (10049926, "Wh"), "1-0:4.8.0": (5, "varh"),
    },
    "no-aidon-1phase-list": {
        "1-1:0.2.129": ("AIDON_V0001", None), "0-0:96.1.0": ("7359992890941742", None),
        "0-0:96.1.7": ("6515", None), "1-0:3.7.0": (996, "var"), "1-0:31.7.0": (9.3, "A"),
        "1-0:32.7.0": (250.0, "V"),
    },
    # amsreader publishes 109552.248 kWh; the frame holds 10955225 with
    # scaler 1, which is 109552250 Wh: we report what the frame says.
    "no-aidon-list2-hourly": {"1-0:1.7.0": (4027, "W"), "1-0:1.8.0": (109552250, "Wh"),
                              "1-0:71.7.0": (16.8, "A")},
    # Untagged: the Norwegian Kaifa list 2 order names the values.
    "no-kaifa-ma304-list2": {"0-0:96.1.0": ("6970631403275928", None), "1-0:1.7.0": (4097, "W")},
    "no-kaifa-ma304-list1": {"1-0:1.7.0": (4117, "W")},
    # Kamstrup: energies in 10 Wh, current in 0.01 A (85823.28 kWh, 1.89 A).
    "dk-kamstrup-list3-plain": {
        "1-1:0.0.5": ("5706567202753025", None), "1-1:1.7.0": (1247, "W"),
        "1-1:1.8.0": (85823280, "Wh"), "1-1:32.7.0": (236, "V"), "1-1:31.7.0": (1.89, "A"),
    },
    "dk-kamstrup-omnipower-enc-keyed": {
        "1-1:0.2.129": ("Kamstrup_V0001", None), "0-1:1.0.0": ("2026-03-12T15:24:30", None),
        "1-1:1.7.0": (1083, "W"), "1-1:4.7.0": (718, "var"), "1-1:32.7.0": (222, "V"),
        "1-1:31.7.0": (0.57, "A"), "1-1:13.7.0": (0.83, None), "1-1:0.0.1": (12343400, None),
    },
    # The smartmeter-datacollector test asserts raw 400 for 1-0:31.7.0 with
    # its own unit config; the E570 sends 0.01 A like the E450.
    "ch-e570-load-int64": {
        "0-0:42.0.0": ("LGZ1030769231250", None), "1-0:1.7.0": (258874, "W"),
        "1-1:4.8.0": (2329593, "varh"), "1-0:72.7.0": (229, "V"), "1-0:31.7.0": (4.0, "A"),
    },
    "ch-e570-encrypted-gbt": {"0-0:42.0.0": ("LGZ1030769231253", None), "1-0:13.7.0": (1.0, None)},
}


@pytest.mark.parametrize("name", sorted(CORPUS_EXPECTED))
def test_corpus_capture_gives_the_published_values(corpus, name):
    title, body = body_of(corpus, name)
    got = readings(body, "auto", title)
    for code, expected in CORPUS_EXPECTED[name].items():
        assert got[code] == expected, code


def test_thurgau_untagged_pairs_stay_raw_without_a_list(corpus):
    got = [readings(b) for _, _, b in enc.notifications(corpus["ch-e450-tg-3apdus-one-frame"])]
    assert got == [{"#1": (v, None), "#2": (0, None)} for v in (21040168, 21040186, 21040203)]


def test_a_push_led_by_its_own_name_pairs_nothing_with_it_but_an_electricity_code_does():
    # A public alarm push: {0-0:25.9.0, "97170045477", 16}. Two of three values read as
    # "code, value" made the meter number reading 0-0:25.9.0. 1-0:25.9.0 is a register.
    alarm = enc.encode(("structure", [("octet-string", enc.obis("0-0:25.9.0")),
                                      ("octet-string", b"97170045477"), ("uint32", 16)]))
    assert "0-0:25.9.0" not in readings(alarm)
    tagged = enc.encode(("structure", [("octet-string", enc.obis("1-0:1.8.0")), ("uint32", 1234),
                                       ("octet-string", enc.obis("1-0:25.9.0")), ("uint32", 5678)]))
    assert readings(tagged)["1-0:25.9.0"] == (5678, None)


def test_push_object_and_its_list_are_not_readings(corpus):
    _, body = body_of(corpus, "ch-e450-ekz-2021-gbt")
    got = readings(body)
    assert not [k for k in got if k.startswith("0-8:25.9.0")]
    assert len(got) == 14  # 16 capture objects less the push object's two


def test_sagemcom_bare_date_time_and_trailing_number(corpus):
    _, body = enc.plaintext_notification(corpus["at-sagemcom-t210d-evn-pair"])
    got = readings(body)
    assert got["0-0:96.1.0"] == ("178210128502", None)
    assert got["0-0:1.0.0"] == ("2024-11-15T14:45:45+01:00", None)
    assert got["1-0:13.7.0"] == (0.094, None)  # scaler -3, unit 255: no unit


@pytest.mark.parametrize("name", ["no-kaifa-ma304-list2", "se-kaifa-ma304h4-flat", "dk-kamstrup-list3-plain",
                                  "at-e450-burgenland-1"])
@pytest.mark.parametrize("title", [b"ELSep\x00\x00\x01", b"\x00\x11\x22\x33\x44\x55\x66\x77"])
def test_a_title_that_names_no_known_maker_leaves_the_profile_to_the_body(corpus, name, title):
    # Ciphered pushes carry a system title; one whose first letters name no maker the
    # profiles know (Salzburg Netz's "ELS", binary bytes) read a Kaifa list's mA currents
    # as 0.01 A and a Kamstrup's 10 Wh energies as Wh: the list id in the body was never
    # asked. Such a push now reads as the same body sent without a title.
    _, body = body_of(corpus, name)
    assert readings(body, title=title) == readings(body)


def test_a_tagged_body_under_a_title_that_names_no_known_maker_goes_by_its_logical_name():
    # The entry-by-entry reader of tagged bodies: the same rule as for lists of values.
    def entry(code, value):
        return ("structure", [("octet-string", enc.obis(code)), value])
    body = enc.encode(("array", [entry("0-0:42.0.0", ("visible-string", "KFM_001")),
                                 entry("1-0:31.7.0", ("uint32", 2712))]))
    assert readings(body)["1-0:31.7.0"] == (2.712, "A")  # Kaifa: mA
    assert readings(body, title=b"ELSep\x00\x00\x01")["1-0:31.7.0"] == (2.712, "A")
    assert readings(body, title=b"KFMgP\x00\x00\x09")["1-0:31.7.0"] == (2.712, "A")
    assert readings(body, title=LGZ)["1-0:31.7.0"] == (27.12, "A")  # the title still wins


@pytest.mark.parametrize("body", ["00", "020100", "01020000", "0203000000"])
def test_a_body_of_nothing_but_null_data_names_no_value(body):
    # A segmented message that lost its middle segment reassembled to a body of null-data
    # (a helper's probe); the one-value Kaifa list took it, and a power of null went out.
    assert readings(bytes.fromhex(body)) == {}


# --- body styles built by the independent encoder ----------------------------


def test_push_setup_values_take_scaler_and_unit_from_the_profile():
    body = enc.sil_info_push_body()
    e450, am550, kaifa = readings(body, "e450"), readings(body, "am550"), readings(body, "kaifa")
    assert e450["1-0:31.7.0"] == am550["1-0:31.7.0"] == (1.23, "A") and kaifa["1-0:31.7.0"] == (0.123, "A")
    # 2297 in the E450's whole volts would be over what a customer port's meter reads:
    # taken in 0.1 V, as in a tagged body (obis.reading's default).
    assert e450["1-0:32.7.0"] == am550["1-0:32.7.0"] == (229.7, "V")
    assert am550["1-0:1.7.0"] == (1000, "W") and am550["1-0:4.7.0"] == (1003, "var")
    assert am550["0-0:96.1.1"] == ("71000000", None)
    assert list(sorted(am550)) == sorted(enc.SIL_INFO_1)


def test_push_setup_without_the_push_object_in_its_list():
    objects = [(1, "0-0:42.0.0", 2), (3, "1-0:1.7.0", 2)]
    body = enc.push_setup_body(objects, [("octet-string", b"ISK1"), ("uint32", 5)], listed=False)
    assert readings(body) == {"0-0:42.0.0": ("ISK1", None), "1-0:1.7.0": (5, "W")}


def test_push_setup_elements_of_one_attribute_are_values_of_their_own():
    # A capture object's data_index n > 0 captures element n of the attribute (Blue Book,
    # capture object definition). Keyed by OBIS and attribute only, three cells of a
    # register table kept the last (found by a probe of COSEM objects).
    capture = enc.encode(("array", [("structure", [("uint16", c), ("octet-string", enc.obis(o)),
                                                   ("int8", 2), ("uint16", i)])
                                    for c, o, i in [(40, "0-0:25.9.0", 0), (61, "1-0:98.10.0", 1),
                                                    (61, "1-0:98.10.0", 2), (3, "1-0:1.8.0", 0)]]))
    values = b"".join(enc.encode(v) for v in [("uint16", 11), ("uint16", 22), ("uint32", 1000)])
    body = b"\x02\x04" + capture + values
    assert readings(body) == {"1-0:98.10.0/2/1": (11, None), "1-0:98.10.0/2/2": (22, None),
                              "1-0:1.8.0": (1000, "Wh")}


def test_push_setup_other_attributes_keep_their_number():
    # Disconnect control (class 70): attribute 3 is its control state, a value of its own.
    body = enc.push_setup_body([(70, "0-0:96.3.10", 2), (70, "0-0:96.3.10", 3)],
                               [("boolean", True), ("enum", 1)])
    assert readings(body) == {"0-0:96.3.10": (True, None), "0-0:96.3.10/3": (1, None)}


def _scale(scaler, unit):
    return ("structure", [("int8", scaler), ("enum", unit)])


def test_a_captured_scaler_unit_scales_its_register_wherever_it_comes():
    # Blue Book class 3: attribute 3 is scaler_unit. A push may capture it beside the
    # value; then the meter's own scale beats the profile's guess, before or after it.
    body = enc.push_setup_body(
        [(3, "1-0:1.8.0", 2), (3, "1-0:1.8.0", 3), (3, "1-0:32.7.0", 3), (3, "1-0:32.7.0", 2),
         (4, "1-0:1.7.0", 2), (4, "1-0:1.7.0", 3)],
        [("uint32", 1234567), _scale(1, 30), _scale(-1, 35), ("uint16", 2301),
         ("int32", 15), _scale(2, 27)])
    for profile in ("auto", "am550", "e450", "generic"):
        assert readings(body, profile) == {"1-0:1.8.0": (12345670, "Wh"), "1-0:32.7.0": (230.1, "V"),
                                           "1-0:1.7.0": (1500, "W")}


def test_a_demand_register_scales_both_averages_by_attribute_4():
    # Class 5: attribute 2 current average, 3 last average, 4 scaler_unit.
    body = enc.push_setup_body([(5, "1-0:1.4.0", 2), (5, "1-0:1.4.0", 3), (5, "1-0:1.4.0", 4)],
                               [("uint32", 1234), ("uint32", 5678), _scale(-1, 27)])
    assert readings(body) == {"1-0:1.4.0": (123.4, "W"), "1-0:1.4.0/3": (567.8, "W")}


@pytest.mark.parametrize("profile", ["generic", "am550", "e450"])
def test_an_extended_registers_status_and_capture_time_are_no_quantities(profile):
    # Class 4: attribute 4 is the status, 5 the capture time. The status took the
    # profile's exponent and unit (3 -> 0.3 V, 3 Wh) and Home Assistant discovery
    # then announced it as an energy sensor.
    stamp = enc.cosem_datetime(2024, 3, 15, 10, 0, 0, deviation=-60)
    body = enc.push_setup_body(
        [(4, "1-0:32.7.0", 2), (4, "1-0:32.7.0", 4), (4, "1-0:1.8.0", 2), (4, "1-0:1.8.0", 4),
         (4, "1-0:1.8.0", 5)],
        [("uint16", 2301), ("uint8", 3), ("uint32", 1500), ("uint8", 3), ("octet-string", stamp)])
    got = readings(body, profile)
    assert got["1-0:32.7.0/4"] == (3, None) and got["1-0:1.8.0/4"] == (3, None)
    assert got["1-0:1.8.0/5"] == ("2024-03-15T10:00:00+01:00", None)
    assert got["1-0:1.8.0"] == (1500, "Wh") and got["1-0:32.7.0"][1] == "V"


def test_a_scaler_unit_without_its_value_or_that_is_not_one_stays_as_read():
    body = enc.push_setup_body([(3, "1-0:2.8.0", 3), (3, "1-0:1.8.0", 2), (3, "1-0:1.8.0", 3)],
                               [_scale(0, 30), ("uint32", 7), ("structure", [("uint8", 1)])])
    assert readings(body, "generic") == {"1-0:2.8.0/3": ([0, 30], None), "1-0:1.8.0": (7, "Wh"),
                                         "1-0:1.8.0/3": ([1], None)}


def test_a_scaler_that_changes_from_one_push_to_the_next_applies_at_once():
    def push(scaler):
        return enc.push_setup_body([(3, "1-0:1.8.0", 2), (3, "1-0:1.8.0", 3)],
                                   [("uint32", 42), _scale(scaler, 30)])
    assert readings(push(0)) == {"1-0:1.8.0": (42, "Wh")}
    assert readings(push(3)) == {"1-0:1.8.0": (42000, "Wh")}
    assert readings(push(3)) == {"1-0:1.8.0": (42000, "Wh")}
    assert readings(push(0)) == {"1-0:1.8.0": (42, "Wh")}


@pytest.mark.parametrize("missing", [("null", None), ("structure", [("uint8", 1)])])
def test_a_scaler_missing_from_one_push_still_wins_in_the_next(missing):
    # A push whose scaler_unit slot held no {scaler, unit} built a plan that kept the
    # slot as read and never looked at it again: every later push took the profile's
    # guess (23.1 V where the meter said 231 V). The frame's scale always wins.
    def push(su):
        return enc.push_setup_body([(3, "1-0:32.7.0", 3), (3, "1-0:32.7.0", 2)], [su, ("uint16", 231)])
    assert readings(push(_scale(0, 35)), "am550") == {"1-0:32.7.0": (231, "V")}
    assert readings(push(missing), "am550")["1-0:32.7.0"] == (23.1, "V")
    assert readings(push(missing), "am550")["1-0:32.7.0"] == (23.1, "V")
    assert readings(push(_scale(0, 35)), "am550") == {"1-0:32.7.0": (231, "V")}


def test_push_list_and_values_that_disagree_are_malformed():
    good = enc.push_setup_body([(3, "1-0:1.7.0", 2)], [("uint32", 5)])
    bad = bytearray(good)
    bad[1] = 5  # structure claims 5 elements
    with pytest.raises(AxdrError):
        readings(bytes(bad))


def test_flat_pairs_and_triplets():
    pairs = enc.encode(("structure", [
        ("octet-string", enc.obis("1-0:1.7.0")), ("uint32", 769),
        ("octet-string", enc.obis("1-0:32.7.0")), ("uint16", 2301),
        ("structure", [("int8", -1), ("enum", 35)]),
    ]))
    got = readings(pairs, "e450")
    assert got == {"1-0:1.7.0": (769, "W"), "1-0:32.7.0": (230.1, "V")}


def test_array_of_structures_with_and_without_scaler_unit():
    body = enc.encode(("array", [
        ("structure", [("octet-string", enc.obis("1-1:0.2.129")), ("visible-string", "AIDON_V0001")]),
        ("structure", [("octet-string", enc.obis("1-0:31.7.0")), ("int16", 93),
                       ("structure", [("int8", -1), ("enum", 33)])]),
        ("structure", [("octet-string", enc.obis("1-0:1.8.0")), ("uint32", 1),
                       ("structure", [("int8", 3), ("enum", 30)])]),
    ]))
    assert readings(body) == {
        "1-1:0.2.129": ("AIDON_V0001", None), "1-0:31.7.0": (9.3, "A"), "1-0:1.8.0": (1000, "Wh"),
    }


def test_frame_scaler_and_unit_always_win_over_the_profile():
    body = enc.encode(("structure", [
        ("octet-string", enc.obis("1-0:32.7.0")), ("uint16", 2301),
        ("structure", [("int8", -1), ("enum", 35)]),
        ("octet-string", enc.obis("1-0:1.7.0")), ("uint32", 5),
        ("structure", [("int8", 0), ("enum", 28)]),  # the frame says VA
    ]))
    for profile in ("e450", "am550", "kamstrup", "generic"):
        got = readings(body, profile)
        assert got["1-0:32.7.0"] == (230.1, "V") and got["1-0:1.7.0"] == (5, "VA")


@pytest.mark.parametrize("raw, volts", [(230, 230), (0, 0), (999, 999), (1001, 100.1), (2301, 230.1),
                                         (22199, 221.99), (230000, 230.0)])
def test_a_profiles_whole_volts_that_no_low_voltage_meter_reads_are_taken_in_finer_steps(raw, volts):
    # Kamstrup's whole volts are its usual; some Omnipowers send 0.01 V under the same
    # list id (dk-kamstrup-voltage-hundredths). A phase of a customer port's meter is under
    # 1000 V, so a value above that under the profile's exponent takes the next finer one.
    body = enc.encode(("structure", [("octet-string", enc.obis("1-1:32.7.0")), ("uint32", raw)]))
    assert readings(body, "kamstrup") == {"1-1:32.7.0": (volts, "V")}


def test_a_frames_scaler_for_volts_is_taken_as_sent_even_above_1000_v():
    body = enc.encode(("structure", [("octet-string", enc.obis("1-0:32.7.0")), ("uint32", 22199),
                                     ("structure", [("int8", 0), ("enum", 35)])]))
    assert readings(body, "kamstrup") == {"1-0:32.7.0": (22199, "V")}



@pytest.mark.parametrize("raw, scaler, hertz", [(50, -1, 5.0), (5000, -2, 50.0), (4998, 0, 4998)])
def test_a_frames_scaler_for_hertz_is_taken_as_sent(raw, scaler, hertz):
    # The mains-frequency check (40-70 Hz) corrects a profile's exponent (Cyprus's E450
    # sends whole hertz where the profile says 0.01 Hz), never a scaler the frame sends.
    body = enc.encode(("structure", [("octet-string", enc.obis("1-0:14.7.0")), ("uint16", raw),
                                     ("structure", [("int8", scaler), ("enum", 44)])]))
    assert readings(body, "e450") == {"1-0:14.7.0": (hertz, "Hz")}


@pytest.mark.parametrize("raw, hertz", [(50, 50), (4998, 49.98), (499, 49.9), (0, 0)])
def test_a_profiles_hertz_outside_the_mains_range_take_the_power_of_ten_that_fits(raw, hertz):
    body = enc.encode(("structure", [("octet-string", enc.obis("1-0:14.7.0")), ("uint16", raw)]))
    assert readings(body, "e450") == {"1-0:14.7.0": (hertz, "Hz")}

def test_one_stray_obis_does_not_make_a_body_tagged(corpus):
    title, body = body_of(corpus, "at-am550-kelag-enc")
    got = readings(body, "auto", title)
    # Read as values only (the KELAG list, which skips the push object's OBIS), not as
    # one tagged entry: the meter number and +A are where the list puts them.
    assert got["0-0:96.1.0"] == ("1121378381199", None) and got["1-0:1.8.0"] == (14370048, "Wh")
    assert "0-6:25.9.0" not in got


def _sil_values(count):
    # Numbers in every slot, the minute list's clock and message as the notice has them.
    values = [("uint32", 2000 + i) for i in range(count)]
    if count == 15:
        values[1] = ("octet-string", enc.cosem_datetime(2023, 1, 1, 13, 1, 1, deviation=-60))
        values[2] = ("octet-string", b"Services industriels Lausanne")
    return values


@pytest.mark.parametrize("count,name", [(24, "sil-consumer-info-1"), (15, "sil-consumer-message")])
def test_untagged_sil_lists_chosen_by_value_count(count, name):
    got = readings(enc.encode(("structure", _sil_values(count))))
    names = enc.SIL_INFO_1 if count == 24 else enc.SIL_MESSAGE
    assert sorted(got) == sorted(names)
    if count == 24:
        assert got["1-0:32.7.0"] == (200.5, "V")    # 10^-1 V
        assert got["1-0:31.7.0"] == (20.08, "A")    # 10^-2 A
        assert got["1-0:64.7.0"] == (2023, "var")
    else:
        assert got["1-0:1.8.1"] == (2003, "Wh") and got["1-0:4.8.0"] == (2014, "varh")


@pytest.mark.parametrize("count,slot,value", [
    (24, 5, ("octet-string", b"2301")),  # a voltage slot holding text
    (15, 1, ("uint32", 1672574461)),  # the clock slot holding a number
    (15, 3, ("octet-string", b"\x00\x00\x07\xd0")),  # an energy slot holding bytes
    (15, 10, ("boolean", True)),  # an energy slot holding a flag
])
def test_a_list_names_no_push_whose_values_its_slots_do_not_take(count, slot, value):
    # A list is told by length and first value only when the kinds fit: a push of another
    # meter with as many values must stay unnamed ("#n") rather than take wrong names;
    # only its date-time is named, the clock (the minute list's second value).
    values = _sil_values(count)
    values[slot] = value
    got = readings(enc.encode(("structure", values)))
    names = ["#%d" % (i + 1) for i in range(count)]
    if count == 15 and slot != 1:
        names[1] = "0-0:1.0.0"
    assert sorted(got) == sorted(names)


def test_a_null_value_fits_any_slot():
    values = _sil_values(24)
    values[6] = ("null", None)
    got = readings(enc.encode(("structure", values)))
    assert got["1-0:52.7.0"] == (None, None) and got["1-0:32.7.0"] == (200.5, "V")


@pytest.mark.parametrize("clock", [("octet-string", b""), ("date-time", enc.cosem_datetime(2023, 1, 1, 13, 1, 1))])
def test_the_clock_slot_takes_an_empty_octet_string_and_a_tagged_date_time(clock):
    values = _sil_values(15)
    values[1] = clock
    got = readings(enc.encode(("structure", values)))
    assert got["1-0:1.8.1"] == (2003, "Wh")


def test_untagged_lists_argument_limits_the_choice():
    body = enc.encode(("structure", [("uint32", i) for i in range(24)]))
    assert "#1" in readings(body, lists=["sil-consumer-message"])
    with pytest.raises(ValueError):
        readings(body, lists=["no-such-list"])


def test_named_profile_wins_over_the_list_exponents():
    body = enc.encode(("structure", [("uint32", 230)] * 24))
    assert readings(body, "e450")["1-0:32.7.0"] == (230, "V")
    assert readings(body, "auto")["1-0:32.7.0"] == (23.0, "V")


@pytest.mark.parametrize("title,raw,voltage", [
    (LGZ, 236, 236),      # an E450: whole volts, whatever list it pushes
    (LGZ, 2357, 235.7),   # an E360 (0.1 V) under the same FLAG id: no phase reads 2357 V
    (ISK, 2357, 235.7),
    (b"XYZab\x01\x02\x03", 2357, 235.7),  # a FLAG id no profile knows: the generic 0.1 V
])
def test_a_meter_the_system_title_names_keeps_its_scalers_in_the_sil_list(title, raw, voltage):
    # The SiL list's 0.1 V stands for a meter nothing names; the register's scaler is
    # the meter's, not the push list's (found by a probe: an E450's 236 V read 23.6 V).
    values = [("octet-string", b"71000000")] + [("uint32", 100)] * 4 + [("uint16", raw)] * 3
    body = enc.encode(("structure", values + [("uint16", 150)] * 4 + [("uint32", 100)] * 12))
    got = readings(body, "auto", title)
    assert got["1-0:72.7.0"] == (voltage, "V")
    assert got["1-0:91.7.0"] == (1.5, "A")


@pytest.mark.parametrize("title,name,voltage", [
    (LGZ, None, 236), (ISK, None, 23.6), (None, b"LGZ1030653520967", 236),
    (None, b"ISK1030783821282", 23.6), (None, b"KFM1200200169986", 23.6),
])
def test_auto_profile_from_system_title_or_logical_name(title, name, voltage):
    objects = [(3, "1-0:32.7.0", 2)]
    values = [("uint16", 236)]
    if name is not None:
        objects.insert(0, (1, "0-0:42.0.0", 2))
        values.insert(0, ("octet-string", name))
    body = enc.push_setup_body(objects, values, push_obis="0-0:25.9.0")
    assert readings(body, "auto", title)["1-0:32.7.0"] == (voltage, "V")


@pytest.mark.parametrize("raw,voltage", [(230, 230), (2301, 230.1)])
def test_an_unnamed_p1_meter_reads_whole_volts_and_tenths_alike(raw, voltage):
    # Layout of a Meter&Control FLEXY F2's push as the one public reader of it takes it
    # (sbeerh/Flexy-Meter, Romande Energie): the push object 0-6:25.9.0, a 7-character
    # serial, no logical device name, voltages as uint16 whole volts. A P1 meter that
    # names itself nowhere but sends 0.1 V still reads right: 2301 V is no phase.
    objects = [(1, "0-0:96.1.1", 2), (3, "1-0:1.7.0", 2), (3, "1-0:32.7.0", 2), (3, "1-0:31.7.0", 2)]
    values = [("octet-string", b"1234567"), ("uint32", 1380), ("uint16", raw), ("uint16", 600)]
    body = enc.push_setup_body(objects, values, push_obis="0-6:25.9.0")
    got = readings(body, "auto")
    assert got["1-0:32.7.0"] == (voltage, "V")
    assert got["1-0:31.7.0"] == (6, "A") and got["1-0:1.7.0"] == (1380, "W")


@pytest.mark.parametrize("line,title,voltage", [
    ("my-list sil 1-0:32.7.0 1-0:31.7.0 1-0:1.7.0", LGZ, 95.0),
    ("my-list e450 1-0:32.7.0 1-0:31.7.0 1-0:1.7.0", ISK, 950),
    ("my-list sil 1-0:32.7.0 1-0:31.7.0 1-0:1.7.0", None, 95.0),
])
def test_a_list_the_user_names_keeps_the_scalers_it_says_whatever_the_title(line, title, voltage, user_lists):
    # Found by a review: the title's profile (LGZ: whole volts) overrode a user's "sil"
    # list on every ciphered push, and one naming e450 took the AM550's 0.1 V from ISK.
    lists_user.define(line)
    body = enc.encode(("structure", [("uint16", 950), ("uint16", 150), ("uint32", 5)]))
    got = readings(body, "auto", title, ["my-list"])
    assert got["1-0:32.7.0"] == (voltage, "V") and got["1-0:31.7.0"] == (1.5, "A")


def test_only_a_captured_value_attribute_names_the_meter():
    # The logical device name is attribute 2 of 0-0:42.0.0; attribute 1 is
    # the object's own OBIS code, which names no meter (and reads as "/1").
    objects = [(1, "0-0:42.0.0", 1), (3, "1-0:32.7.0", 2)]
    values = [("octet-string", b"LGZ1030653520967"), ("uint16", 2357)]
    got = readings(enc.push_setup_body(objects, values), "auto")
    assert got["0-0:42.0.0/1"] == ("LGZ1030653520967", None)
    assert got["1-0:32.7.0"] == (235.7, "V")  # generic profile, not the E450's whole volts


def test_lgz_on_the_p1_push_is_an_e360():
    body = enc.push_setup_body([(3, "1-0:32.7.0", 2)], [("uint16", 2357)], push_obis="0-6:25.9.0")
    assert readings(body, "auto", LGZ)["1-0:32.7.0"] == (235.7, "V")
    body = enc.push_setup_body([(3, "1-0:32.7.0", 2)], [("uint16", 236)], push_obis="0-8:25.9.0")
    assert readings(body, "auto", LGZ)["1-0:32.7.0"] == (236, "V")


def test_unit_comes_from_the_obis_group():
    codes = {
        "1-0:21.7.0": "W", "1-0:62.7.0": "W", "1-0:23.7.0": "var", "1-0:9.7.0": "VA",
        "1-0:1.8.1": "Wh", "1-0:5.8.0": "varh", "1-0:8.8.0": "varh", "1-0:91.7.0": "A",
        "1-0:72.7.0": "V", "1-0:14.7.0": "Hz", "1-0:13.7.0": None, "0-0:96.1.0": None,
        "0-1:24.2.1": None, "1-0:1.6.0": None,
    }
    body = enc.encode(("structure", [x for code in codes for x in
                                     (("octet-string", enc.obis(code)), ("uint32", 0))]))
    got = readings(body, "generic")
    assert {k: v[1] for k, v in got.items()} == codes


# --- the plan cache of push-setup bodies -------------------------------------


def test_a_repeated_capture_list_reuses_its_plan():
    del obis_push._plans[:]
    first = readings(enc.sil_info_push_body(seed=1), "am550")
    second = readings(enc.sil_info_push_body(seed=2), "am550")
    assert len(obis_push._plans) == 1
    assert first["1-0:1.7.0"] == (1001, "W") and second["1-0:1.7.0"] == (1002, "W")
    first["1-0:1.7.0"] = "changed"
    assert readings(enc.sil_info_push_body(seed=2), "am550") == second


def test_the_plan_cache_is_bounded():
    del obis_push._plans[:]
    for n in range(obis_push.MAX_PLANS + 3):
        objects = [(3, "1-0:%d.8.0" % (i + 1), 2) for i in range(n + 1)]
        readings(enc.push_setup_body(objects, [("uint32", 1)] * (n + 1)), "e450")
    assert len(obis_push._plans) == obis_push.MAX_PLANS


def test_a_plan_is_per_profile():
    del obis_push._plans[:]
    body = enc.sil_info_push_body()
    assert readings(body, "kaifa")["1-0:31.7.0"] == (0.123, "A")
    assert readings(body, "am550")["1-0:31.7.0"] == (1.23, "A")


# --- bad input: only the decoder's own errors --------------------------------


def test_a_truncated_body_is_malformed_at_every_cut(corpus):
    for name in ("ch-e450-vse2026", "eu-am550-tagged-ch0"):
        _, body = body_of(corpus, name)
        for cut in range(1, len(body)):
            with pytest.raises(AxdrError):
                readings(body[:cut])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["ch-e450-vse2026", "ch-e360-vse2026", "eu-am550-tagged-ch0",
                        "no-aidon-3phase-list", "no-kaifa-ma304-list2"]),
       st.data())
def test_mutated_real_bodies_raise_only_decoder_errors(corpus, name, data):
    raw = bytearray(body_of(corpus, name)[1])
    for _ in range(data.draw(st.integers(1, 3))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    try:
        got = readings(bytes(raw), data.draw(st.sampled_from(["auto", "e450", "am550"])))
        assert isinstance(got, dict)
    except DecodeError:
        pass


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=120), st.sampled_from(["auto", "e450", "generic"]))
def test_random_bytes_raise_only_decoder_errors(data, profile):
    try:
        readings(data, profile)
    except DecodeError:
        pass


ENTRY = st.tuples(
    st.tuples(st.just(1), st.integers(0, 4), st.sampled_from([1, 2, 3, 4, 31, 32, 52, 71]),
              st.sampled_from([7, 8]), st.integers(0, 4)),
    st.integers(0, 2 ** 32 - 1), st.integers(-4, 4), st.sampled_from([27, 29, 30, 32, 33, 35, 255]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(ENTRY, min_size=1, max_size=12, unique_by=lambda e: e[0]))
def test_tagged_triplets_scale_exactly_as_the_frame_says(entries):
    items = []
    for code, value, scaler, unit in entries:
        items.append(("structure", [("octet-string", bytes(code) + b"\xff"), ("uint32", value),
                                    ("structure", [("int8", scaler), ("enum", unit)])]))
    got = readings(enc.encode(("array", items)), "kamstrup")
    symbols = {27: "W", 29: "var", 30: "Wh", 32: "varh", 33: "A", 35: "V", 255: None}
    for code, value, scaler, unit in entries:
        text = "%d-%d:%d.%d.%d" % code
        expected = value * 10 ** scaler if scaler >= 0 else value / 10 ** -scaler
        assert got[text] == (expected, symbols[unit])


def test_sagemcom_xt211_untagged_class_and_obis_quirk(corpus):
    apdu = bytes.fromhex(corpus["cz-sagemcom-xt211-compact"]["hex"])
    body = apdu[6:]  # 0F, invoke id (4), 00 = no date-time
    got = readings(body)
    assert got["0-0:96.1.1"] == ("5100005149", None)
    assert got["0-0:96.14.0"] == ("T2", None)
    # per-phase powers add up to the total, tariff registers to the sum
    assert got["1-0:1.7.0"] == (1956, "W")
    assert got["1-0:21.7.0"][0] + got["1-0:41.7.0"][0] + got["1-0:61.7.0"][0] == 1955
    assert got["1-0:1.8.0"] == (4913794, "Wh")
    assert got["1-0:1.8.1"][0] + got["1-0:1.8.2"][0] == 4913793
    assert got["0-0:96.3.10/3"] == (1, None)  # disconnect control state, attribute 3


def test_a_body_that_fits_no_style_keeps_the_a_xdr_error():
    with pytest.raises(AxdrError) as e:
        readings(b"\x02\x02\x60\x00")
    assert "0x60" in str(e.value)


def test_a_missing_scaler_then_a_present_one_reads_the_same_on_micropython():
    import decoder_support as ds
    from test_parity import assert_same, micropython

    def frame(su):
        body = enc.push_setup_body([(3, "1-0:32.7.0", 3), (3, "1-0:32.7.0", 2)], [su, ("uint16", 231)])
        return ds.hdlc_frame(ds.LLC + ds.data_notification(body))

    data = frame(_scale(0, 35)) + frame(("null", None)) + frame(_scale(0, 35))
    jobs = [{"id": "scaler", "hex": data.hex(), "meter": "am550"}]
    assert_same(jobs)
    values = [t["readings"]["1-0:32.7.0"]["value"] for t in micropython(jobs)[0]["telegrams"]]
    assert values == [231, 23.1, 231]
