"""The portal's rules, in-process: when the portal opens, how the form becomes a
configuration, the admin password guard, and what the page may show."""

import base64
import json

import pytest

import config
from portal import auth, boot, form, meters, mode, page

KEY = "00112233445566778899aabbccddeeff"
GOOD = {
    "wifi.ssid": "Home",
    "wifi.password": "wifi-pass-1",
    "meter": "am550",
    "meter.key": KEY,
    "meter.auth_key": "",
    "mqtt.host": "broker.lan",
    "mqtt.port": "1883",
    "mqtt.user": "me",
    "mqtt.password": "mqtt-pass-1",
    "mqtt.prefix": "meterlink",
    "mqtt.discovery": "on",
    "admin.password": "admin-pass-1",
}


def defaults():
    return config.validate({})


class TestWhenThePortalOpens:
    @pytest.mark.parametrize(
        "config_ok, button, joined, failed, expected",
        [
            (False, False, False, False, mode.PORTAL),  # first boot: nothing configured
            (False, False, True, False, mode.PORTAL),
            (True, True, True, False, mode.PORTAL),  # the owner holds the button
            (True, False, False, False, mode.STATION),  # new settings: try them first
            (True, False, False, True, mode.PORTAL),  # ...and they never worked
            (True, False, True, True, mode.STATION),  # worked before: jammer, keep trying
            (True, False, True, False, mode.STATION),
        ],
    )
    def test_the_decision_table(self, config_ok, button, joined, failed, expected):
        assert mode.choose(config_ok, button, joined, failed) == expected

    def test_an_unreachable_known_network_never_opens_the_portal(self):
        for failed in (False, True):
            assert mode.choose(True, False, True, failed) == mode.STATION

    def test_a_config_without_a_network_is_not_ready(self):
        assert not mode.config_ready(defaults())
        cfg = defaults()
        cfg["wifi"]["ssid"] = "Home"
        assert mode.config_ready(cfg)

    def test_joining_is_remembered_until_the_configuration_changes(self, tmp_path):
        path = str(tmp_path / "config.json")
        assert not mode.joined_before(path)  # no file at all
        config.save(path, {"wifi": {"ssid": "Home"}})
        assert not mode.joined_before(path)
        mode.mark_joined(path)
        assert mode.joined_before(path)
        config.save(path, {"wifi": {"ssid": "Other"}})
        assert not mode.joined_before(path)

    @pytest.mark.parametrize(
        "device, ssid",
        [("a4cf12b3fa2e", "meterlink-FA2E"), ("vm", "meterlink-0000"),
         ("3c:71:bf:0a:1b:2c", "meterlink-1B2C")],
    )
    def test_the_access_point_is_named_after_the_device_id(self, device, ssid):
        assert boot.ap_ssid(device) == ssid


class TestTheForm:
    def test_a_complete_form_becomes_a_valid_configuration(self):
        cfg, errors = form.apply(GOOD, defaults())
        assert errors == {}
        assert cfg["wifi"] == {"ssid": "Home", "password": "wifi-pass-1", "txpower": None}
        assert cfg["meter"]["profile"] == "am550" and cfg["meter"]["baud"] == 9600
        assert cfg["meter"]["format"] == "8N1"
        assert cfg["meter"]["key"] == KEY
        assert cfg["mqtt"]["port"] == 1883 and cfg["mqtt"]["discovery"] is True
        assert cfg["admin"]["password"] == "admin-pass-1"

    def test_every_wrong_field_is_reported_at_once(self):
        bad = dict(GOOD, **{"mqtt.port": "70000", "meter.key": "12345", "mqtt.prefix": "a/#",
                            "meter.auth_key": "zz" * 16, "wifi.password": "short"})
        _, errors = form.apply(bad, defaults())
        assert set(errors) == {"mqtt.port", "meter.key", "meter.auth_key", "mqtt.prefix",
                               "wifi.password"}
        assert "65535" in errors["mqtt.port"]
        assert "32 hex digits" in errors["meter.key"]

    def test_a_network_and_an_admin_password_are_required(self):
        _, errors = form.apply(dict(GOOD, **{"wifi.ssid": "", "admin.password": ""}), defaults())
        assert set(errors) == {"wifi.ssid", "admin.password"}
        _, errors = form.apply(dict(GOOD, **{"admin.password": "1234"}), defaults())
        assert "at least 8" in errors["admin.password"]

    def test_empty_secret_fields_keep_the_stored_secrets(self):
        stored, _ = form.apply(GOOD, defaults())
        again = dict(GOOD, **{k: "" for k in config.SECRET_KEYS})
        again["mqtt.host"] = "new.lan"
        cfg, errors = form.apply(again, stored)
        assert errors == {}
        assert cfg["mqtt"]["host"] == "new.lan"
        for key in config.SECRET_KEYS:
            assert config.get(cfg, key) == config.get(stored, key)

    def test_another_network_with_the_password_left_empty_is_an_open_one(self):
        # The field's hint says "empty for an open network", but the old network's
        # password was kept: switching from Home to Neighbour joined with Home's password.
        stored, _ = form.apply(GOOD, defaults())
        assert stored["wifi"]["password"] == "wifi-pass-1"
        moved, errors = form.apply(dict(GOOD, **{"wifi.ssid": "Cafe", "wifi.password": ""}), stored)
        assert errors == {} and moved["wifi"] == dict(stored["wifi"], ssid="Cafe", password="")
        typed, _ = form.apply(dict(GOOD, **{"wifi.ssid": "Cafe", "wifi.password": "cafe-pass-2"}), stored)
        assert typed["wifi"]["password"] == "cafe-pass-2"

    def test_a_typed_hidden_network_wins_over_the_list(self):
        cfg, _ = form.apply(dict(GOOD, **{"wifi.ssid_other": " Hidden Net "}), defaults())
        assert cfg["wifi"]["ssid"] == "Hidden Net"

    def test_a_network_picked_from_the_scan_keeps_the_spaces_of_its_name(self):
        cfg, _ = form.apply(dict(GOOD, **{"wifi.ssid": "  Spaced  "}), defaults())
        assert cfg["wifi"]["ssid"] == "  Spaced  "

    def test_an_unticked_checkbox_turns_discovery_off(self):
        posted = dict(GOOD)
        del posted["mqtt.discovery"]
        assert form.apply(posted, defaults())[0]["mqtt"]["discovery"] is False

    def test_keys_may_be_typed_with_separators_and_in_upper_case(self):
        spaced = " ".join(KEY[i:i + 2].upper() for i in range(0, 32, 2))
        assert form.apply(dict(GOOD, **{"meter.key": spaced}), defaults())[0]["meter"]["key"] == KEY

    @pytest.mark.parametrize("pasted", [
        " " + KEY + "\t", KEY[:16] + "\u00a0" + KEY[16:],  # a stray tab, a no-break space
        "-".join(KEY[i:i + 8] for i in range(0, 32, 8)),  # grouped with dashes
        "0x" + KEY.upper(), ", ".join("0x" + KEY[i:i + 2] for i in range(0, 32, 2)),  # C forms
    ])
    def test_keys_are_taken_as_utilities_and_tools_write_them(self, pasted):
        # Found in a browser: the page's pattern refused these with "match the requested
        # format" in a masked field, and the device refused 0x and dashes.
        assert form.apply(dict(GOOD, **{"meter.key": pasted}), defaults())[0]["meter"]["key"] == KEY

    @pytest.mark.parametrize("typed, said", [(KEY[:30], "not 30"), (KEY[:31] + "g", "hex digits 0-9, a-f")])
    def test_a_wrong_key_says_what_is_wrong_with_it(self, typed, said):
        errors = form.apply(dict(GOOD, **{"meter.key": typed}), defaults())[1]
        assert said in errors["meter.key"]

    def test_a_refused_hidden_network_name_stays_in_its_box_with_the_message(self):
        # It moved into the network list, as if picked, and its box was hidden.
        name = "Familie M\u00fcller WLAN \U0001f3e0 S\u00fcdfl\u00fcgel"  # 32 characters, 37 bytes
        errors = form.apply(dict(GOOD, **{"wifi.ssid": "", "wifi.ssid_other": name}), defaults())[1]
        assert "wifi.ssid" not in errors
        assert "too long for a WiFi name" in errors["wifi.ssid_other"] and "37" in errors["wifi.ssid_other"]

    def test_every_preset_names_a_profile_the_decoder_knows(self):
        from decoder import profiles

        for preset_id, _, profile, baud, line in meters.PRESETS:
            assert profile == "auto" or profile in profiles.PROFILES, preset_id
            assert baud in config.BAUD_RATES
            assert line in config.LINE_FORMATS

    def test_the_swiss_kamstrup_preset_reads_energy_in_wh_at_its_han_modules_2400_baud(self):
        cfg, errors = form.apply(dict(GOOD, meter="kamstrup-ch"), defaults())
        assert errors == {}
        assert (cfg["meter"]["profile"], cfg["meter"]["baud"], cfg["meter"]["format"]) == ("kamstrup-wh", 2400, "8N1")

    @pytest.mark.parametrize("preset,settings", [
        ("e450-2400-8e1", ("e450", 2400, "8E1")),
        ("am550-115200", ("am550", 115200, "8N1")),
        ("flexy-f2-115200", ("flexy-f2", 115200, "8N1")),
    ])
    def test_a_meter_set_up_otherwise_than_sils_is_a_choice_too(self, preset, settings):
        # The page has no baud field: an EKZ E450 at 2400 8E1 could be set only in the file.
        cfg, errors = form.apply(dict(GOOD, meter=preset), defaults())
        assert errors == {}
        assert (cfg["meter"]["profile"], cfg["meter"]["baud"], cfg["meter"]["format"]) == settings
        assert meters.for_settings(*settings)[0] == preset

    def test_an_unknown_preset_is_a_field_error(self):
        assert "meter" in form.apply(dict(GOOD, meter="nope"), defaults())[1]

    def test_keep_current_leaves_the_line_settings_alone(self):
        stored = defaults()
        stored["meter"]["baud"], stored["meter"]["format"] = 115200, "7E1"
        cfg, errors = form.apply(dict(GOOD, meter="current"), stored)
        assert errors == {} and (cfg["meter"]["baud"], cfg["meter"]["format"]) == (115200, "7E1")

    def test_keep_current_leaves_an_unlisted_profile_alone(self):
        stored = defaults()
        stored["meter"]["profile"] = "kaifa"
        cfg, errors = form.apply(dict(GOOD, meter="current"), stored)
        assert errors == {} and cfg["meter"]["profile"] == "kaifa"


def basic(password, user="admin"):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class TestTheAdminGuard:
    def test_the_right_password_passes_whatever_the_user_name(self):
        guard = auth.Guard(FakeClock())
        assert guard.check(basic("admin-pass-1", "anyone"), "admin-pass-1") == auth.OK

    @pytest.mark.parametrize("password", ["\u00e4" * 128, "\U0001f600" * 128])
    def test_the_longest_password_config_takes_opens_in_any_script(self, password):
        # config.py takes 128 characters; UTF-8 spells them in up to 512 bytes. The header
        # bound was 256 characters: a saved "ä" * 100 could never open /config.
        assert config.validate({"admin": {"password": password}})["admin"]["password"] == password
        assert auth.Guard(FakeClock()).check(basic(password), password) == auth.OK

    @pytest.mark.parametrize("header", [None, "", "Bearer x", "Basic !!!", "Basic " + "A" * 800,
                                        "Basic " + base64.b64encode(b"no-colon").decode()])
    def test_missing_or_malformed_credentials_are_denied(self, header):
        assert auth.Guard(FakeClock()).check(header, "admin-pass-1") == auth.DENIED

    def test_an_empty_stored_password_never_matches(self):
        assert auth.Guard(FakeClock()).check(basic(""), "") == auth.DENIED

    def test_five_wrong_passwords_lock_everyone_out_for_a_while(self):
        clock = FakeClock()
        guard = auth.Guard(clock)
        for _ in range(auth.MAX_FAILURES):
            assert guard.check(basic("guess"), "admin-pass-1") == auth.DENIED
        assert guard.check(basic("admin-pass-1"), "admin-pass-1") == auth.LOCKED
        assert guard.retry_after() == auth.LOCKOUT_S + 1 or guard.retry_after() == auth.LOCKOUT_S
        clock.now += auth.LOCKOUT_S + 1
        assert guard.check(basic("admin-pass-1"), "admin-pass-1") == auth.OK

    def test_each_further_lockout_is_longer_up_to_the_cap(self):
        clock = FakeClock()
        guard = auth.Guard(clock)
        waits = []
        for _ in range(10):
            for _ in range(auth.MAX_FAILURES):
                guard.check(basic("guess"), "pw-pw-pw-1")
            waits.append(guard.retry_after())
            clock.now += waits[-1] + 1
        assert waits == sorted(waits) and waits[1] > waits[0]
        assert max(waits) <= auth.MAX_LOCKOUT_S + 1

    def test_a_visit_without_credentials_is_not_counted_as_a_guess(self):
        guard = auth.Guard(FakeClock())
        for _ in range(10):
            guard.check(None, "admin-pass-1")
        assert guard.check(basic("admin-pass-1"), "admin-pass-1") == auth.OK


class TestThePage:
    def render(self, **kw):
        args = dict(values={"mqtt.port": 1883, "mqtt.prefix": "meterlink"}, errors={},
                    secrets={}, networks=["Home", "Neighbour"])
        args.update(kw)
        return "".join(page.render(**args))

    def test_it_needs_nothing_from_outside(self):
        # The one link is an empty icon: without it each visit also asked for /favicon.ico,
        # which the portal answers with a redirect to the page, rendered a second time.
        html = self.render().replace('<link rel="icon" href="data:,">', "", 1)
        for needle in ("http://", "https://", "src=", "<link", "@import", "url("):
            assert needle not in html

    def test_it_is_small_and_phone_friendly(self):
        html = self.render()
        assert len(html) < 8000
        assert 'name="viewport" content="width=device-width' in html

    def test_scanned_names_are_escaped(self):
        html = self.render(networks=['<script>alert(1)</script>', 'a"b'])
        assert "<script>alert" not in html and "&lt;script&gt;" in html
        assert 'value="a&quot;b"' in html

    def test_stored_secrets_show_as_unchanged_and_are_never_written(self):
        secrets = {k: True for k in config.SECRET_KEYS}
        html = self.render(secrets=secrets)
        assert html.count('placeholder="unchanged"') == len(config.SECRET_KEYS)

    def test_each_error_is_shown_next_to_its_field(self):
        html = self.render(errors={"mqtt.port": "must be between 1 and 65535"})
        field = html.index('id="mqtt.port"')
        message = html.index('id="err-mqtt.port"')
        assert 0 < message - field < 200

    def test_keys_and_prefix_carry_no_pattern_the_device_does_not_have(self):
        # A pasted key with a stray space, a dash or 0x got only the browser's "match the
        # requested format", in a masked field; the device takes those forms. A prefix like
        # home/zähler was refused by the browser alone, with no message at all.
        html = self.render()
        assert "pattern=" not in html
        assert 'name="admin.password" type="password" value="" placeholder="" autocomplete="new-password"' in html

    @pytest.mark.parametrize("baud, line, selected", [(9600, "8N1", "auto"), (115200, "8N1", "current"),
                                                      (9600, "7E1", "current")])
    def test_a_preset_is_selected_only_when_baud_and_format_are_its_own_too(self, baud, line, selected):
        # Found by a black-box test: a DSMR meter at 115200 baud showed "detect automatically"
        # selected, and saving only a new MQTT prefix wrote that preset's 9600 8N1.
        html = self.render(values={"meter.profile": "auto", "meter.baud": baud, "meter.format": line})
        assert '<option value="%s" selected>' % selected in html
        if selected == "current":
            assert "Keep: profile auto, %d baud %s" % (baud, line) in html

    def test_the_footer_names_the_setup_access_point_and_its_public_passphrase(self):
        html = self.render(device="a4cf12b3fa2e")
        footer = html[html.index('id="setup-ap"'):]
        assert "<b>meterlink-FA2E</b>" in footer and "<b>meterlink-setup</b>" in footer


class FakeBoard:
    def __init__(self, up_after=None):
        self.up_after = up_after
        self.polls = 0
        self.resets = 0

    def network_up(self):
        self.polls += 1
        return self.up_after is not None and self.polls > self.up_after

    def reset(self):
        self.resets += 1


class TestStationWatch:
    def watch(self, board, path):
        import asyncio

        return asyncio.run(boot.watch_join(board, path, timeout=0.05, step=0.01))

    def saved(self, tmp_path):
        path = str(tmp_path / "config.json")
        config.save(path, {"wifi": {"ssid": "Home"}})
        return path

    def test_a_join_is_remembered(self, tmp_path):
        path = self.saved(tmp_path)
        assert self.watch(FakeBoard(up_after=2), path) is True
        assert mode.joined_before(path)

    def test_new_settings_that_never_join_reopen_the_portal_once(self, tmp_path):
        path = self.saved(tmp_path)
        board = FakeBoard()
        assert self.watch(board, path) is False
        assert board.resets == 1
        assert mode.take_portal_request(path) is True  # the next boot opens the portal
        assert mode.take_portal_request(path) is False  # and only that one

    def test_settings_that_joined_before_are_never_given_up(self, tmp_path):
        path = self.saved(tmp_path)
        mode.mark_joined(path)
        board = FakeBoard()
        assert self.watch(board, path) is False
        assert board.resets == 0
        assert mode.take_portal_request(path) is False


def config_message(key, value):
    """The message config.validate gives for ``value`` at ``key`` (the file's rule book)."""
    section, name = key.split(".")
    with pytest.raises(config.ConfigError) as refused:
        config.validate({section: {name: value}})
    return refused.value.message


class TestTheTransmitPowerLimit:
    """wifi.txpower on the form (a number box in the WiFi fieldset): empty is the radio's
    default, a number of dBm caps it (ESP32-C3 SuperMini boards that do not join)."""

    @pytest.mark.parametrize("typed, dbm", [("8.5", 8.5), (" 11 ", 11.0), ("", None)])
    def test_a_typed_limit_is_saved_as_a_number_and_empty_as_the_default(self, typed, dbm):
        cfg, errors = form.apply(dict(GOOD, **{"wifi.txpower": typed}), defaults())
        assert errors == {} and cfg["wifi"]["txpower"] == dbm

    @pytest.mark.parametrize("typed", ["30", "1", "loud"])
    def test_a_refused_limit_gets_the_configuration_files_own_message(self, typed):
        errors = form.apply(dict(GOOD, **{"wifi.txpower": typed}), defaults())[1]
        assert errors == {"wifi.txpower": config_message("wifi.txpower", typed)}

    def test_the_page_shows_the_stored_limit_or_an_empty_box(self):
        for stored, shown in ((8.5, 'value="8.5"'), (None, 'value=""')):
            html = "".join(page.render({"wifi.txpower": stored}, {}, {}, []))
            assert 'id="wifi.txpower" name="wifi.txpower" type="number" %s' % shown in html


class TestTheMqttLayout:
    """mqtt.layout and mqtt.vse_group on the form: a choice of layout, and the VSE topic's
    <group>, which only the VSE layout uses."""

    def test_the_vse_layout_and_its_group_are_set_from_the_form(self):
        cfg, errors = form.apply(dict(GOOD, **{"mqtt.layout": "vse", "mqtt.vse_group": " haus-7 "}),
                                 defaults())
        assert errors == {}
        assert (cfg["mqtt"]["layout"], cfg["mqtt"]["vse_group"]) == ("vse", "haus-7")

    @pytest.mark.parametrize("group", ["Haus 7", "", "g" * 33, "dach/süd"])
    def test_a_refused_group_gets_the_configuration_files_own_message(self, group):
        errors = form.apply(dict(GOOD, **{"mqtt.layout": "vse", "mqtt.vse_group": group}),
                            defaults())[1]
        assert errors == {"mqtt.vse_group": config_message("mqtt.vse_group", group.strip())}

    def test_the_group_is_taken_only_with_the_vse_layout(self):
        # The page hides the group unless VSE is chosen; what a hidden box holds is not saved.
        cfg, errors = form.apply(dict(GOOD, **{"mqtt.layout": "meterlink",
                                               "mqtt.vse_group": "not a group"}), defaults())
        assert errors == {}
        assert (cfg["mqtt"]["layout"], cfg["mqtt"]["vse_group"]) == ("meterlink", "building")

    def test_an_unknown_layout_is_refused_beside_its_field(self):
        errors = form.apply(dict(GOOD, **{"mqtt.layout": "sml"}), defaults())[1]
        assert errors == {"mqtt.layout": config_message("mqtt.layout", "sml")}

    def test_a_form_without_the_fields_keeps_the_stored_layout(self):
        stored = defaults()
        stored["mqtt"].update(layout="vse", vse_group="haus-7")
        cfg, errors = form.apply(GOOD, stored)
        assert errors == {} and (cfg["mqtt"]["layout"], cfg["mqtt"]["vse_group"]) == ("vse", "haus-7")

    def test_the_page_offers_both_layouts_with_the_stored_one_chosen(self):
        html = "".join(page.render({"mqtt.layout": "vse", "mqtt.vse_group": "haus-7"}, {}, {}, []))
        select = html[html.index('<select id="mqtt.layout" name="mqtt.layout">'):]
        select = select[:select.index("</select>")]
        assert '<option value="meterlink">' in select and '<option value="vse" selected>' in select
        assert 'id="mqtt.vse_group" name="mqtt.vse_group" type="text" value="haus-7"' in html

    def test_without_js_the_group_is_on_the_page_and_js_only_hides_it(self):
        html = "".join(page.render({"mqtt.layout": "meterlink"}, {}, {}, []))
        row = html[html.index('<div id="vse-group-row">'):]
        assert 'id="mqtt.vse_group"' in row[:row.index("</div>")]
        assert "display:none" not in html and "style=" not in html  # nothing hidden by HTML or CSS
        assert "w('mqtt.layout','vse-group-row'" in html


class TestMessagesBesideTheirFields:
    """An error is a failure: red, and the field is marked invalid. A note ("type it again",
    what another tab had) asks for a look: amber, and the field is not invalid. Both are
    tied to their field, so a screen reader reads them with it."""

    def render(self, errors=None, notes=None):
        return "".join(page.render({}, errors or {}, {}, [], notes=notes))

    def test_an_error_marks_its_field_invalid_and_is_read_with_it(self):
        html = self.render(errors={"mqtt.port": "must be between 1 and 65535"})
        assert ('<input id="mqtt.port" name="mqtt.port" type="number" value="1883" min="1" '
                'max="65535" required aria-describedby="err-mqtt.port" aria-invalid="true">') in html
        assert '<p class="err" id="err-mqtt.port">must be between 1 and 65535</p>' in html
        assert '<div class="bad"><label for="mqtt.port">' in html

    def test_a_note_is_read_with_its_field_but_marks_nothing_invalid(self):
        html = self.render(notes={"wifi.password": "type it again"})
        field = html[html.index('<input id="wifi.password"'):]
        field = field[:field.index(">") + 1]
        assert 'aria-describedby="attn-wifi.password"' in field and "aria-invalid" not in field
        assert '<p class="attn" id="attn-wifi.password">type it again</p>' in html
        assert 'class="bad"' not in html and 'class="err"' not in html

    def test_notes_and_errors_look_different(self):
        css = page._CSS
        rule = lambda name: css[css.index("." + name + "{"):].split("}")[0]  # noqa: E731
        assert "color:#c0392b" in rule("err") and "#c0392b" not in rule("attn")

    def test_an_error_outweighs_a_note_on_the_same_field(self):
        html = self.render(errors={"mqtt.host": "bad"}, notes={"mqtt.host": "this tab had"})
        assert 'id="err-mqtt.host"' in html and 'id="attn-mqtt.host"' not in html

    def test_the_discovery_box_can_carry_a_note_too(self):
        html = self.render(notes={"mqtt.discovery": 'this tab had "off"'})
        assert 'type="checkbox" aria-describedby="attn-mqtt.discovery">' in html


class TestTheRevision:
    """The digest of the stored settings that the form carries (hidden field "revision")."""

    def test_the_same_settings_give_the_same_short_revision(self):
        first = form.revision(defaults())
        assert first == form.revision(defaults())
        assert len(first) == 16 and int(first, 16) >= 0

    @pytest.mark.parametrize("key, value", [("mqtt.host", "broker.lan"), ("mqtt.vse_group", "haus"),
                                            ("meter.baud", 2400), ("mqtt.discovery", False),
                                            ("wifi.password", "now-a-password"),
                                            ("meter.key", KEY)])
    def test_any_setting_changes_it_and_so_does_setting_a_secret(self, key, value):
        changed = defaults()
        section, name = key.split(".")
        changed[section][name] = value
        assert form.revision(changed) != form.revision(defaults())

    def test_a_secrets_value_does_not_go_in(self):
        # The page with the revision is open to anyone on the public setup AP: a digest over
        # the admin password would let them test guesses offline, past the lockout.
        one, other = defaults(), defaults()
        one["admin"]["password"] = "admin-pass-1"
        other["admin"]["password"] = "admin-pass-2"
        assert form.revision(one) == form.revision(other)


def browser(headers=None):
    return dict({"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
                **(headers or {}))


def call(portal, method, path="/config", headers=None, fields=None, guarded=True):
    """One request to a Portal in this process, as web/server.py would hand it over."""
    import urllib.parse

    from web.message import Request

    body = bytearray(urllib.parse.urlencode(fields or {}).encode())
    request = Request(method, path, {}, {k.lower(): v for k, v in (headers or {}).items()},
                      body, None)
    resp = portal.guarded(request) if guarded else portal.handle(request)
    body = resp.body if isinstance(resp.body, bytes) else b"".join(resp.body)
    return resp, body.decode()


class TestRefusals:
    """401, 403 and 429 answer a person in a browser with a page (what happened, what to do,
    the way back to the form) and everyone else with JSON, with the same status and header
    fields either way."""

    @pytest.fixture
    def portal(self, tmp_path):
        from portal.app import Portal

        path = str(tmp_path / "config.json")
        config.save(path, {"wifi": {"ssid": "Home"}, "admin": {"password": "admin-pass-1"}})
        return Portal(path, clock=FakeClock())

    def both(self, portal, method="GET", headers=None, **kw):
        as_api = call(portal, method, headers=headers, **kw)
        as_browser = call(portal, method, headers=browser(headers), **kw)
        assert as_api[0].status == as_browser[0].status
        assert as_api[0].headers == as_browser[0].headers
        assert as_api[0].content_type == "application/json"
        assert as_browser[0].content_type.startswith("text/html")
        return as_api[0].status, as_api[0].headers, json.loads(as_api[1]), as_browser[1]

    def test_no_password_is_401_with_the_challenge(self, portal):
        status, headers, api, html = self.both(portal)
        assert status == 401 and headers["WWW-Authenticate"].startswith("Basic ")
        assert api["status"] == 401 and api["error"].startswith("admin password required")
        assert '<h1 id="refused">Admin password required</h1>' in html
        assert "reload this page and give it when asked" in html and "hold the button while the light blinks after a restart" in html
        assert '<a href="/config">Back to the settings</a>' in html

    def test_a_lockout_is_429_with_the_wait(self, portal):
        for _ in range(auth.MAX_FAILURES):
            call(portal, "GET", headers={"Authorization": basic("guess")})
        status, headers, api, html = self.both(portal)
        wait = portal.guard.retry_after()
        assert status == 429 and headers["Retry-After"] == str(wait)
        assert api["error"] == "too many wrong passwords: wait %d s, then reload this page" % wait
        assert '<h1 id="refused">Please wait</h1>' in html
        assert "Too many wrong passwords: wait %d s, then reload this page." % wait in html

    def test_a_cross_site_post_is_403(self, portal):
        headers = {"Authorization": basic("admin-pass-1"), "Origin": "http://evil.example",
                   "Host": "dongle.lan"}
        status, _, api, html = self.both(portal, "POST", headers, fields=GOOD)
        assert status == 403 and "own page" in api["error"]
        assert '<h1 id="refused">Not allowed</h1>' in html and "own page" in html

    def test_no_admin_password_stored_is_403(self, tmp_path):
        from portal.app import Portal

        path = str(tmp_path / "open.json")
        config.save(path, {"wifi": {"ssid": "Home"}})
        status, _, api, html = self.both(Portal(path, clock=FakeClock()))
        assert status == 403 and "hold the button while the light blinks after a restart" in api["error"]
        assert "No admin password is set: hold the button while the light blinks after a restart" in html

    def test_the_message_on_the_page_is_escaped(self):
        html = page.refusal(403, "<script>", "/config?<x>").decode()
        assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;x&gt;" in html


class TestTwoTabs:
    """A form carries the revision of the settings it was loaded with; a save over settings
    changed since (another tab, another device) is refused and shows the stored ones."""

    @pytest.fixture
    def portal(self, tmp_path):
        from portal.app import Portal

        path = str(tmp_path / "config.json")
        config.save(path, {"wifi": {"ssid": "Home", "password": "wifi-pass-1"},
                           "mqtt": {"host": "broker.lan"}, "admin": {"password": "admin-pass-1"}})
        return Portal(path, clock=FakeClock())

    def load(self, portal):
        html = call(portal, "GET", guarded=False)[1]
        revision = html.split('name="revision" value="')[1].split('"')[0]
        fields = dict(GOOD, **{k: "" for k in config.SECRET_KEYS})
        fields.update({"meter": "current", "mqtt.host": "broker.lan", "mqtt.user": "",
                       "revision": revision})
        return fields

    def post(self, portal, fields):
        return call(portal, "POST", fields=fields, guarded=False)

    def test_the_form_carries_the_revision_of_the_stored_settings(self, portal):
        stored = form.stored_or_defaults(portal.path)
        assert self.load(portal)["revision"] == form.revision(stored)

    def test_a_save_over_settings_saved_since_is_refused_and_shows_them(self, portal):
        tab_a, tab_b = self.load(portal), self.load(portal)
        tab_b["mqtt.host"] = "new-broker.lan"
        assert self.post(portal, tab_b)[0].status == 200
        portal.saved.clear()  # /config on the LAN: a new Portal per request (portal/lan.py)
        with open(portal.path) as f:
            after_b = f.read()

        tab_a.update({"mqtt.prefix": "home/meter", "mqtt.password": "typed-in-tab-a"})
        resp, html = self.post(portal, tab_a)
        assert resp.status == 409
        with open(portal.path) as f:
            assert f.read() == after_b  # nothing saved
        assert ('<p class="note" id="notice">The settings were changed in another tab or by '
                "another device since this page was loaded: check them and save again.</p>") in html
        # The stored values in the fields; beside each one this tab would have changed, what
        # it had (a note, not an error); a typed secret must be typed again.
        assert 'id="mqtt.host" name="mqtt.host" type="text" value="new-broker.lan"' in html
        assert ('<p class="attn" id="attn-mqtt.host">this tab had &quot;broker.lan&quot;, '
                "not saved</p>") in html
        assert 'name="mqtt.prefix" type="text" value="meterlink"' in html
        assert 'id="attn-mqtt.prefix">this tab had &quot;home/meter&quot;, not saved' in html
        assert 'id="attn-mqtt.password">type it again' in html
        assert "typed-in-tab-a" not in html and 'class="err"' not in html
        # Saved again from that page: it carries the new revision.
        tab_a["revision"] = html.split('name="revision" value="')[1].split('"')[0]
        tab_a["mqtt.host"] = "new-broker.lan"
        assert self.post(portal, tab_a)[0].status == 200
        assert form.stored_or_defaults(portal.path)["mqtt"]["prefix"] == "home/meter"

    def test_a_changed_meter_or_checkbox_is_noted_by_what_the_page_shows(self, portal):
        tab_a, tab_b = self.load(portal), self.load(portal)
        tab_b["mqtt.prefix"] = "elsewhere"
        self.post(portal, tab_b)
        portal.saved.clear()
        tab_a["meter"] = "kamstrup-ch"
        del tab_a["mqtt.discovery"]
        html = self.post(portal, tab_a)[1]
        assert 'id="attn-meter">this tab had &quot;Kamstrup Omnipower, Swiss' in html
        assert 'id="attn-mqtt.discovery">this tab had &quot;off&quot;' in html

    def test_a_field_this_tab_had_empty_is_noted_as_empty(self, portal):
        tab_a, tab_b = self.load(portal), self.load(portal)
        tab_b["wifi.txpower"] = "8.5"
        tab_b["mqtt.host"] = "new-broker.lan"
        self.post(portal, tab_b)
        portal.saved.clear()
        tab_a["wifi.txpower"] = ""
        tab_a["mqtt.host"] = ""
        html = self.post(portal, tab_a)[1]
        assert 'id="attn-wifi.txpower">this tab had it empty, not saved' in html
        assert 'id="attn-mqtt.host">this tab had it empty, not saved' in html
        assert "None" not in html

    def test_a_post_without_a_revision_is_not_checked(self, portal):
        # Scripts and the API post without one; only a page's form carries it.
        fields = self.load(portal)
        config.save(portal.path, dict(form.stored_or_defaults(portal.path), http={"port": 8080}))
        del fields["revision"]
        assert self.post(portal, fields)[0].status == 200
