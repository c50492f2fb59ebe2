"""OBIS-tagged bodies read entry by entry (obis_tagged.py) say exactly what the tree path says.

The streamed path exists for the heap (no whole A-XDR tree kept alive while the readings
are built); it must never change a reading. Each case decodes the same bytes twice, once
as shipped and once with the streamed path switched off, and compares every telegram.
"""

import pytest

import simulate
from decoder_support import decode_all
from decoder import obis_tagged, obis_untagged


def _both(monkeypatch, data, **keys):
    streamed = decode_all(data, **keys)
    with monkeypatch.context() as m:
        m.setattr(obis_tagged, "streamed", lambda body, name, title: None)
        tree = decode_all(data, **keys)
    return streamed, tree


def _same(streamed, tree):
    (got, dec_a), (want, dec_b) = streamed, tree
    assert [(t.meter_time, t.frame_counter, t.readings) for t in got] == \
        [(t.meter_time, t.frame_counter, t.readings) for t in want]
    assert dec_a.errors.counts == dec_b.errors.counts
    # dict order is the order the JSON shows: the entries' order in the frame
    assert [list(t.readings) for t in got] == [list(t.readings) for t in want]
    return got


def _data(entry):
    return bytes.fromhex(entry["hex"]) if entry.get("hex") else entry["text"].encode("latin-1")


def test_every_capture_reads_the_same_streamed_or_from_the_tree(corpus, monkeypatch):
    for entry in corpus.values():
        keys = {"key": entry.get("key_hex"), "auth_key": entry.get("auth_key_hex")}
        _same(*_both(monkeypatch, _data(entry), **keys))


@pytest.mark.parametrize("push", [1, 12, 59, 60])
def test_the_simulated_sil_pushes_read_the_same(monkeypatch, push):
    data = simulate.push_bytes(push, minute_every=12)
    got = _same(*_both(monkeypatch, data, key=simulate.DEFAULT_KEY, auth_key=simulate.DEFAULT_AUTH_KEY))
    assert got and all(t.readings for t in got)


def _entry(obis6, value, su=b""):
    return bytes([0x02, 3 if su else 2, 0x09, 6]) + obis6 + value + su


POWER = bytes([1, 0, 1, 7, 0, 255])
NAME = bytes([0, 0, 42, 0, 0, 255])


def test_the_streamed_path_reads_a_plain_tagged_body_with_frame_scale():
    su = bytes([0x02, 0x02, 0x0F, 0xFF, 0x16, 27])  # 10^-1 W
    body = bytes([0x01, 1]) + _entry(POWER, bytes([0x06, 0, 0, 0x09, 0x29]), su)
    assert obis_tagged.streamed(memoryview(body), "auto", None) == {"1-0:1.7.0": (234.5, "W")}


@pytest.mark.parametrize("body", [
    b"",  # nothing
    bytes([0x02, 0]),  # an empty structure: the untagged path decides
    bytes([0x02, 1, 0x06, 0, 0, 0, 1]),  # a bare value, no OBIS
    bytes([0x02, 1]) + _entry(POWER, bytes([0x02, 1, 0x11, 5])),  # a value that is a structure
    bytes([0x02, 1]) + _entry(POWER, bytes([0x06, 0, 0])),  # cut inside the value
    bytes([0x02, 2]) + _entry(POWER, bytes([0x11, 5])) + bytes([0x09, 6]) + NAME,  # flat after nested
])
def test_any_other_shape_is_left_to_the_tree_path(body):
    assert obis_tagged.streamed(memoryview(body), "auto", None) is None


# Blue Book 4.3.3: an extended register carries status (attribute 4) and capture time
# (attribute 5) after value and scaler_unit. A body listing such registers whole writes
# 4 or 5 elements per entry; the reading is the value, the moment is dropped (as the
# DSMR reader drops the capture time of a month's peak).
PEAK = bytes([1, 0, 1, 6, 0, 255])  # maximum demand, import
CLOCK = bytes([0, 0, 1, 0, 0, 255])
PEAK_AT = bytes.fromhex("07EA0B1B05") + bytes([10, 15, 0, 0xFF, 0x80, 0, 0])  # 2026-11-27 10:15
NOW = bytes.fromhex("07EA0B1B05") + bytes([12, 0, 5, 0xFF, 0x80, 0, 0])
WATT_SU = bytes([0x02, 0x02, 0x0F, 0x00, 0x16, 27])  # W, 10^0
PEAK_VALUE = bytes([0x06, 0, 0, 0x12, 0x34])  # 4660 W


def _whole_register(obis6, value, *extra):
    parts = [bytes([0x09, 6]) + obis6, value, WATT_SU] + list(extra)
    return bytes([0x02, len(parts)]) + b"".join(parts)


def _both_ways(body):
    streamed = obis_tagged.streamed(memoryview(body), "auto", None)
    tree = obis_untagged.decoded(memoryview(body), "auto", None)
    assert streamed == tree
    return streamed


@pytest.mark.parametrize("extra", [
    [bytes([0x09, 12]) + PEAK_AT],  # capture time
    [bytes([0x11, 0]), bytes([0x09, 12]) + PEAK_AT],  # status, then capture time
    [bytes([0x19]) + PEAK_AT],  # capture time as a tagged date-time
])
def test_an_extended_registers_status_and_capture_time_are_passed_over(extra):
    body = (bytes([0x02, 3]) + _entry(CLOCK, bytes([0x09, 12]) + NOW)
            + _whole_register(PEAK, PEAK_VALUE, *extra) + _entry(POWER, bytes([0x06, 0, 0, 0, 7])))
    got = _both_ways(body)
    assert got["1-0:1.6.0"] == (4660, "W")
    assert got["1-0:1.7.0"][0] == 7
    assert got["0-0:1.0.0"][0].startswith("2026-11-27T12:00:05")
    assert not [k for k in got if k.startswith("#")]


def test_a_flat_registers_capture_time_is_not_read_as_the_meters_clock():
    # Flat (Kamstrup/Kaifa style): OBIS, value, {scaler, unit}, then the register's
    # capture time, untagged; with no clock entry before it, it was taken for the clock.
    body = (bytes([0x02, 6, 0x09, 6]) + PEAK + PEAK_VALUE + WATT_SU + bytes([0x09, 12]) + PEAK_AT
            + bytes([0x09, 6]) + POWER + bytes([0x06, 0, 0, 0, 7]))
    got = obis_untagged.decoded(memoryview(body), "auto", None)
    assert got == {"1-0:1.6.0": (4660, "W"), "1-0:1.7.0": (7, "W")}


def test_a_flat_bodys_own_untagged_clock_is_still_the_meters_clock():
    # The Austrian Kaifa and E450 habit: the clock, unlabelled, opens the body.
    body = (bytes([0x02, 4, 0x09, 12]) + NOW + bytes([0x09, 6]) + PEAK + PEAK_VALUE + WATT_SU)
    got = obis_untagged.decoded(memoryview(body), "auto", None)
    assert got["0-0:1.0.0"][0].startswith("2026-11-27T12:00:05")
    assert got["1-0:1.6.0"] == (4660, "W")
