"""A-XDR data (IEC 62056-6-2 Data CHOICE, IEC 61334-6 encoding): what decode
and skip must do, checked against the independent encoder in axdr_support."""

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import axdr_support as enc
from decoder import axdr
from decoder.errors import AxdrError, DecodeError, Incomplete

DT = enc.cosem_datetime(2021, 7, 6, 14, 58, 18, deviation=-120, status=0x80)

# (encoder item, the Python value decode must give)
EVERY_TYPE = [
    (("null", None), None),
    (("boolean", True), True),
    (("boolean", False), False),
    (("bit-string", "1011001110"), "1011001110"),
    (("int32", -2147483648), -2147483648),
    (("uint32", 4294967295), 4294967295),
    (("octet-string", b"\x01\x00\x01\x08\x00\xff"), b"\x01\x00\x01\x08\x00\xff"),
    (("visible-string", "LGZ1030655933512"), "LGZ1030655933512"),
    (("utf8-string", "Zürich Ω"), "Zürich Ω"),
    (("bcd", 0x42), 0x42),
    (("int8", -128), -128),
    (("int16", -32768), -32768),
    (("uint8", 255), 255),
    (("uint16", 65535), 65535),
    (("int64", -(2 ** 63)), -(2 ** 63)),
    (("uint64", 2 ** 64 - 1), 2 ** 64 - 1),  # the E570 sends 64-bit energies
    (("enum", 30), 30),
    (("float32", 1.5), 1.5),
    (("float64", -229.7), -229.7),
    (("date-time", DT), axdr.DateTime(DT)),
    (("date", b"\x07\xe8\x05\x07\x02"), axdr.Date(b"\x07\xe8\x05\x07\x02")),
    (("time", b"\x15\x0b\x11\x00"), axdr.Time(b"\x15\x0b\x11\x00")),
    (("array", [("uint16", 1), ("uint16", 2)]), [1, 2]),
    (("structure", [("int8", -1), ("enum", 27)]), (-1, 27)),
    (("array", []), []),
]


@pytest.mark.parametrize("item,value", EVERY_TYPE, ids=[i[0][0] for i in EVERY_TYPE])
def test_every_type_round_trips_from_the_independent_encoder(item, value):
    raw = enc.encode(item)
    assert axdr.decode(raw) == (value, len(raw))
    assert axdr.decode(memoryview(raw)) == (value, len(raw))  # the framer hands views
    assert axdr.skip(raw) == len(raw)


@pytest.mark.parametrize("item,value", EVERY_TYPE, ids=[i[0][0] for i in EVERY_TYPE])
def test_decode_starts_at_pos_and_stops_at_the_value_end(item, value):
    raw = b"\xAA\xBB" + enc.encode(item) + b"\x12\x00\x07"
    got, end = axdr.decode(raw, 2)
    assert got == value
    assert end == len(raw) - 3
    assert axdr.decode(raw, end) == (7, len(raw))


@pytest.mark.parametrize("n", [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x1234, 0x10000])
def test_every_length_form_short_and_long(n):
    raw = enc.encode(("octet-string", bytes(n % 256 for _ in range(n))))
    value, end = axdr.decode(raw)
    assert len(value) == n and end == len(raw)


def test_length_bytes_beyond_four_or_zero_are_malformed():
    for bad in (b"\x09\x80", b"\x09\x85\x00\x00\x00\x00\x01\x00"):
        with pytest.raises(AxdrError):
            axdr.decode(bad)
        with pytest.raises(AxdrError):
            axdr.skip(bad)


def test_floats_are_ieee754_big_endian():
    assert axdr.decode(b"\x17\x41\x20\x00\x00")[0] == 10.0
    assert math.isnan(axdr.decode(b"\x18\x7f\xf8" + b"\x00" * 6)[0])


@pytest.mark.parametrize("held", [230.1, 0.941, 12345.678, 1234.5, 49.99, -0.001, 3.4e38, 1e-30])
def test_a_float32_register_reads_as_the_decimal_it_holds(held):
    # Widened to a double, the float32 nearest 230.1 prints 230.100006103516: the
    # decoder reads the shortest decimal that is the same float32.
    raw = b"\x17" + struct.pack(">f", held)
    value = axdr.decode(raw)[0]
    assert value == held
    assert struct.pack(">f", value) == raw[1:]


def test_float32_specials_stay_what_they_are():
    assert math.isnan(axdr.decode(b"\x17\x7f\xc0\x00\x00")[0])
    assert axdr.decode(b"\x17\xff\x80\x00\x00")[0] == -math.inf


def test_compact_array_of_structures_decodes_row_by_row():
    desc = ("structure", ["uint16", "int32", "octet-string"])
    rows = [(1, -5, b"ab"), (2, 7, b"")]
    raw = enc.encode(("compact-array", (desc, rows)))
    assert axdr.decode(raw) == ([(1, -5, b"ab"), (2, 7, b"")], len(raw))
    assert axdr.skip(raw) == len(raw)


def test_compact_array_with_an_array_description():
    desc = ("array", 3, "uint8")
    raw = enc.encode(("compact-array", (desc, [[1, 2, 3], [4, 5, 6]])))
    assert axdr.decode(raw)[0] == [[1, 2, 3], [4, 5, 6]]


def test_compact_array_refuses_zero_size_elements():
    # structure{} or null would let a 3-byte frame describe endless elements
    for raw in (b"\x13\x02\x00\x01\x00", b"\x13\x00\x01\x00", b"\x13\x01\x00\x00\x11\x01\x00"):
        with pytest.raises(AxdrError):
            axdr.decode(raw)


# A description that says "array of FFFF structures": its list was made before the
# content was asked for the bytes, 512 kB on the unix port, and on MicroPython the
# MemoryError left Decoder.feed, nothing counted (an A-XDR probe).
COUNT_TOO_LARGE = bytes.fromhex("0f00000001000101020209060000600100ff1301ffff020206060800000000000000000000")


def test_compact_array_whose_description_counts_more_elements_than_bytes_is_malformed():
    with pytest.raises(AxdrError):
        axdr.decode(bytes.fromhex("1301ffff0202060608") + bytes(10))


def test_such_a_compact_array_costs_one_malformed_push_on_micropython():
    from mp import run_micropython

    script = ("import decoder\nd = decoder.Decoder()\n"
              "t = d.feed(bytes.fromhex(%r) + bytes.fromhex('0f00000002000101020209060000600100ff1105'))\n"
              "print(len(t), d.errors.counts['malformed'])" % COUNT_TOO_LARGE.hex())
    proc = run_micropython(["-c", script], heapsize="128k", compiled=True)
    assert proc.returncode == 0, proc.stderr.decode() + proc.stdout.decode()
    assert proc.stdout.split() == [b"1", b"1"]


def test_real_e570_sends_int64_power_and_uint64_energy(corpus):
    import axdr_support

    body = axdr_support.notifications(corpus["ch-e570-load-int64"])[0][2]
    tree, end = axdr.decode(body)
    assert end == len(body)
    assert 2607383 in tree and 258874 in tree


@pytest.mark.parametrize("item,value", EVERY_TYPE, ids=[i[0][0] for i in EVERY_TYPE])
def test_truncated_anywhere_decode_says_malformed_and_skip_says_incomplete(item, value):
    raw = enc.encode(item)
    for cut in range(len(raw)):
        with pytest.raises(AxdrError):
            axdr.decode(raw[:cut])
        with pytest.raises(Incomplete):
            axdr.skip(raw[:cut])


def test_truncating_a_real_push_body_at_every_offset(corpus):
    import axdr_support

    body = axdr_support.notifications(corpus["ch-e450-vse2026"])[0][2]
    for cut in range(len(body)):
        with pytest.raises(AxdrError):
            axdr.decode(body[:cut])
        with pytest.raises(Incomplete):
            axdr.skip(body[:cut])


@pytest.mark.parametrize("tag", [0x07, 0x08, 0x0B, 0x0E, 0x1C, 0x39, 0x60, 0xFF])
def test_unknown_tags_are_malformed_with_the_offset(tag):
    with pytest.raises(AxdrError) as e:
        axdr.decode(b"\x02\x01" + bytes([tag]) + b"\x00" * 8)
    assert "0x%02x" % tag in str(e.value) and "offset 2" in str(e.value)
    with pytest.raises(AxdrError):
        axdr.skip(bytes([tag]))


def test_decode_bounds_nesting_and_skip_needs_no_bound():
    deep = b"\x01\x01" * (axdr.MAX_DEPTH + 1) + b"\x00"
    with pytest.raises(AxdrError):
        axdr.decode(deep)
    ok = b"\x01\x01" * (axdr.MAX_DEPTH - 1) + b"\x00"
    assert axdr.decode(ok)[1] == len(ok)
    # skip is iterative (no recursion): it measures any depth, decode refuses
    very_deep = b"\x01\x01" * 1000 + b"\x00"
    assert axdr.skip(very_deep) == len(very_deep)


def test_an_element_count_beyond_the_buffer_is_refused_before_building():
    with pytest.raises(AxdrError):
        axdr.decode(b"\x01\x84\xff\xff\xff\xff\x00")


def test_undecodable_visible_string_bytes_become_question_marks():
    assert axdr.decode(b"\x0a\x03A\xffB")[0] == "A?B"


def test_date_time_values_compare_by_their_bytes():
    assert axdr.DateTime(DT) == axdr.DateTime(bytes(DT))
    assert axdr.DateTime(DT) != axdr.Date(DT[:5])
    assert "DateTime(" in repr(axdr.DateTime(DT))


# --- property-based: whatever the bytes, only the decoder's own errors ------

SCALARS = st.one_of(
    st.builds(lambda v: ("uint32", v), st.integers(0, 2 ** 32 - 1)),
    st.builds(lambda v: ("int16", v), st.integers(-(2 ** 15), 2 ** 15 - 1)),
    st.builds(lambda v: ("uint64", v), st.integers(0, 2 ** 64 - 1)),
    st.builds(lambda v: ("octet-string", v), st.binary(max_size=300)),
    st.builds(lambda v: ("visible-string", v), st.text("ABCxyz019 ", max_size=20)),
    st.builds(lambda v: ("boolean", v), st.booleans()),
    st.builds(lambda v: ("bit-string", v), st.text("01", max_size=20)),
    st.just(("null", None)),
    st.builds(lambda v: ("date-time", v), st.binary(min_size=12, max_size=12)),
)
ITEMS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.builds(lambda v: ("array", v), st.lists(inner, max_size=5)),
        st.builds(lambda v: ("structure", v), st.lists(inner, max_size=5)),
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(ITEMS)
def test_skip_ends_exactly_where_decode_ends(item):
    raw = enc.encode(item)
    assert axdr.decode(raw)[1] == axdr.skip(raw) == len(raw)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_decoder_errors(data):
    try:
        value, end = axdr.decode(data)
        assert end <= len(data)
    except AxdrError:
        pass
    try:
        assert axdr.skip(data) <= len(data)
    except (AxdrError, Incomplete):
        pass


@settings(max_examples=300, deadline=None)
@given(ITEMS, st.data())
def test_mutated_values_raise_only_decoder_errors(item, data):
    raw = bytearray(enc.encode(item))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    try:
        axdr.decode(bytes(raw))
    except DecodeError as e:
        assert isinstance(e, AxdrError)
