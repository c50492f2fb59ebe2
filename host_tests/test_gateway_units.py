"""The gateway's pure parts, specified one by one: store, snapshot JSON, discovery, VSE, metrics.

Each runs on CPython here and, in the last tests, under the MicroPython unix
port with the same expectations.
"""

import json
import types

import pytest

import simulate
from app import discovery, metrics, vse
from app.reader import MeterReader
from app.snapshot import SnapshotWriter
from app.store import MAX_CODES, Store
from decoder import Decoder, Telegram, dsmr, telegram_json
from mp import run_micropython


def decoded(pushes, framing="hdlc"):
    dec = Decoder(simulate.DEFAULT_KEY, simulate.DEFAULT_AUTH_KEY)
    out = []
    for n in range(pushes):
        out.extend(dec.feed(simulate.push_bytes(n, framing, minute_every=3)))
    return out


def capture_text(cid):
    """The text of a public capture (host_tests/public_captures.json)."""
    import os

    with open(os.path.join(os.path.dirname(__file__), "public_captures.json")) as f:
        return [c for c in json.load(f) if c["id"] == cid][0]["text"]


def filled_store(pushes=4):
    store = Store()
    for t in decoded(pushes):
        store.update(t)
    return store


class TestStore:
    def test_merges_every_code_ever_sent_with_its_latest_value(self):
        store = filled_store(4)  # push 0 (5 s + minute), 1, 2, 3 (5 s + minute)
        assert store.frame_counter == 8
        assert store.readings["1-0:1.7.0"] == (simulate.info_values(3)["1-0:1.7.0"][0], "W")
        assert store.readings["1-0:1.8.0"] == simulate.energies(3)["1-0:1.8.0"]
        assert store.meter_time == simulate.iso_time(3)
        assert store.seq == 6

    def test_reports_new_codes_and_counts_only_first_appearances(self):
        store = Store()
        a = Telegram(None, None, 1, {"1-0:1.7.0": (1, "W")}, True)
        assert store.update(a) is True
        assert store.update(a) is False
        assert store.codes == 1

    def test_keeps_at_most_max_codes(self):
        store = Store()
        many = {"1-0:%d.7.0" % i: (i, "W") for i in range(MAX_CODES + 5)}
        store.update(Telegram(None, None, None, many, None))
        assert len(store.readings) == MAX_CODES
        assert store.dropped_codes == 5

    def test_none_fields_do_not_erase_known_ones(self):
        store = Store()
        store.update(Telegram("2026-01-01T00:00:00", "aa", 7, {}, True))
        store.update(Telegram(None, None, None, {"x": (1, None)}, None))
        assert (store.meter_time, store.system_title, store.frame_counter) == ("2026-01-01T00:00:00", "aa", 7)


def joined(out):
    # A render: one memoryview, or the pieces of a snapshot too big for the buffer.
    return b"".join(out) if type(out) is list else bytes(out)


class TestSnapshot:
    def test_is_byte_for_byte_the_decoder_cli_json(self):
        store = filled_store(4)
        assert bytes(SnapshotWriter().render(store)).decode() == telegram_json(store)

    def test_an_empty_store_is_valid_json(self):
        doc = json.loads(bytes(SnapshotWriter().render(Store())))
        assert doc == {"meter_time": None, "system_title": None, "frame_counter": None, "readings": {}}

    def test_a_snapshot_too_big_for_the_buffer_comes_in_pieces_of_the_same_text(self):
        store = filled_store(4)
        out = SnapshotWriter(64).render(store)
        assert type(out) is list and len(out) > 1
        assert max(len(piece) for piece in out[1:]) <= 64  # the 113-byte head goes as it is
        assert joined(out).decode() == telegram_json(store)

    def test_pieces_are_at_most_256_bytes_and_a_longer_value_is_a_piece_of_its_own(self):
        store = filled_store(4)
        store.update(Telegram(None, None, None, {"0-0:96.13.0": ("x" * 700 + "\u00e9", None)}, None))
        writer = SnapshotWriter(2048, first=2048)
        out = writer.render(store)
        assert type(out) is list and joined(out).decode() == telegram_json(store)
        assert sorted(len(piece) for piece in out)[-2] <= 256  # the 700-character text alone is longer
        assert bytes(writer.render(filled_store(1))).decode() == telegram_json(filled_store(1))  # one piece again

    def test_a_heap_without_a_block_for_a_larger_buffer_sends_the_snapshot_in_pieces(self, monkeypatch):
        # After one burst of pushes with many codes (which the store keeps), a gateway near
        # its heap floor found no 4 kB block: every state message after failed, for good.
        from app import snapshot

        store = filled_store(4)
        writer = SnapshotWriter(first=64)
        sizes = []

        def only_small(size):
            sizes.append(size)
            if size > 64:
                raise MemoryError
            return bytearray(size)

        monkeypatch.setattr(snapshot, "bytearray", only_small, raising=False)
        out = writer.render(store)
        assert joined(out).decode() == telegram_json(store) and type(out) is list
        assert writer.render(store) and sizes == [128, 64]  # no second try at the larger block

    def test_the_buffer_starts_small_and_grows_to_what_the_meter_needs(self):
        store = filled_store(4)
        writer = SnapshotWriter(first=16)
        first = bytes(writer.render(store)).decode()
        assert first == telegram_json(store)
        store.update(Telegram(None, None, 8, {"1-0:1.8.0": (5, "Wh")}, None))
        assert bytes(writer.render(store)).decode() == telegram_json(store)  # same buffer, no fallback

    def test_a_buffer_that_finds_no_room_to_grow_is_grown_by_the_next_render(self, monkeypatch):
        # It was left None, and every render after raised TypeError: the MQTT task died
        # and /api/v1/readings answered 500 until a reboot.
        from app import snapshot

        store = filled_store(4)
        writer = SnapshotWriter(first=16)

        def no_room(size):
            raise MemoryError

        monkeypatch.setattr(snapshot, "bytearray", no_room, raising=False)
        with pytest.raises(MemoryError):
            writer.render(store)
        monkeypatch.undo()
        assert joined(writer.render(store)).decode() == telegram_json(store)
        assert json.loads(joined(writer.document({"a": 1}))) == {"a": 1}

    def test_strings_are_escaped(self):
        store = Store()
        store.update(Telegram(None, None, None, {"0-0:96.13.0": ('say "hi"\n', None)}, None))
        assert json.loads(bytes(SnapshotWriter().render(store)))["readings"]["0-0:96.13.0"]["value"] == 'say "hi"\n'


    def test_a_discovery_config_is_written_into_the_same_buffer_as_json(self):
        doc = discovery.config("1-0:1.8.0", 5, "Wh", "dev1", "m/dev1/state", "m/dev1/availability", "9")
        doc["empty"], doc["none"], doc["list"] = {}, [], ["a \"b\"", 1.5, None]
        writer = SnapshotWriter()
        out = writer.document(doc)
        assert isinstance(out, memoryview) and json.loads(bytes(out)) == doc
        assert bytes(writer.render(filled_store(1))).decode() == telegram_json(filled_store(1))

    def test_growing_renders_only_while_the_buffer_is_below_its_limit(self, monkeypatch):
        # MQTT grows the buffer before discovery's documents; at the limit a render would
        # only make pieces to throw away, on a reconnect, when the heap is short.
        writer = SnapshotWriter(64, first=16)
        store = filled_store(4)
        writer.grow(store)
        assert len(writer._buf) == 64
        monkeypatch.setattr(writer, "render", lambda store: pytest.fail("rendered at the limit"))
        writer.grow(store)

    def test_a_document_too_big_for_the_buffer_comes_in_pieces(self):
        doc = {"name": "x" * 100, "n": [1, 2.5, None]}
        out = SnapshotWriter(64, first=64).document(doc)
        assert type(out) is list and json.loads(joined(out)) == doc


class TestDiscovery:
    def cfg(self, code, value, unit):
        return discovery.config(code, value, unit, "dev1", "meterlink/dev1/state", "meterlink/dev1/availability", "9")

    @pytest.mark.parametrize("code, unit, cls, state", [
        ("1-0:1.8.0", "Wh", "energy", "total_increasing"),
        ("1-0:2.8.1", "Wh", "energy", "total_increasing"),
        ("1-0:1.7.0", "W", "power", "measurement"),
        ("1-0:32.7.0", "V", "voltage", "measurement"),
        ("1-0:31.7.0", "A", "current", "measurement"),
        ("1-0:3.7.0", "var", "reactive_power", "measurement"),
    ])
    def test_classes_follow_the_unit(self, code, unit, cls, state):
        doc = self.cfg(code, 1, unit)
        assert (doc["device_class"], doc["state_class"], doc["unit_of_measurement"]) == (cls, state, unit)

    def test_an_iec_readouts_codes_without_medium_are_named_and_classed_as_electricity(self):
        # A Landis+Gyr ZMR120 writes "1.8.0", "33.7.0": the power factors got no class and
        # no statistics, and every name was the code (a review). Letter codes stay as sent.
        assert discovery.friendly_name("1.8.0") == "Energy import"
        doc = self.cfg("33.7.0", 0.81, None)
        assert (doc["device_class"], doc["state_class"]) == ("power_factor", "measurement")
        assert discovery.friendly_name("C.1.0") == "C.1.0"
        assert "state_class" not in self.cfg("C.7.1", 29, None)

    def test_a_heat_meters_readout_is_named_by_its_codes(self):
        # A Landis+Gyr UH50's readout (public capture) replayed to a real Home Assistant
        # (2026.2) as the meter: its heat energy 6.8 (328.871 GJ) showed as "Energy reactive
        # Q2", its temperatures 9.4 (98.5 C) as "Demand apparent import", its heat power 6.6
        # as "Peak demand reactive Q2", and its own numbers 9.20 and 9.21 kept statistics.
        # Its GJ and m3 give it away: codes as names, unitless numbers no state class, the
        # classes of its units as before.
        readings = dsmr.parse(capture_text("xx-lgz-uh50-heat-readout-several-sets-per-line"))[0]
        docs = {code: self.with_readings(code, readings) for code in readings}
        assert [code for code, doc in docs.items() if doc["name"] != code] == []
        assert (docs["6.8"]["device_class"], docs["6.8"]["state_class"]) == ("energy", "total_increasing")
        assert (docs["6.6"]["device_class"], docs["6.6"]["state_class"]) == ("power", "measurement")
        assert "state_class" not in docs["9.20"] and "state_class" not in docs["9.21"]

    def test_an_electricity_meters_readout_keeps_its_names(self):
        # A ZMR120's readout: kWh, kW, V, A and unitless power factors, no heat unit.
        readings = dsmr.parse(capture_text("de-lgz-zmr120-readout-letter-codes"))[0]
        assert self.with_readings("1.8.0", readings)["name"] == "Energy import"
        assert self.with_readings("33.7.0", readings)["state_class"] == "measurement"
        # A DSMR gas channel's m3 is no readout's (its code has A-B:).
        readings = {"1-0:1.8.0": (5, "kWh"), "0-1:24.2.1": (12.5, "m3"), "1.8.0": (5, "kWh")}
        assert self.with_readings("1.8.0", readings)["name"] == "Energy import"

    def with_readings(self, code, readings):
        value, unit = readings[code]
        return discovery.config(code, value, unit, "dev1", "meterlink/dev1/state", "meterlink/dev1/availability",
                                "9", None, readings)

    @pytest.mark.parametrize("unit", ["Deg", "deg", "\u00b0"])
    def test_a_phase_angle_in_degrees_keeps_statistics(self, unit):
        # A readout writes "Deg" (81.7.4(-80.7*Deg)), DLMS unit 8 reads as "\u00b0": without a
        # state class Home Assistant kept no statistics of the angles.
        doc = self.cfg("1-0:81.7.4", -80.7, unit)
        assert (doc["unit_of_measurement"], doc["state_class"]) == ("\u00b0", "measurement")
        assert "device_class" not in doc

    def test_reactive_energy_is_a_total_of_its_own_class(self):
        doc = self.cfg("1-0:3.8.0", 5, "varh")
        assert (doc["device_class"], doc["state_class"]) == ("reactive_energy", "total_increasing")

    @pytest.mark.parametrize("unit, shown", [("kVAh", "kVAh"), ("VAh", "VAh"), ("kvah", "kVAh")])
    def test_apparent_energy_is_a_growing_total_without_a_class(self, unit, shown):
        # Home Assistant has no apparent-energy class; without the state class it kept no
        # statistics of a DSMR meter's 1-0:9.8.0(000100.000*kVAh).
        doc = self.cfg("1-0:9.8.0", 100.0, unit)
        assert "device_class" not in doc
        assert (doc["state_class"], doc["unit_of_measurement"]) == ("total_increasing", shown)

    @pytest.mark.parametrize("code", ["1-0:13.7.0", "1-0:33.7.0", "1-0:53.7.0", "1-0:73.7.0"])
    def test_a_unitless_power_factor_gets_its_device_class(self, code):
        doc = self.cfg(code, 0.998, None)
        assert (doc["device_class"], doc["state_class"]) == ("power_factor", "measurement")
        assert "unit_of_measurement" not in doc

    @pytest.mark.parametrize("code", ["1-0:13.8.0", "1-0:14.7.0", "1-0:32.32.0"])
    def test_other_unitless_numbers_get_no_device_class(self, code):
        doc = self.cfg(code, 1, None)
        assert "device_class" not in doc and doc["state_class"] == "measurement"

    @pytest.mark.parametrize("code", ["0-0:96.14.0", "0-1:24.1.0", "0-0:13.7.0", "1-1:0.0.1", "1-0:96.5.5", "#3"])
    def test_abstract_unitless_numbers_are_no_measurement(self, code):
        # A tariff number, an M-Bus device type, a Kamstrup's id number, an EasyMeter's
        # status word: Home Assistant kept statistics of them. A positional "#3" of an
        # unnamed list may be text in the next push, which a measurement refuses.
        doc = self.cfg(code, 2, None)
        assert "device_class" not in doc and "state_class" not in doc

    @pytest.mark.parametrize("device_type, device_class", [(3, "gas"), (7, "water"), (4, None), (None, None)])
    @pytest.mark.parametrize("register", ["0-1:24.2.1", "0-1:24.3.0"])  # DSMR 4-5, DSMR 2.2
    def test_an_m_bus_channels_register_takes_the_class_its_device_type_names(self, device_type, device_class,
                                                                               register):
        # DSMR's gas meter (0-1:24.1.0(003)) came with no class, so the Energy dashboard
        # did not offer it (a black-box test).
        readings = {register: (1234.5, "m3")}
        if device_type is not None:
            readings["0-1:24.1.0"] = (device_type, None)
        doc = discovery.config(register, 1234.5, "m3", "dev", "s", "a", "v", None, readings)
        assert (doc.get("device_class"), doc["state_class"]) == (device_class, "total_increasing")

    @pytest.mark.parametrize("unit, register", [("kVAh", "0-1:24.2.1"), ("Deg", "0-2:24.2.1")])
    def test_an_m_bus_device_type_names_no_class_for_a_register_in_another_unit(self, unit, register):
        # Home Assistant refuses a config whose unit is outside its class's units: a
        # water class on kVAh, a gas class on degrees (a review's DSMR fuzz).
        channel = register[:4]
        readings = {register: (123.5, unit), channel + "24.1.0": (7, None)}
        doc = discovery.config(register, 123.5, unit, "dev", "s", "a", "v", None, readings)
        assert "device_class" not in doc

    def test_dlms_year_unit_is_not_an_ampere(self):
        # DLMS unit 1, the year, reads "a": matched regardless of case it was an ampere.
        doc = self.cfg("1-0:0.9.5", 2, "a")
        assert doc["unit_of_measurement"] == "a" and "device_class" not in doc
        assert self.cfg("1-0:31.7.0", 2, "A")["device_class"] == "current"

    @pytest.mark.parametrize("code", ["1-0:16.8.0", "1-0:36.8.0", "1-0:16.8.1"])
    def test_net_energy_is_a_total_that_may_fall(self, code):
        # OBIS C 16 (and 36, 56, 76 per phase): import minus export. Home Assistant takes a
        # fall of a total_increasing as a meter reset and counts the whole value again.
        doc = self.cfg(code, -5000, "Wh")
        assert (doc["device_class"], doc["state_class"]) == ("energy", "total")
        assert self.cfg("1-0:15.8.0", 5000, "Wh")["state_class"] == "total_increasing"

    def test_text_readings_have_no_unit_or_state_class(self):
        doc = self.cfg("0-0:96.1.1", "71000042", None)
        assert "state_class" not in doc and "unit_of_measurement" not in doc

    def test_a_text_state_is_cut_to_the_255_characters_home_assistant_takes(self):
        # A DSMR 5 text message may be 1024 characters; a longer state makes the entity unknown.
        doc = self.cfg("0-0:96.13.0", "H" * 1024, None)
        assert doc["value_template"] == ("{{ (([value_json.readings['0-0:96.13.0'].value, ''] | reject('none') "
                                         "| first) | string)[:255] if '0-0:96.13.0' in value_json.readings else '' }}")
        assert ".value if " in self.cfg("0-0:96.3.10/3", 1, None)["value_template"]

    def test_a_list_state_is_cut_to_255_characters_of_its_text(self):
        # A power failure log (1-0:99.97.0) comes out as a list; rendered, it may run long.
        doc = self.cfg("1-0:99.97.0", [["2019-03-26T09:50:15+01:00", 2014]] * 20, None)
        assert doc["value_template"] == ("{{ (([value_json.readings['1-0:99.97.0'].value, ''] | reject('none') "
                                         "| first) | string)[:255] if '1-0:99.97.0' in value_json.readings else '' }}")
        assert "state_class" not in doc

    @pytest.mark.parametrize("code, value, shown", [("1-0:1.8.0", 12345, "12345"), ("0-0:96.13.0", "H" * 300, "H" * 255),
                                                    ("1-0:99.97.0", [1, "x"], "[1, 'x']")])
    def test_templates_render_the_reading_and_nothing_while_the_snapshot_lacks_it(self, code, value, shown):
        # Rendered as Home Assistant does (Jinja2), but strict: any use of a missing key fails.
        # After a reboot the minute list's readings are missing for up to a minute; '' is a
        # state Home Assistant ignores, where reading the key logged an error per push.
        import jinja2

        template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
            self.cfg(code, value, None)["value_template"])
        assert template.render(value_json={"readings": {code: {"value": value}}}) == shown
        assert template.render(value_json={"readings": {"1-0:1.7.0": {"value": 1, "unit": "W"}}}) == ""

    def test_a_text_reading_that_turns_null_renders_empty(self):
        # A clock found never set reads null; [:255] of None failed on every push.
        import jinja2

        template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
            self.cfg("0-0:1.0.0", "2026-01-02T03:04:05", None)["value_template"])
        assert template.render(value_json={"readings": {"0-0:1.0.0": {"value": None}}}) == ""

    @pytest.mark.parametrize("later, shown", [(0, "0"), (230.1, "230.1"), ([1, "x"], "[1, 'x']"), (None, "")])
    def test_a_text_reading_that_turns_into_a_number_renders_as_its_text(self, later, shown):
        # The config follows the first value seen: an unnamed slot "#1" that is text in one
        # list and a number in the next, a DSMR gas channel bound after an empty "()". The
        # cut [:255] of a number raised, which Home Assistant logged on every state message.
        from jinja2.sandbox import ImmutableSandboxedEnvironment  # as Home Assistant renders

        template = ImmutableSandboxedEnvironment(undefined=jinja2_strict()).from_string(
            self.cfg("#1", "ABC_LIST2", None)["value_template"])
        assert template.render(value_json={"readings": {"#1": {"value": later}}}) == shown

    def test_ids_topic_template_and_device_are_stable(self):
        doc = self.cfg("1-0:1.8.0", 1, "Wh")
        assert doc["unique_id"] == "dev1_obis_1_0_1_8_0"
        assert doc["value_template"] == "{{ value_json.readings['1-0:1.8.0'].value if '1-0:1.8.0' in value_json.readings else '' }}"
        assert doc["availability_topic"] == "meterlink/dev1/availability"
        assert doc["device"]["identifiers"] == ["meterlink_dev1"]
        assert discovery.topic("homeassistant", "dev1", "1-0:1.8.0") == "homeassistant/sensor/dev1/obis_1_0_1_8_0/config"

    def test_a_reading_expires_when_no_state_comes_for_the_configured_time(self):
        # Availability is the dongle's; a meter that stops sending shows as unavailable
        # readings after mqtt.expire_after seconds, and 0 leaves them as they were.
        doc = discovery.config("1-0:1.7.0", 1, "W", "dev1", "s", "a", "0.1", None, None, 300)
        assert doc["expire_after"] == 300
        assert "expire_after" not in self.cfg("1-0:1.7.0", 1, "W")

    def test_the_device_links_to_the_dongles_page_when_its_address_is_known(self):
        # Home Assistant's "Visit" link on the device page.
        doc = discovery.config("1-0:1.8.0", 1, "Wh", "dev1", "s", "a", "0.1", "http://192.0.2.7/config")
        assert doc["device"]["configuration_url"] == "http://192.0.2.7/config"
        assert "configuration_url" not in self.cfg("1-0:1.8.0", 1, "Wh")["device"]

    @pytest.mark.parametrize("code, oid", [
        ("1-0:1.8.0", "obis_1_0_1_8_0"), ("#3", "obis__3"), ("1-0:1.8.0/3", "obis_1_0_1_8_0_a3"),
        ("0-0:96.1.0.1", "obis_0_0_96_1_0_1"),
    ])
    def test_object_ids_use_only_characters_home_assistant_accepts(self, code, oid):
        assert discovery.object_id(code) == oid

    def test_an_attribute_and_an_f_group_get_different_ids(self):
        assert discovery.object_id("0-0:96.3.10/3") != discovery.object_id("0-0:96.3.10.3")

    @pytest.mark.parametrize("code, name", [
        ("1-0:1.8.0", "Energy import"), ("1-0:2.8.2", "Energy export tariff 2"),
        ("1-0:1.7.0", "Power import"), ("1-0:52.7.0", "Voltage L2"), ("1-0:71.7.0", "Current L3"),
        ("1-0:44.7.0", "Power reactive export L2"), ("1-0:91.7.0", "Current N"),
        ("0-0:96.1.1", "Meter ID 2"), ("1-0:99.99.0", "1-0:99.99.0"),
        # Unique per code (three "Voltage L1" came from DSMR's sag and swell counters).
        ("1-0:32.32.0", "Voltage sags L1"), ("1-0:72.36.0", "Voltage swells L3"), ("1-0:1.6.0", "Peak demand import"),
        ("1-0:1.4.0", "Demand import"), ("1-1:31.4.0", "1-1:31.4.0"), ("0-2:96.1.0", "Meter ID, channel 2"),
        # E: a tariff of an energy or a peak; of others the code (1-0:32.7.3 was "Voltage L1").
        ("1.6.2", "Peak demand import tariff 2"), ("1-0:32.7.3", "1-0:32.7.3"), ("1-0:1.4.1", "1-0:1.4.1"),
        # Heat, gas and water (A 6, 7, 8): C is none of electricity's quantities there.
        ("6-0:1.8.0", "6-0:1.8.0"), ("7-0:3.8.0", "7-0:3.8.0"),
        ("0-1:24.2.1", "Reading, channel 1"),
        # The four quadrants' reactive energies (an E360's and a Kaifa's lists).
        ("1-0:5.8.0", "Energy reactive Q1"), ("1-0:8.8.1", "Energy reactive Q4 tariff 1"),
        ("1-0:46.8.0", "Energy reactive Q2 L2"),
        # A readout's billing periods, value group F, each its own name.
        ("1-0:1.8.0.96", "Energy import, billing period 96"), ("1-1:1.6.0.01", "Peak demand import, billing period 01"),
        ("1.8.2.1", "Energy import tariff 2, billing period 1"), ("1-0:99.99.0.1", "1-0:99.99.0.1"),
        # Phase angles (IEC 62056-6-1: C 81, E = from and to), as a Siemens TD-3511's
        # readout and an E450's lists send them; E 0, 11, 22: an angle to itself.
        ("1-0:81.7.4", "Angle U L1 to I L1"), ("81.7.15", "Angle U L2 to I L2"), ("81.7.26", "Angle U L3 to I L3"),
        ("1-0:81.7.1", "Angle U L1 to U L2"), ("1-0:81.7.20", "Angle U L3 to U L1"), ("1-0:81.7.74", "Angle I N to I L1"),
        ("1-0:81.7.0", "1-0:81.7.0"), ("1-0:81.7.22", "1-0:81.7.22"), ("1-0:81.7.3", "1-0:81.7.3"),
        ("1-0:81.7.48", "1-0:81.7.48"), ("1-0:81.8.4", "1-0:81.8.4"),
    ])
    def test_friendly_names(self, code, name):
        assert discovery.friendly_name(code) == name


def utc_of(meter_time):
    """What the VSE form writes for a meter time: UTC, a time without an offset read
    as Swiss local time (CPython's zoneinfo, an implementation of its own)."""
    import datetime
    import zoneinfo

    t = datetime.datetime.fromisoformat(meter_time.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=zoneinfo.ZoneInfo("Europe/Zurich"))
    return t.astimezone(datetime.timezone.utc).isoformat()


# Summer time's edges (2026: 29 March and 25 October; 2024: 31 March, 27 October), a year's
# turn, a leap day and offsets written by the meter. 2026-10-25T02:30 happens twice: read
# as the first, summer time, as zoneinfo's fold 0 does.
VSE_TIMES = ["2026-03-29T01:59:59", "2026-03-29T03:00:00", "2026-10-25T01:59:59", "2026-10-25T02:30:00",
             "2026-10-25T03:00:00", "2024-03-31T12:00:00", "2024-10-27T12:00:00", "2026-01-01T00:30:00",
             "2024-02-29T23:59:59", "2026-07-01T12:00:00", "2020-08-15T06:19:45+02:00",
             "1999-12-31T23:00:00-05:30", "2026-11-26T03:40:00Z"]


class TestVse:
    def test_topic_payload_and_short_codes(self):
        store = filled_store(1)
        assert vse.meter_id(store, "fallback") == simulate.METER_ID
        assert vse.topic("grp", vse.meter_id(store, "x")) == "dt/grp/%s/ds" % simulate.METER_ID
        doc = vse.payload(store)["meter"]
        assert doc["ts"] == utc_of(simulate.iso_time(0))
        assert doc["1.8.0"] == simulate.energies(0)["1-0:1.8.0"][0]
        assert doc["32.7.0"] == simulate.info_values(0)["1-0:32.7.0"][0]
        assert "96.1.1" not in doc and "96.13.0" not in doc  # text is not a measurement

    def test_a_billing_periods_value_is_not_the_registers(self):
        # A readout's 1.8.0*01 (value group F) is last period's: short_code drops F, and
        # without the current 1.8.0 beside it, it went out as the register (a sweep).
        store = Store()
        store.update(Telegram(None, None, None, {"1-0:1.8.0.1": (2, "Wh"), "1.8.1.01": (3, "Wh"),
                                                 "1.8.2": (4, "Wh")}, None))
        assert vse.payload(store)["meter"] == {"ts": None, "1.8.2": 4}

    def test_first_channel_wins_and_fallback_id(self):
        store = Store()
        store.update(Telegram(None, None, None, {"1-1:1.8.0": (2, "Wh"), "1-0:1.8.0": (1, "Wh")}, None))
        assert vse.payload(store)["meter"]["1.8.0"] == 1
        assert vse.meter_id(store, "dongle") == "dongle"

    def test_a_swiss_p1_telegram_is_named_by_its_meter_number_not_its_p1_version(self):
        # dsmr_parser's Swiss 5 s telegram: 0-0:0.0.0 the meter number, 0-0:96.1.4 the P1
        # version ("50220", every meter of the kind), 0-0:96.1.2 a public key of blanks.
        store = Store()
        store.update(Telegram(None, None, None, {"0-0:96.1.4": ("50220", None), "0-0:96.1.2": ("", None),
                                                 "0-0:0.0.0": ("353738303337", None),
                                                 "1-1:1.8.1": (25.6, "kWh")}, None))
        assert vse.meter_id(store, "dongle") == "353738303337"
        store.update(Telegram(None, None, None, {"0-0:96.1.1": ("K8EG004046395507", None)}, None))
        assert vse.meter_id(store, "dongle") == "K8EG004046395507"  # Belgium's equipment id first

    def test_the_logical_device_name_is_the_meter_id_as_the_reference_takes_it(self):
        store = Store()
        store.update(Telegram(None, None, None, {"0-0:96.1.1": ("1909113", None), "0-0:42.0.0": ("LGZ1030653520967", None),
                                                 "0-0:96.1.7": ("type", None)}, None))
        assert vse.meter_id(store, "dongle") == "LGZ1030653520967"
        del store.readings["0-0:42.0.0"]
        assert vse.meter_id(store, "dongle") == "1909113"

    @pytest.mark.parametrize("readings,mid", [
        # Kamstrup Omnipower lists (dk-kamstrup-list3-plain, dk-kamstrup-omnipower-enc-keyed):
        # the meter id 1-1:0.0.5 as text, the meter number 1-1:0.0.1 as an integer.
        ({"1-1:0.2.129": ("Kamstrup_V0001", None), "1-1:0.0.5": ("5706567202753025", None),
          "1-1:96.1.1": ("6841131BN243101040", None), "1-1:1.7.0": (1247, "W")}, "5706567202753025"),
        ({"1-1:0.2.129": ("Kamstrup_V0001", None), "1-1:0.0.1": (12343400, None), "1-1:1.7.0": (1083, "W")},
         "12343400"),
        ({"1-1:0.0.1": (True, None)}, "dongle"),
    ])
    def test_a_meter_id_among_the_general_purpose_codes_names_the_topic_as_the_reference_takes_it(self, readings, mid):
        # smartmeter-datacollector 2.0 also takes 1-b:0.0.0 to 1-b:0.0.9; the Kamstrups were
        # published under the dongle's id, with their meter number as a reading "0.0.1".
        store = Store()
        store.update(Telegram(None, None, None, readings, None))
        assert vse.meter_id(store, "dongle") == mid
        assert set(vse.payload(store)["meter"]) <= {"ts", "1.7.0"}

    def test_of_two_general_purpose_ids_the_lowest_code_names_the_topic_on_either_interpreter(self):
        # MicroPython's dicts keep no insertion order once they grow (found by a review).
        readings = dict(("1-0:%d.7.0" % c, (c, "W")) for c in range(1, 60))
        readings.update({"1-1:0.0.5": ("5706567202753025", None), "1-1:0.0.1": (12343400, None)})
        store = Store()
        store.update(Telegram(None, None, None, readings, None))
        assert vse.meter_id(store, "dongle") == "12343400"

    def test_an_iec_readout_without_medium_is_an_electricity_meter_named_by_its_serial(self):
        # A Landis+Gyr ZMR120's readout (public capture de-lgz-zmr120-readout-letter-codes):
        # no "A-B:" anywhere, so nothing was published but "ts" and the topic took the
        # dongle's id (a review).
        store = Store()
        store.update(Telegram(None, None, None, {
            "F.F.0": (0, None), "0.0.2": ("  978880", None), "C.1.0": ("30863358", None),
            "1.8.0": (4281.837, "kWh"), "32.7.0": (238, "V"), "33.7.0": (0.81, None), "C.7.1": (29, None),
            "C.90.1": (30863358, None)}, None))
        assert vse.meter_id(store, "dongle") == "30863358"
        assert vse.payload(store)["meter"] == {"ts": None, "1.8.0": 4281837.0, "32.7.0": 238, "33.7.0": 0.81}

    # Readouts that write the serial or meter number without E: an Itron EM214's "C.1"
    # (smartmeter-obis's test), a Landis+Gyr UH50's "0.0" (public capture
    # xx-lgz-uh50-heat-readout-several-sets-per-line, whose VSE topic took the dongle's id).
    READOUT_IDS = [({"C.1": ("53965555", None), "1.8.1": (22108.7, "kWh")}, "53965555"),
                   ({"0.0": ("66153690", None), "9.21": (66153690, None)}, "66153690"),
                   ({"C.1.0": ("30863358", None), "C.1": ("1", None), "0.0": ("2", None)}, "30863358")]

    @pytest.mark.parametrize("readings,mid", READOUT_IDS)
    def test_a_readouts_serial_or_meter_number_without_e_names_the_topic(self, readings, mid):
        store = Store()
        store.update(Telegram(None, None, None, readings, None))
        assert vse.meter_id(store, "dongle") == mid

    def test_a_readouts_number_without_e_names_the_topic_on_micropython(self):
        script = ("from app import vse\nfrom app.store import Store\nfrom decoder import Telegram\n"
                  "for readings in %r:\n s = Store()\n s.update(Telegram(None, None, None, readings, None))\n"
                  " print(vse.meter_id(s, 'dongle'))" % [r for r, _ in self.READOUT_IDS])
        done = run_micropython(["-c", script])
        assert done.returncode == 0, done.stderr
        assert done.stdout.decode().split() == [mid for _, mid in self.READOUT_IDS]

    def test_ids_versions_and_service_codes_are_no_measurements(self):
        store = Store()
        store.update(Telegram(None, None, None, {
            "1-3:0.2.8": (50, None), "1-0:0.0.1": (12343400, None), "1-0:0.9.1": (120000, None),
            "1-0:96.5.0": (4, None), "1-0:97.97.0": (0, None), "1-0:98.1.0": (7, None),
            "1-0:32.32.0": (3, None), "1-0:130.7.0": (5, "var"), "1-0:1.7.0": (5, "W"),
            "1-0:F.F.0": (0, None), "1-0:C.1.0": (12345678, None)}, None))
        assert vse.payload(store)["meter"] == {"ts": None, "32.32.0": 3, "130.7.0": 5, "1.7.0": 5}

    def test_only_electricity_readings_in_watts_and_watt_hours(self):
        # A DSMR meter's kW and kWh, an E360's kVArh: the form has no unit field.
        store = Store()
        store.update(Telegram(None, None, None, {
            "1-0:1.8.1": (2130.115, "kWh"), "1-0:1.7.0": (0.111, "kW"), "1-0:3.8.0": (12.5, "kVArh"),
            "1-0:31.7.0": (1250, "mA"), "1-0:32.7.0": (230.1, "V"), "1-0:13.7.0": (0.98, None),
            "0-1:24.2.1": (246.138, "m3"), "0-0:96.14.0": (2, None), "#1": (236, None),
            "0-0:96.3.10/3": (1, None), "1-0:99.1.0": (5, "s"), "1-0:96.13.0": ("text", None)}, None))
        assert vse.payload(store)["meter"] == {"ts": None, "1.8.1": 2130115, "1.7.0": 111, "3.8.0": 12500,
                                               "31.7.0": 1.25, "32.7.0": 230.1, "13.7.0": 0.98}

    @pytest.mark.parametrize("unit", ["\u00b0", "Deg"])
    def test_phase_angles_go_out_in_degrees_as_the_references_e450_table_lists_them(self, unit):
        # smartmeter-datacollector's register tables (cosem.py DEFAULT_COSEM_REGISTERS,
        # lge450.py) carry 1-0:81.7.40, 81.7.51 and 81.7.62 (ANGLE_UI_L1..L3) and publish
        # the register's value as gurux scales it, in the meter's degrees (DLMS unit 8 reads
        # "\u00b0", a readout writes "Deg"): an E450 sending them lost three keys here.
        store = Store()
        store.update(Telegram(None, None, None, {
            "1-0:81.7.40": (-12, unit), "1-0:81.7.51": (3.5, unit), "1-0:81.7.62": (0, unit),
            "1-0:1.7.0": (5, "W")}, None))
        assert vse.payload(store)["meter"] == {"ts": None, "81.7.40": -12, "81.7.51": 3.5, "81.7.62": 0, "1.7.0": 5}

    def test_a_value_in_years_is_not_one_in_amperes(self):
        # DLMS unit 1, the year, reads "a"; matched in any case it went out as a current.
        store = Store()
        store.update(Telegram(None, None, None, {"1-0:31.7.0": (2, "A"), "1-0:0.9.5": (3, "a")}, None))
        assert vse.payload(store)["meter"] == {"ts": None, "31.7.0": 2}

    @pytest.mark.parametrize("meter_time", VSE_TIMES)
    def test_ts_is_utc_and_a_time_without_offset_is_swiss_local_time(self, meter_time):
        assert vse.utc(meter_time) == utc_of(meter_time)

    def test_ts_is_the_same_on_micropython(self):
        done = run_micropython(["-c", "from app import vse\nfor t in %r: print(vse.utc(t))" % VSE_TIMES])
        assert done.returncode == 0, done.stderr
        assert done.stdout.decode().split() == [utc_of(t) for t in VSE_TIMES]

    def test_a_meter_without_a_clock_gets_the_gateways_utc_time_once_that_is_set(self):
        store = Store()
        store.update(Telegram(None, None, None, {"1-0:1.8.0": (1, "Wh")}, None))
        assert vse.payload(store)["meter"]["ts"] is None
        assert vse.payload(store, lambda: None)["meter"]["ts"] is None  # clock not set yet
        assert vse.payload(store, lambda: "2026-11-26T03:40:00Z")["meter"]["ts"] == "2026-11-26T03:40:00+00:00"
        filled = filled_store(1)  # the meter's own time wins
        assert vse.payload(filled, lambda: "2026-11-26T03:40:00Z")["meter"]["ts"] == utc_of(simulate.iso_time(0))

    @pytest.mark.parametrize("meter_time", ["12:00:00", "2026-11-26"])
    def test_a_clock_of_time_or_date_alone_gives_no_ts_of_that_shape(self, meter_time):
        # A header clock with its year unspecified (or 30 February) reads as its time only.
        store = Store()
        store.update(Telegram(meter_time, None, None, {"1-0:1.8.0": (1, "Wh")}, None))
        assert vse.payload(store)["meter"]["ts"] is None
        assert vse.payload(store, lambda: "2026-11-26T03:40:00Z")["meter"]["ts"] == "2026-11-26T03:40:00+00:00"

    def test_a_push_without_a_clock_after_one_with_goes_out_under_the_gateways_time(self, corpus):
        # An Aidon line: the hourly list carries the clock, the 2.5 s and 10 s lists do not.
        # Their newer values went out under the hourly push's time, up to an hour old.
        store, decoder = Store(), Decoder()
        for capture in ("no-aidon-3phase-list", "no-aidon-1phase-list"):
            for telegram in decoder.feed(bytes.fromhex(corpus[capture]["hex"])):
                store.update(telegram)
                doc = vse.payload(store, lambda: "2026-11-26T03:40:00Z")["meter"]
                if capture == "no-aidon-3phase-list":
                    assert doc["ts"] == "2019-12-16T06:59:40+00:00"
        assert doc["ts"] == "2026-11-26T03:40:00+00:00" and doc["1.7.0"] == 1362
        assert store.meter_time.startswith("2019-12-16T07:59:40")  # the state keeps the last clock seen

    def test_the_gateways_utc_time_is_iso_8601_on_every_port(self):
        import re

        from app import clock

        pattern = r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ$"
        assert re.match(pattern, clock.iso_utc())
        done = run_micropython(["-c", "from app import clock; print(clock.iso_utc())"])
        assert done.returncode == 0, done.stderr
        assert re.match(pattern, done.stdout.decode().strip())


class TestMetrics:
    def test_numeric_readings_and_counters_in_prometheus_text(self):
        status = {"telegrams": 3, "errors": {"checksum": 1, "authentication": 0}, "mqtt": {"connected": True},
                  "meter": {"connected": False}, "uptime_s": 12, "free_heap": 1000, "healthy": False}
        text = metrics.render(status, {"1-0:1.8.0": (12, "Wh"), "1-0:32.7.0": (230.1, "V"), "0-0:96.1.1": ("id", None)})
        lines = text.splitlines()
        assert 'meterlink_reading{obis="1-0:1.8.0",unit="Wh"} 12' in lines
        assert 'meterlink_reading{obis="1-0:32.7.0",unit="V"} 230.1' in lines
        assert not [l for l in lines if "96.1.1" in l]
        assert 'meterlink_decode_errors_total{kind="checksum"} 1' in lines
        assert "meterlink_mqtt_connected 1" in lines and "meterlink_meter_connected 0" in lines
        assert "meterlink_healthy 0" in lines  # the watchdog restarts the dongle
        assert "# TYPE meterlink_telegrams_total counter" in lines
        assert text.endswith("\n")
        assert "meterlink_last_telegram_timestamp_seconds" not in text  # none decoded yet

    def test_the_last_telegrams_time_is_a_gauge_to_alert_on_a_silent_meter(self):
        # The port can stay open while the meter sends nothing: time() minus this tells.
        status = {"telegrams": 3, "errors": {}, "mqtt": {"connected": True}, "uptime_s": 12,
                  "healthy": True, "meter": {"connected": True, "last_telegram_time": 1795740339.25}}
        lines = metrics.render(status, {}).splitlines()
        assert "# TYPE meterlink_last_telegram_timestamp_seconds gauge" in lines
        assert "meterlink_last_telegram_timestamp_seconds 1795740339.25" in lines


def test_reader_feeds_chunks_of_any_size_into_the_store():
    store = Store()
    pokes = []
    reader = MeterReader(None, "tcp://x:1", 9600, Decoder(simulate.DEFAULT_KEY, simulate.DEFAULT_AUTH_KEY),
                         store, lambda: pokes.append(1))
    data = simulate.push_bytes(0, "mbus")
    for i in range(0, len(data), 7):
        reader.handle(data[i:i + 7])
    assert len(pokes) == 2 and store.frame_counter == 2


@pytest.mark.parametrize("source, refusal, said", [
    # "meter: read failed (OSError(111,))" said nothing to a user (a black-box test).
    ("tcp://x:1", OSError(111), "ECONNREFUSED"),
    # The unix board's serial device with its USB adapter out logged
    # "(OSError('/dev/ttyUSB0 does not exist: ...',))".
    ("/dev/ttyUSB0", OSError("/dev/ttyUSB0 does not exist: is the adapter plugged in?"),
     "/dev/ttyUSB0 does not exist: is the adapter plugged in?"),
])
def test_a_meter_port_that_cannot_be_opened_is_logged_by_errno_name_or_in_words(source, refusal, said):
    import asyncio

    class Board:
        async def open_meter(self, source, baud, line="8N1"):
            raise refusal

    lines = []
    reader = MeterReader(Board(), source, 9600, Decoder(), Store(), log=lines.append)

    async def main():
        task = asyncio.create_task(reader.run())
        await asyncio.sleep(0.1)
        task.cancel()

    asyncio.run(main())
    assert lines[0] == "meter: cannot open %s (%s), retry in 0.5s" % (source, said)


def test_the_meters_errors_reach_the_log_at_the_first_second_fourth_and_so_on():
    # A wrong key was silent in the log (only /api/v1/status told); one line per frame
    # would flood it on a noisy line.
    lines = []
    wrong = "00" * 16
    reader = MeterReader(None, "tcp://x:1", 9600, Decoder(wrong, wrong), Store(), log=lines.append)
    for n in range(1, 6):  # the 5-second list only (push 0 adds the minute list)
        reader.handle(simulate.push_bytes(n, minute_every=1000))
    assert reader.decoder.errors.tally == 5
    assert [line.split(" (")[-1] for line in lines] == ["1 so far)", "2 so far)", "4 so far)"]
    assert lines[0].startswith("meter: authentication failed")


MP_SCRIPT = r"""
import json
from app.store import Store
from app.snapshot import SnapshotWriter
from app import discovery, vse, metrics
from decoder import Decoder, telegram_json
dec = Decoder(%r, %r)
store = Store()
for chunk in %r:
    for t in dec.feed(bytes.fromhex(chunk)):
        store.update(t)
# MicroPython dicts keep no insertion order: compare documents, not bytes.
print(json.loads(bytes(SnapshotWriter().render(store))) == json.loads(telegram_json(store)))
print(json.dumps(discovery.config("1-0:1.8.0", 1, "Wh", "d", "s", "a", "v")))
print(json.dumps(vse.payload(store)))
print(discovery.friendly_name("1-0:52.7.0"))
"""


def test_the_same_parts_behave_identically_on_micropython(tmp_path):
    chunks = [simulate.push_bytes(n, "hdlc", minute_every=3).hex() for n in range(4)]
    script = tmp_path / "units.py"
    script.write_text(MP_SCRIPT % (simulate.DEFAULT_KEY, simulate.DEFAULT_AUTH_KEY, chunks))
    out = run_micropython([str(script)], heapsize="512k")
    assert out.returncode == 0, out.stderr.decode()
    lines = out.stdout.decode().splitlines()
    store = filled_store(4)
    assert lines[0] == "True"
    assert json.loads(lines[1]) == discovery.config("1-0:1.8.0", 1, "Wh", "d", "s", "a", "v")
    assert json.loads(lines[2]) == vse.payload(store)
    assert lines[3] == "Voltage L2"


HEAT_MP_SCRIPT = r"""
import json, sys
from app import discovery
from decoder import dsmr
readings = dsmr.parse(sys.stdin.read())[0]
out = {}
for code in readings:
    doc = discovery.config(code, readings[code][0], readings[code][1], "d", "s", "a", "v", None, readings)
    out[code] = [doc["name"], doc.get("device_class"), doc.get("state_class")]
print(json.dumps(out))
"""


@pytest.mark.parametrize("cid", ["xx-lgz-uh50-heat-readout-several-sets-per-line", "de-lgz-zmr120-readout-letter-codes"])
def test_a_readouts_names_and_classes_are_the_same_on_micropython(cid):
    # A heat meter's readout named by its codes, an electricity meter's by its quantities.
    text = capture_text(cid)
    done = run_micropython(["-c", HEAT_MP_SCRIPT], heapsize="512k", input_bytes=text.encode("latin-1"))
    assert done.returncode == 0, done.stderr.decode()
    readings = dsmr.parse(text)[0]
    expected = {}
    for code, (value, unit) in readings.items():
        doc = discovery.config(code, value, unit, "d", "s", "a", "v", None, readings)
        expected[code] = [doc["name"], doc.get("device_class"), doc.get("state_class")]
    assert json.loads(done.stdout) == expected


def test_status_times_are_unix_seconds_on_every_port():
    import calendar
    import time

    from app import clock

    assert abs(clock.now() - time.time()) < 2
    done = run_micropython(["-c", "from app import clock; print(clock.now())"])
    assert done.returncode == 0, done.stderr
    assert abs(float(done.stdout) - time.time()) < 5
    # The ESP32 port counts from 2000-01-01: the offset that turns it into Unix time.
    assert clock.UNIX_2000 == calendar.timegm((2000, 1, 1, 0, 0, 0))


class _Meter:
    """A meter port that gives its chunks, then waits; ``fail``: what each read raises."""

    def __init__(self, chunks, fail=None):
        self.chunks, self.fail = list(chunks), fail

    async def readinto(self, buf):
        import asyncio

        if self.fail is not None:
            raise self.fail
        if not self.chunks:
            await asyncio.sleep(3600)
        chunk = self.chunks.pop()
        buf[:len(chunk)] = chunk
        return len(chunk)

    def close(self):
        pass


def _read_until_decoded(reader, store, size):
    """Run ``reader`` (reads of ``size`` bytes: one takes a whole push) until the store holds
    a telegram; its task must still be running then."""
    import asyncio

    reader._buf = bytearray(size)
    reader._view = memoryview(reader._buf)

    async def main():
        task = asyncio.create_task(reader.run())
        for _ in range(100):
            await asyncio.sleep(0.05)
            if store.frame_counter:
                break
        assert not task.done()
        task.cancel()

    asyncio.run(main())


def test_a_memory_error_reading_the_meter_costs_one_session_not_the_reader_task():
    # A read on a fragmented heap (the TCP stream's bytes, the port's set-up) used to end
    # the reader task: the gateway then ran on without reading the meter.
    data = simulate.push_bytes(0, "hdlc")

    class Board:
        opened = 0

        async def open_meter(self, source, baud, line="8N1"):
            Board.opened += 1
            if Board.opened == 1:
                raise MemoryError("opening")
            return _Meter([data], MemoryError("a fragmented heap") if Board.opened == 2 else None)

    store = Store()
    reader = MeterReader(Board(), "tcp://x:1", 9600, Decoder(simulate.DEFAULT_KEY, simulate.DEFAULT_AUTH_KEY),
                         store, log=lambda m: None)
    _read_until_decoded(reader, store, len(data))
    assert Board.opened == 3 and reader.memory_errors == 2
    assert store.frame_counter == 2  # push 0: the 5 s list and the minute list


def test_a_decoder_fault_on_one_chunk_is_counted_and_the_next_is_read():
    # A KeyError out of Decoder.feed (a fuzz found one in the DSMR parser) ended the
    # reader task: the gateway served on and read the meter no more.
    data = simulate.push_bytes(0, "hdlc")
    decoder = Decoder(simulate.DEFAULT_KEY, simulate.DEFAULT_AUTH_KEY)
    feed, faults = decoder.feed, [KeyError("0-1:24.2.1")]

    def faulty(chunk):
        if faults:
            raise faults.pop()
        return feed(chunk)

    decoder.feed = faulty

    class Board:
        async def open_meter(self, source, baud, line="8N1"):
            return _Meter([data, data])

    store, said = Store(), []
    reader = MeterReader(Board(), "tcp://x:1", 9600, decoder, store, log=said.append)
    _read_until_decoded(reader, store, len(data))
    assert store.frame_counter == 2
    assert decoder.errors.counts["malformed"] == 1
    assert decoder.errors.last_error == "decoder fault on this input: KeyError '0-1:24.2.1'"
    assert said[0] == "meter: decoder fault on a chunk, read on: KeyError '0-1:24.2.1'"


def test_a_reader_that_finds_no_heap_chunk_after_chunk_makes_the_gateway_unhealthy(monkeypatch):
    # A soak at the heap floor: after a run of chunks lost for lack of heap, nothing more
    # was ever decoded, though no task ended: a dongle that serves nothing, and a watchdog
    # still fed. Now the streak marks the gateway unhealthy, and the watchdog restarts it.
    import asyncio

    from app import reader as reader_module
    from app.app import App

    data = simulate.push_bytes(0, "hdlc")

    class Meter:
        chunks = 0

        async def readinto(self, buf):
            Meter.chunks += 1
            await asyncio.sleep(0)
            buf[:len(data)] = data
            return len(data)

        def close(self):
            pass

    class Board:
        async def open_meter(self, source, baud, line="8N1"):
            return Meter()

    reader = MeterReader(Board(), "tcp://x:1", 9600, Decoder(simulate.DEFAULT_KEY, simulate.DEFAULT_AUTH_KEY),
                         Store(), log=lambda m: None)
    reader._buf = bytearray(len(data))
    reader._view = memoryview(reader._buf)
    gateway = App.__new__(App)  # only healthy() is asked: its tasks, its reader and MQTT
    gateway._tasks, gateway.reader, gateway.mqtt = [], reader, types.SimpleNamespace(memory_streak=0)

    def short_of_heap(chunk):
        raise MemoryError("a fragmented heap")

    async def main(chunks):
        task = asyncio.create_task(reader.run())
        while Meter.chunks < chunks:
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        task.cancel()

    monkeypatch.setattr(reader, "handle", short_of_heap)
    asyncio.run(main(reader_module.STUCK_AFTER - 1))
    assert gateway.healthy()  # a few lost chunks: the decoder resyncs on the next frame
    asyncio.run(main(reader_module.STUCK_AFTER + 1))
    assert not gateway.healthy()
    monkeypatch.undo()
    asyncio.run(main(reader_module.STUCK_AFTER + 3))  # one chunk decoded ends the streak
    assert gateway.healthy() and reader.memory_streak == 0


def test_mqtt_connections_lost_for_lack_of_heap_in_a_row_make_the_gateway_unhealthy():
    # A store of ~100 codes on a heap too small for them lost every later state message,
    # connection after connection, and the watchdog was still fed: nothing recovered.
    from app import mqtt
    from app.app import App

    pub = mqtt.MqttPublisher({"device_id": "d", "mqtt": {"prefix": "m", "host": ""}}, Store(), "t", None,
                             log=lambda m: None)
    gateway = App.__new__(App)
    gateway._tasks, gateway.reader, gateway.mqtt = [], types.SimpleNamespace(memory_streak=0), pub
    for _ in range(mqtt.STUCK_AFTER - 1):
        pub._fail("connection lost: MemoryError", MemoryError())
    pub._fail("connection lost: ECONNRESET", OSError(104))  # not for lack of heap: not counted
    assert gateway.healthy()
    pub._fail("connection lost: MemoryError", MemoryError())
    assert not gateway.healthy() and pub.memory_streak == mqtt.STUCK_AFTER


def test_a_source_that_opens_but_gives_no_byte_is_retried_with_a_growing_backoff(monkeypatch):
    # On MicroPython asyncio.open_connection returns before the connect is done: a refused
    # TCP source "opens", then its first read ends. Taken for a working port, it reset the
    # backoff and was retried twice a second forever.
    import asyncio

    from app import reader as reader_module

    monkeypatch.setattr(reader_module, "BACKOFF_FIRST", 0.02)

    class Refused:
        async def readinto(self, buf):
            return 0

        def close(self):
            pass

    class Board:
        opened = 0

        async def open_meter(self, source, baud, line="8N1"):
            Board.opened += 1
            return Refused()

    reader = MeterReader(Board(), "tcp://x:1", 9600, Decoder(), Store(), log=lambda m: None)

    async def main():
        task = asyncio.create_task(reader.run())
        await asyncio.sleep(1.0)  # 0.02 + 0.04 + ... : 6 opens; without backoff about 50
        task.cancel()

    asyncio.run(main())
    assert 4 <= Board.opened <= 7, Board.opened
    assert reader.connects == 0  # attempts are no connects (mqtt.connects counts the same way)


HEALTH = """
import asyncio, config
import app.app as appmod
from app.app import App
from board import Board
appmod.HEALTH_EVERY = 0.05

class CountingBoard(Board):
    feeds = 0
    def watchdog_feed(self):
        CountingBoard.feeds += 1

cfg = config.validate({"meter": {"source": "tcp://127.0.0.1:%d"}, "mqtt": {"host": ""},
                       "http": {"port": %d}, "device_id": "health"})
app = App(cfg, CountingBoard(), log=lambda m: None)

async def fed_while(seconds):
    before = CountingBoard.feeds
    await asyncio.sleep(seconds)
    return CountingBoard.feeds - before

async def main():
    asyncio.create_task(app.run())
    await asyncio.sleep(0.2)
    out = [await fed_while(0.3)]
    app.server.listener().cancel()  # stands in for a listener that died
    await asyncio.sleep(0.1)
    out.append(await fed_while(0.3))
    print(out[0] > 0, out[1])

asyncio.run(main())
"""


def test_the_watchdog_is_fed_only_while_every_task_runs_the_http_listener_included():
    # On the device a task that ended stops the feed and the watchdog resets the dongle:
    # the one way back for a gateway whose reader, MQTT or HTTP listener died.
    from gateway_support import free_port

    out = run_micropython(["-c", HEALTH % (free_port(), free_port())])
    assert out.returncode == 0, out.stdout.decode() + out.stderr.decode()
    assert out.stdout.decode().split() == ["True", "0"]


def test_uptime_survives_the_esp32s_tick_wrap(monkeypatch):
    # The ESP32's ticks_ms wraps at 2**30 ms and ticks_diff is signed within 2**29 ms
    # (6.2 days): uptime as one ticks_diff from the start went negative after 6.2 days.
    import app.app as appmod

    period = 1 << 30
    clock = {"ms": period - 5000}  # the counter starts near its wrap, as it may
    monkeypatch.setattr(appmod, "ticks_ms", lambda: clock["ms"] % period)
    monkeypatch.setattr(appmod, "ticks_diff", lambda a, b: ((a - b + period // 2) % period) - period // 2)

    class Running:
        _uptime_ms = 0
        _ticked = clock["ms"] % period

    app = Running()
    for hour in range(1, 24 * 30 + 1):  # 30 days, read once an hour (the health loop: every 1 s)
        clock["ms"] += 3600 * 1000
        assert appmod.App.uptime_s(app) == hour * 3600


def jinja2_strict():
    import jinja2

    return jinja2.StrictUndefined
