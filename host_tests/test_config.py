"""Specification of firmware/config.py: defaults, validation naming the key, atomic save."""

import json
import os
import sys

import pytest

import config
from mp import run_micropython


def test_an_empty_file_means_every_default_and_the_board_device_id():
    cfg = config.validate({}, default_device_id="dongle1")
    assert cfg["meter"]["source"] == "uart"
    assert cfg["meter"]["baud"] == 9600
    assert cfg["meter"]["format"] == "8N1"  # the SiL notice's port settings
    assert cfg["meter"]["profile"] == "auto"
    assert cfg["mqtt"]["port"] == 1883
    assert cfg["mqtt"]["prefix"] == "meterlink"
    assert cfg["mqtt"]["discovery"] is True
    assert cfg["mqtt"]["layout"] == "meterlink"
    # smartmeter-datacollector's VSE sink publishes to dt/building/<meter>/ds by default
    # (its tests/test_mqtt_sink.py): the same group, so its consumers work unchanged.
    assert cfg["mqtt"]["vse_group"] == "building"
    assert cfg["mqtt"]["keepalive"] == 60
    assert cfg["mqtt"]["expire_after"] == 300
    assert config.validate({"mqtt": {"expire_after": 0}})["mqtt"]["expire_after"] == 0  # never
    assert cfg["http"]["port"] == 80
    assert cfg["device_id"] == "dongle1"


def test_meter_format_is_one_of_the_formats_meters_use_in_any_case():
    assert config.validate({"meter": {"format": "7e1"}})["meter"]["format"] == "7E1"
    assert config.validate({"meter": {"format": "8E1"}})["meter"]["format"] == "8E1"


def test_a_serial_device_is_set_to_the_format_with_stty():
    from board.unix_local import stty_line

    assert stty_line("8N1") == "cs8 -parenb -cstopb"
    assert stty_line("8E1") == "cs8 parenb -parodd -cstopb"
    assert stty_line("7E1") == "cs7 parenb -parodd -cstopb"


def test_a_serial_device_path_is_a_path_for_the_shell_and_a_non_tty_is_refused(tmp_path, monkeypatch):
    # stty ran the path unquoted: a space broke it, and "; command" ran the command.
    import os

    from board.unix_local import DeviceMeter

    monkeypatch.chdir(tmp_path)  # where an escaped "touch ran" would leave its file
    with pytest.raises(OSError, match="does not exist: is the adapter plugged in"):
        DeviceMeter("/dev/ttyUSB9; touch ran #", 9600)
    tricky = tmp_path / "a b'; touch ran; echo '"
    tricky.write_bytes(b"")
    with pytest.raises(OSError, match=r"\(exit status 1\): is it a serial port"):
        DeviceMeter(str(tricky), 9600)
    assert not (tmp_path / "ran").exists()
    with pytest.raises(OSError, match="is it a serial port"):
        DeviceMeter("/dev/null", 9600)  # no terminal: stty cannot set it
    master, slave = os.openpty()
    try:
        DeviceMeter(os.ttyname(slave), 115200, "8N1").close()  # a pty takes no 7E1
    finally:
        os.close(master)
        os.close(slave)


def test_validate_does_not_change_defaults():
    cfg = config.validate({"mqtt": {"port": 1884}})
    cfg["meter"]["lists"].append("x")
    assert config.DEFAULTS["mqtt"]["port"] == 1883
    assert config.DEFAULTS["meter"]["lists"] == []


@pytest.mark.parametrize(
    "given, key",
    [
        ({"mqtt": {"port": 0}}, "mqtt.port"),
        ({"mqtt": {"port": "abc"}}, "mqtt.port"),
        ({"mqtt": {"port": True}}, "mqtt.port"),
        ({"mqtt": {"keepalive": 1}}, "mqtt.keepalive"),  # a ping every half second: a typo
        ({"mqtt": {"keepalive": 7200}}, "mqtt.keepalive"),
        ({"mqtt": {"expire_after": -1}}, "mqtt.expire_after"),
        ({"mqtt": {"expire_after": 90000}}, "mqtt.expire_after"),  # over a day: a typo
        ({"mqtt": {"expire_after": 10}}, "mqtt.expire_after"),  # readings flicker between pushes
        ({"meter": {"baud": 9601}}, "meter.baud"),
        ({"meter": {"format": "8O2"}}, "meter.format"),
        ({"meter": {"format": 8}}, "meter.format"),
        ({"meter": {"key": "0011"}}, "meter.key"),
        ({"meter": {"auth_key": "zz" * 16}}, "meter.auth_key"),
        ({"meter": {"source": "tcp://localhost"}}, "meter.source"),
        ({"meter": {"source": ""}}, "meter.source"),
        ({"mqtt": {"prefix": "a/#"}}, "mqtt.prefix"),
        ({"mqtt": {"prefix": "/a"}}, "mqtt.prefix"),
        ({"mqtt": {"prefix": "$SYS"}}, "mqtt.prefix"),  # $ topics are the broker's (MQTT 3.1.1 4.7.2)
        ({"mqtt": {"discovery_prefix": "$share/x"}}, "mqtt.discovery_prefix"),
        ({"mqtt": {"host": "bad host name!"}}, "mqtt.host"),
        ({"mqtt": {"host": "broker/1883"}}, "mqtt.host"),
        ({"mqtt": {"host": "127.0.0.1:1883"}}, "mqtt.host"),  # the port goes in mqtt.port
        ({"mqtt": {"prefix": "a\x00b"}}, "mqtt.prefix"),
        # Other control characters: mosquitto drops a client that uses them (MQTT 3.1.1 1.5.3).
        ({"mqtt": {"prefix": "a\x01b"}}, "mqtt.prefix"),
        ({"mqtt": {"prefix": "meter\x7flink"}}, "mqtt.prefix"),
        ({"mqtt": {"discovery_prefix": "home\x85assistant"}}, "mqtt.discovery_prefix"),
        # A surrogate or a non-character: mosquitto refuses the CONNECT as malformed UTF-8.
        ({"mqtt": {"prefix": "meter\ud800"}}, "mqtt.prefix"),
        ({"mqtt": {"prefix": "meter\uffff"}}, "mqtt.prefix"),
        ({"mqtt": {"prefix": "meter\ufdd0"}}, "mqtt.prefix"),
        # The user name is in the CONNECT too: found by a black-box test, the broker refused
        # every connect and the gateway said only ECONNRESET.
        ({"mqtt": {"user": "a\x00b"}}, "mqtt.user"),
        ({"mqtt": {"user": "a\tb"}}, "mqtt.user"),
        ({"mqtt": {"user": "\ud800"}}, "mqtt.user"),
        ({"wifi": {"password": "g" * 64}}, "wifi.password"),  # 64 characters: only as hex digits
        ({"meter": {"source": "ftp://meter/capture"}}, "meter.source"),
        ({"meter": {"source": "tcp://:2000"}}, "meter.source"),
        ({"meter": {"source": "tcp://a b:7000"}}, "meter.source"),  # looked up for ever
        ({"meter": {"source": "tcp://host/x:7000"}}, "meter.source"),
        # Refused before, untested until an audit of this pass.
        ({"http": {"port": -1}}, "http.port"),
        ({"http": {"port": 65536}}, "http.port"),
        ({"http": {"port": "x"}}, "http.port"),
        ({"http": {"port": 80.5}}, "http.port"),
        ({"http": {"port": False}}, "http.port"),
        ({"mqtt": {"password": 5}}, "mqtt.password"),
        ({"mqtt": {"layout": "xml"}}, "mqtt.layout"),
        ({"mqtt": {"discovery": "maybe"}}, "mqtt.discovery"),
        ({"mqtt": {"hots": "x"}}, "mqtt.hots"),
        ({"wifi": {"password": "short"}}, "wifi.password"),
        ({"wifi": {"ssid": "x" * 33}}, "wifi.ssid"),
        ({"wifi": {"txpower": "loud"}}, "wifi.txpower"),  # a number of dBm
        # Digits other than ASCII: CPython's int() and float() take them, the device does not
        # (deploy and make run passed "８８" and crashed on "²").
        ({"mqtt": {"port": "\u00b2"}}, "mqtt.port"),
        ({"mqtt": {"port": "\uff18\uff18"}}, "mqtt.port"),
        ({"wifi": {"txpower": "\uff18.\uff15"}}, "wifi.txpower"),
        ({"wifi": {"txpower": "nan"}}, "wifi.txpower"),
        ({"wifi": {"txpower": True}}, "wifi.txpower"),
        ({"wifi": {"txpower": 1.5}}, "wifi.txpower"),  # below ESP-IDF's 8 quarter-dBm
        ({"wifi": {"txpower": 21.5}}, "wifi.txpower"),  # above its 84
        ({"wifi": {"txpower": -8}}, "wifi.txpower"),
        ({"device_id": "has space"}, "device_id"),
        ({"http": "80"}, "http"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_an_invalid_value_is_refused_naming_its_dotted_key(given, key):
    with pytest.raises(config.ConfigError) as info:
        config.validate(given)
    assert info.value.key == key
    assert str(info.value).startswith(key + ":")


@pytest.mark.parametrize("dbm", [None, 2, 8.5, 13, 21])
def test_wifi_txpower_is_null_for_the_default_or_dbm_the_radio_accepts(dbm):
    # ESP32-C3 SuperMini boards join only with the power capped, commonly at 8.5 dBm.
    assert config.validate({"wifi": {"txpower": dbm}})["wifi"]["txpower"] == dbm
    assert config.validate({})["wifi"]["txpower"] is None


@pytest.mark.parametrize("typed, dbm", [("8.5", 8.5), (" 11 ", 11.0), ("", None)])
def test_wifi_txpower_typed_in_a_form_is_read_as_a_number(typed, dbm):
    assert config.validate({"wifi": {"txpower": typed}})["wifi"]["txpower"] == dbm


def test_a_refused_txpower_says_the_range():
    with pytest.raises(config.ConfigError, match=r"^wifi.txpower: must be between 2 and 21 dBm"):
        config.validate({"wifi": {"txpower": 30}})


@pytest.mark.parametrize("host", ["broker", "mqtt.example.ch", "192.168.1.20", "fe80::1", "my_nas.local"])
def test_host_names_and_addresses_are_accepted(host):
    assert config.validate({"mqtt": {"host": host}})["mqtt"]["host"] == host


@pytest.mark.parametrize("source", ["uart", "tcp://ser2net.local:7000", "tcp://[::1]:7000", "tcp://10.0.0.5:2001",
                                    "tcp://[fe80::1%eth0]:7000",
                                    "/dev/ttyUSB0", "captures/e450.bin"])
def test_meter_sources_of_every_kind_are_accepted(source):
    # "uart" too: the device's own; the unix board refuses it at start (board/unix.py).
    assert config.validate({"meter": {"source": source}})["meter"]["source"] == source


def test_an_ipv6_broker_address_is_refused_on_the_esp32_which_has_no_ipv6(monkeypatch):
    # MicroPython's ESP32 getaddrinfo gives no address for one: every connect failed.
    monkeypatch.setattr(sys, "platform", "esp32")
    with pytest.raises(config.ConfigError, match=r"^mqtt.host: the ESP32 has no IPv6"):
        config.validate({"mqtt": {"host": "fd00::10"}})
    assert config.validate({"mqtt": {"host": "192.168.1.20"}})["mqtt"]["host"] == "192.168.1.20"


def test_an_unknown_meter_profile_is_refused_with_the_known_ones():
    # It used to pass here and stop the gateway at start: an ESP32 then opened no portal.
    with pytest.raises(config.ConfigError, match=r"^meter.profile: unknown meter profile 'kamstrup_wh' "
                                                 r"\(known: auto, .*kamstrup-wh"):
        config.validate({"meter": {"profile": "kamstrup_wh"}})
    for name in ("auto", "e450", "kamstrup-wh", "flexy-f2"):
        assert config.validate({"meter": {"profile": name}})["meter"]["profile"] == name


def test_form_strings_are_normalised():
    cfg = config.validate(
        {
            "mqtt": {"port": "1884", "discovery": "false"},
            "meter": {"key": "00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF",
                      "lists": "sil-consumer-info-1, kn-list"},
        }
    )
    assert cfg["mqtt"]["port"] == 1884
    assert cfg["mqtt"]["discovery"] is False
    assert cfg["meter"]["key"] == "00112233445566778899aabbccddeeff"
    assert cfg["meter"]["lists"] == ["sil-consumer-info-1", "kn-list"]


def test_meter_lists_names_known_lists_or_defines_one(user_lists):
    # A value list the decoder does not know stopped the gateway at start, after the
    # configuration had passed (an ESP32 then neither ran nor opened the portal).
    line = "tg-e450 e450 1-0:1.8.0 1-0:2.8.0"
    assert config.validate({"meter": {"lists": ["kn-list", line]}})["meter"]["lists"] == ["kn-list", line]
    for lists, message in (
        (["kn-lists"], r"^meter.lists: unknown value list 'kn-lists' \(known: sil-consumer-info-1, "),
        (["tg-e450 e450"], r"^meter.lists: 'tg-e450 e450': a value list is a name, a meter profile and the OBIS"),
        (["tg e451 1-0:1.8.0"], r"^meter.lists: tg: unknown meter profile 'e451' \(known: sil, e450, "),
        (["tg e450 1-0:1.8"], r"^meter.lists: tg: '1-0:1.8' is not an OBIS code A-B:C.D.E"),
        (["tg e450 1-0:1.8.256"], r"^meter.lists: tg: '1-0:1.8.256' is not an OBIS code"),
        (["tg e450:= 1-0:1.8.0"], r"^meter.lists: tg: the mark '=' must be = and hex digits"),
        (["kn-list e450 1-0:1.8.0"], r"^meter.lists: 'kn-list' is the name of a list already"),
    ):
        with pytest.raises(config.ConfigError, match=message):
            config.validate({"meter": {"lists": lists}})


def test_save_writes_atomically_and_load_reads_back(tmp_path):
    path = str(tmp_path / "config.json")
    config.save(path, {"mqtt": {"host": "broker"}})
    config.save(path, {"mqtt": {"host": "broker2"}})
    assert not os.path.exists(path + ".tmp")
    assert config.load(path)["mqtt"]["host"] == "broker2"
    with open(path) as f:
        assert json.load(f)["device_id"] == ""


def test_save_makes_the_folder_a_fresh_checkout_lacks(tmp_path):
    # The unix port's default is var/config.json; a fresh checkout has no var/.
    path = str(tmp_path / "var" / "config.json")
    config.save(path, {"mqtt": {"host": "broker"}})
    assert config.load(path)["mqtt"]["host"] == "broker"


def test_save_refuses_invalid_and_keeps_the_old_file(tmp_path):
    path = str(tmp_path / "config.json")
    config.save(path, {"mqtt": {"host": "broker"}})
    with pytest.raises(config.ConfigError):
        config.save(path, {"mqtt": {"port": -1}})
    assert config.load(path)["mqtt"]["host"] == "broker"


def test_a_missing_file_is_all_defaults_and_broken_json_is_an_error(tmp_path):
    assert config.load(str(tmp_path / "none.json"))["mqtt"]["port"] == 1883
    bad = tmp_path / "bad.json"
    bad.write_text("{mqtt")
    with pytest.raises(config.ConfigError):
        config.load(str(bad))


# Files that are no configuration: each refused with a message, never a traceback (the
# gateway would exit with one, and the portal boot would not open on the device).
BAD_FILES = {
    "latin-1": (b'{"device_id": "caf\xe9"}', "is not UTF-8 text"),
    "nested": (b"[" * 5000 + b"]" * 5000, "nests too deep"),
    "huge": (b'{"mqtt": {"host": "' + b"h" * 20000 + b'"}}', "more than a configuration holds"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_file_that_is_no_configuration_is_refused_by_name(tmp_path, name):
    raw, message = BAD_FILES[name]
    path = tmp_path / "config.json"
    path.write_bytes(raw)
    with pytest.raises(config.ConfigError) as e:
        config.load(str(path))
    assert e.value.key == "(file)" and message in str(e.value)


def test_a_file_saved_with_a_byte_order_mark_is_read(tmp_path):
    # Windows Notepad writes one before the JSON; it was refused as "not valid JSON".
    path = tmp_path / "config.json"
    path.write_bytes(b'\xef\xbb\xbf{"mqtt": {"port": 1884}}\r\n')
    assert config.load(str(path))["mqtt"]["port"] == 1884
    script = tmp_path / "t.py"
    script.write_text("import config\nprint(config.load(%r)['mqtt']['port'])\n" % str(path))
    done = run_micropython([str(script)])
    assert done.stdout.strip() == b"1884", done.stdout + done.stderr


def test_a_directory_given_as_the_file_is_refused_not_taken_for_missing(tmp_path):
    with pytest.raises(config.ConfigError) as e:
        config.load(str(tmp_path))
    assert "cannot read" in str(e.value)


def test_bad_files_are_refused_the_same_on_micropython(tmp_path):
    paths = []
    for name in sorted(BAD_FILES):
        path = tmp_path / (name + ".json")
        path.write_bytes(BAD_FILES[name][0])
        paths.append(str(path))
    script = tmp_path / "t.py"
    script.write_text(
        "import config\n"
        "for p in %r:\n"
        "    try:\n"
        "        config.load(p)\n"
        "    except config.ConfigError as e:\n"
        "        print(e.key, str(e).split(': ', 2)[-1].split(' ', 1)[1])\n" % (paths + [str(tmp_path)],))
    out = run_micropython([str(script)])
    assert out.returncode == 0, out.stderr.decode()
    lines = out.stdout.decode().splitlines()
    assert len(lines) == 4 and all(line.startswith("(file) ") for line in lines), lines
    for line, name in zip(lines, sorted(BAD_FILES)):
        assert BAD_FILES[name][1] in line


@pytest.mark.parametrize("psk", ["0123456789abcdef" * 4, "0123456789ABCDEF" * 4, "a" * 8, "a" * 63])
def test_a_wpa2_passphrase_or_its_64_hex_digit_key_is_accepted(psk):
    assert config.validate({"wifi": {"password": psk}})["wifi"]["password"] == psk


@pytest.mark.parametrize("ssid, ok", [("a" * 32, True), ("ä" * 16, True), ("ä" * 17, False), ("a" * 33, False)])
def test_an_ssid_is_at_most_32_bytes_not_characters(ssid, ok):
    # IEEE 802.11: the SSID is 0-32 octets; "ä" is two in UTF-8.
    if ok:
        assert config.validate({"wifi": {"ssid": ssid}})["wifi"]["ssid"] == ssid
    else:
        with pytest.raises(config.ConfigError) as e:
            config.validate({"wifi": {"ssid": ssid}})
        assert e.value.key == "wifi.ssid"


def test_config_behaves_the_same_on_micropython(tmp_path):
    script = tmp_path / "t.py"
    script.write_text(
        "import config\n"
        "try:\n"
        "    config.validate({'mqtt': {'port': 70000}})\n"
        "except config.ConfigError as e:\n"
        "    print(e.key, str(e))\n"
        "p = %r\n"
        "config.save(p, {'meter': {'key': 'AB' * 16}})\n"
        "print(config.load(p, 'h')['meter']['key'], config.load(p, 'h')['device_id'])\n" % str(tmp_path / "var" / "c.json")
    )
    out = run_micropython([str(script)])
    assert out.returncode == 0, out.stderr
    lines = out.stdout.decode().splitlines()
    assert lines == ["mqtt.port mqtt.port: must be between 1 and 65535", "ab" * 16 + " h"]


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10 ** 6, 10 ** 6) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
_SECTIONS = st.fixed_dictionaries({}, optional={
    name: st.dictionaries(st.sampled_from(sorted(config.DEFAULTS[name]) + ["bogus"]), _JSON, max_size=6)
    for name in ("meter", "mqtt", "http", "wifi", "admin")
})


@settings(max_examples=300, deadline=None)
@given(_SECTIONS | _JSON)
def test_any_json_is_either_a_complete_config_or_a_config_error(doc):
    try:
        cfg = config.validate(doc, "dev")
    except config.ConfigError as e:
        assert e.key and str(e).startswith(e.key + ":")
        return
    assert set(cfg) == set(config.DEFAULTS)
    assert config.validate(cfg, "dev") == cfg  # normalised output validates to itself
