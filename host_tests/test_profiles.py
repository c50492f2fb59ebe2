"""Meter profiles (profiles.py) and untagged value lists (lists.py): the data the readings rely on."""

import pytest

import decoder

import axdr_support as enc
from decoder import lists as value_lists, profiles

QUANTITIES = ("power", "reactive", "apparent", "energy", "renergy", "aenergy",
              "voltage", "current", "pf", "frequency")


@pytest.mark.parametrize("name", sorted(profiles.PROFILES))
def test_every_profile_has_an_exponent_for_every_quantity(name):
    p = profiles.PROFILES[name]
    assert p["name"] == name
    for q in QUANTITIES:
        assert isinstance(p[q], int) and -6 <= p[q] <= 6


def test_the_swiss_meters_differ_only_where_the_captures_show_it():
    e450, e360, am550 = (profiles.PROFILES[n] for n in ("e450", "e360", "am550"))
    assert e450["voltage"] == 0 and e360["voltage"] == am550["voltage"] == -1
    assert e450["current"] == e360["current"] == am550["current"] == -2
    for q in ("power", "reactive", "energy", "renergy"):
        assert e450[q] == e360[q] == am550[q] == 0


def test_flexy_f2_is_the_am550_but_in_whole_volts():
    # The one public FLEXY F2 reader (sbeerh/Flexy-Meter, a Romande Energie meter) reads
    # its voltages as whole volts; nothing public says otherwise for the rest.
    flexy, am550 = profiles.PROFILES["flexy-f2"], profiles.PROFILES["am550"]
    assert flexy["voltage"] == 0
    assert all(flexy[q] == am550[q] for q in QUANTITIES if q != "voltage")


@pytest.mark.parametrize("title,name,channel,expected", [
    (b"LGZgs\x01\x02\x03", None, None, "e450"),
    (b"LGZgs\x01\x02\x03", None, 8, "e450"),
    (b"LGZgs\x01\x02\x03", None, 6, "e360"),      # LGZ on the P1 push: E360
    (b"ISKit\x01\x02\x03", None, None, "am550"),
    (b"KFMgP\x00\x00\x09", None, None, "kaifa"),
    (b"SAGgp\x01\x02\x03", None, None, "sagemcom"),
    (b"KAME\x01\x34\x90\x83", None, None, "kamstrup"),
    (b"ZPA\x00\x01\x02\x03\x04", None, None, "zpa"),
    (None, "LGZ1030655933512", None, "e450"),
    (None, "ISK1030775213859", 6, "am550"),
    (None, "AIDON_V0001", None, "aidon"),
    (None, "Kamstrup_V0001", None, "kamstrup"),
    (None, "KFM_001", None, "kaifa"),
    (None, "63316890", 8, "e450"),                # only the M-Bus push object
    (None, None, 6, "flexy-f2"),                  # P1, unnamed: AM550s and E360s name themselves
    (None, None, None, "generic"),
    (b"\x00\x01\x02\x03\x04\x05\x06\x07", None, None, "generic"),
])
def test_auto_resolution(title, name, channel, expected):
    assert profiles.resolve("auto", title, name, channel)["name"] == expected


def test_the_system_title_wins_over_the_logical_name():
    assert profiles.resolve("auto", b"ISKit\x01\x02\x03", "LGZ1")["name"] == "am550"


def test_a_named_profile_is_taken_as_is_and_an_unknown_one_is_refused():
    assert profiles.resolve("kamstrup", b"LGZgs\x01\x02\x03")["name"] == "kamstrup"
    with pytest.raises(ValueError) as e:
        profiles.resolve("e999")
    assert "e450" in str(e.value)


def test_sil_lists_follow_the_notice():
    assert list(value_lists.LISTS["sil-consumer-info-1"]["obis"]) == enc.SIL_INFO_1
    assert list(value_lists.LISTS["sil-consumer-message"]["obis"]) == enc.SIL_MESSAGE
    for name in ("sil-consumer-info-1", "sil-consumer-message"):
        assert value_lists.LISTS[name]["exponents"] == {"voltage": -1, "current": -2}


def test_default_lists_of_one_length_are_told_apart_in_the_order_they_are_tried():
    # Choosing by count stays unambiguous: lists of the same length differ in their mark on
    # the first value ("first"), or, with the same mark, the one tried first refuses in some
    # slot what the later one takes there (a number where the other takes any value, a
    # disconnect state where the other takes a voltage), so it does not take its pushes.
    by_length = {}
    assert value_lists.list_names() == list(value_lists.LISTS)
    for name in value_lists.list_names():
        spec = value_lists.LISTS[name]
        assert spec["count"] == len(spec["obis"])
        kinds = [value_lists.slot_kind(code) for code in spec["obis"]]
        for earlier, earlier_kinds in by_length.get((spec["count"], spec.get("first")), []):
            assert any(k != value_lists._KIND_ANY and k != kinds[i] for i, k in enumerate(earlier_kinds)), \
                (earlier, name)
        by_length.setdefault((spec["count"], spec.get("first")), []).append((name, kinds))
    for name, spec in value_lists.LISTS.items():
        assert spec.get("profile", "generic") in profiles.PROFILES, name


def test_a_list_of_the_users_joins_the_table_and_is_tried_like_the_others(user_lists):
    # decoder/lists_user.py: "name profile[:mark] codes..." appended to the table.
    from decoder import obis_untagged

    builtin = user_lists.list_names()
    line = "my-sagemcom sagemcom:# 0-0:96.1.0 - 1-0:1.8.0 1-0:32.7.0"
    assert user_lists.names([line]) == user_lists.names([line]) == ["my-sagemcom"]  # the same line again: no error
    assert user_lists.list_names() == builtin + ["my-sagemcom"]
    assert user_lists.LISTS["my-sagemcom"] == {"obis": ("0-0:96.1.0", "-", "1-0:1.8.0", "1-0:32.7.0"),
                                               "count": 4, "profile": "sagemcom", "first": "#"}
    push = [b"12345678", 7, 1500, 2301]
    out = obis_untagged.readings(push, "auto", profiles.resolve("generic"), None, ["my-sagemcom"])
    assert out["0-0:96.1.0"][0] == "12345678" and out["1-0:1.8.0"] == (1500, "Wh")
    assert "#2" not in out and len(out) == 3  # "-": a value left out
    assert obis_untagged.readings([b"ABC", 7, 1500, 2301], "auto", profiles.resolve("generic"), None,
                                  ["my-sagemcom"])["#1"]  # the mark: digits only
    with pytest.raises(ValueError, match="'kaifa-ma304-list1' is the name of a list already"):
        user_lists.names(["kaifa-ma304-list1 e450 1-0:1.8.0"])


def test_a_changed_list_of_the_users_replaces_its_old_line(user_lists):
    # New settings in the same process (the unix gateway's restart after a save) bring the
    # list again, changed: "is the name of a list already" refused them for good.
    from decoder import obis_untagged

    builtin = user_lists.list_names()
    assert user_lists.names(["my-e450 e450 1-0:1.8.0 1-0:2.8.0"]) == ["my-e450"]
    generic = profiles.resolve("generic")
    assert obis_untagged.readings([1500, 20], "auto", generic, None, ["my-e450"])["1-0:2.8.0"] == (20, "Wh")
    assert user_lists.names(["my-e450 e450 1-0:1.8.0 1-0:3.8.0"]) == ["my-e450"]
    assert user_lists.list_names() == builtin + ["my-e450"]
    out = obis_untagged.readings([1500, 20], "auto", generic, None, ["my-e450"])
    assert "1-0:2.8.0" not in out and out["1-0:3.8.0"][0] == 20


def test_one_name_defined_twice_in_one_setting_is_refused(user_lists):
    # A changed line replaces one of earlier settings, so two in one setting would let
    # the second win silently (import read as export, found by a review).
    import config

    first, second = "tg e450 1-0:1.8.0 1-0:2.8.0", "tg e450 1-0:2.8.0 1-0:1.8.0"
    with pytest.raises(config.ConfigError, match=r"^meter.lists: 'tg' is defined twice"):
        config.validate({"meter": {"lists": [first, second]}})
    builtin = user_lists.list_names()
    with pytest.raises(ValueError, match=r"^lists: 'tg' is defined twice"):
        decoder.Decoder(lists=[first, second])
    assert user_lists.list_names() == builtin  # a refused setting changes nothing
    assert decoder.Decoder(lists=[first, "tg"])  # defined, then named: one list


def test_a_refused_setting_leaves_the_table_as_it_was(user_lists):
    # Each line was added as it passed: the items after a refused one were never looked at,
    # and those before it stayed, a changed line in place of the one a decoder reads with.
    assert decoder.Decoder(lists=["tg e450 1-0:1.8.0 1-0:2.8.0"])
    builtin = user_lists.list_names()
    for refused in (["tg e450 1-0:1.8.0 1-0:3.8.0", "no-such-list"], ["new e450 1-0:1.8.0", "new2 e451 1-0:1.8.0"]):
        with pytest.raises(ValueError):
            decoder.Decoder(lists=refused)
        assert user_lists.list_names() == builtin
        assert user_lists.LISTS["tg"]["obis"] == ("1-0:1.8.0", "1-0:2.8.0")


def test_a_setting_without_lists_reads_as_if_no_earlier_one_had_defined_any(user_lists, corpus):
    # The unix gateway restarts in its process after a save: the new settings' decoder
    # tried every list of the table, the old settings' line of the user's with them,
    # where a device, which resets, reads the same pushes as positional values.
    # A Thurgau E450 pushes two values and no OBIS codes.
    capture = bytes.fromhex(corpus["ch-e450-tg-3apdus-one-frame"]["hex"])
    named = decoder.Decoder(lists=["tg e450 1-0:1.8.0 1-0:2.8.0"]).feed(capture)
    assert named[0].readings["1-0:1.8.0"][0] == 21040168
    later = decoder.Decoder().feed(capture)
    assert "1-0:1.8.0" not in later[0].readings and later[0].readings["#1"][0] == 21040168


def test_a_list_defined_then_named_is_one_list_for_the_config_as_for_the_decoder(user_lists):
    # config.py checked a plain name against the table only, where its check of a definition
    # never puts it: a setting the decoder takes was refused as an unknown list.
    import config

    first = "tg e450 1-0:1.8.0 1-0:2.8.0"
    assert config.validate({"meter": {"lists": [first, "tg"]}})["meter"]["lists"] == [first, "tg"]
    assert user_lists.names([first, "tg"], False) == ["tg", "tg"]
    again = "tg e450 1-0:2.8.0 1-0:1.8.0"
    with pytest.raises(config.ConfigError, match=r"^meter.lists: 'tg' is defined twice"):
        config.validate({"meter": {"lists": [first, "tg", again]}})
    with pytest.raises(config.ConfigError, match=r"^meter.lists: unknown value list 'tg' \(known: "):
        config.validate({"meter": {"lists": ["tg", first]}})  # a name is known from its definition on


def test_a_list_an_earlier_setting_defined_is_no_name_a_new_setting_may_use(user_lists):
    # The unix gateway restarts in its process after a /config save, with the table as the
    # old settings left it; a check that took "tg" there passed a save that the next start
    # (a device's reset) refuses, and the dongle fell back to its setup page.
    import config

    assert decoder.Decoder(lists=["tg e450 1-0:1.8.0 1-0:2.8.0"])
    with pytest.raises(config.ConfigError, match=r"^meter.lists: unknown value list 'tg' \(known: ") as e:
        config.validate({"meter": {"lists": ["tg"]}})
    assert "tg" not in str(e.value).split("(known: ")[1].split(", ")
    with pytest.raises(ValueError, match=r"^lists: unknown value list 'tg'"):
        decoder.Decoder(lists=["tg"])
    assert decoder.Decoder(lists=["tg e450 1-0:1.8.0 1-0:2.8.0", "tg"])  # defined again: fine


def test_an_unknown_list_name_given_to_the_decoder_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"^lists: unknown value list 'sil-consumer' \(known: sil-consumer-info-1, "):
        decoder.Decoder(lists=["sil-consumer"])


def test_checking_a_definition_leaves_the_table_as_it_was(user_lists):
    # config.py checks meter.lists of a form while the gateway runs on its own table.
    import config

    builtin = user_lists.list_names()
    line = "my-check e450 1-0:1.8.0"
    assert config.validate({"meter": {"lists": [line]}})["meter"]["lists"] == [line]
    assert user_lists.list_names() == builtin


@pytest.mark.parametrize("clock", ["090c07e80301050c223800ffc400", "1907e80301050c223800ffc400"])
def test_a_list_marked_by_its_clock_takes_it_as_an_octet_string_or_as_the_date_time_type(clock):
    # IEC 62056-6-2 lets a date-time go as 09 0C or as type 0x19; the list that opens with
    # the clock ("@", Wiener Netze's) took only the first, and the second read #1, #2, ...
    energies = "".join("06%08x" % (1000 + i) for i in range(8))
    push = bytes.fromhex("0f00000001000209" + clock + energies)
    (telegram,) = decoder.Decoder().feed(push)
    assert telegram.meter_time == "2024-03-01T12:34:56+01:00"
    assert telegram.readings["1-0:1.8.0"] == (1000, "Wh")
