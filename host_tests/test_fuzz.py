"""Bad input, end to end: Decoder.feed never raises, and good pushes survive.

Property-based (hypothesis): random bytes, good pushes with bytes flipped,
inserted or deleted, and bodies that are wrong while the link and ciphering
around them are right (so the damage reaches the A-XDR and OBIS layers), all
fed in random chunk sizes. Whatever happens is counted in ``Decoder.errors``;
the good pushes before and after the bad one still come out.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import decoder
import decoder_support as ds

KEY, AUTH, TITLE = ds.SIL_KEY, ds.SIL_AUTH_KEY, ds.SIL_TITLE
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def good_push(counter):
    """A small, complete, encrypted push in one HDLC frame."""
    body = ds.tagged_body([("1-0:1.7.0", ds.uint32(counter), (0, 27))])
    apdu = ds.cipher(ds.data_notification(body, invoke_id=counter), KEY, TITLE, counter, AUTH)
    return ds.hdlc_frame(ds.LLC + apdu)


# A damaged length field can make the framer wait for up to one longest HDLC
# frame (2047 bytes) before its check fails and it rescans: on a real line the
# next pushes arrive anyway, so the streams below go on for longer than that.
TRAILER = b"".join(good_push(n) for n in range(4, 34))


def feed_in_chunks(data, cuts):
    """Feed ``data`` cut at ``cuts``; any exception fails the test by escaping."""
    dec = decoder.Decoder(key=KEY, auth_key=AUTH, profile="e450")
    telegrams = []
    start = 0
    for cut in sorted(set(c % (len(data) + 1) for c in cuts)) + [len(data)]:
        telegrams += dec.feed(data[start:cut])
        start = cut
    return telegrams, dec


def counters(telegrams):
    return [t.frame_counter for t in telegrams]


@st.composite
def mutated(draw, data):
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and len(data) > 1:
            del data[pos : pos + draw(st.integers(1, 8))]
        elif op == "truncate":
            del data[pos:]
    return bytes(data)


CUTS = st.lists(st.integers(0, 10_000), max_size=30)


@SETTINGS
@given(st.binary(max_size=2048), CUTS)
def test_random_bytes_never_raise(data, cuts):
    telegrams, dec = feed_in_chunks(data, cuts)
    assert isinstance(telegrams, list)


@SETTINGS
@given(st.data(), CUTS)
def test_a_mutated_push_between_good_ones_loses_only_itself(data, cuts):
    bad = data.draw(mutated(ds.sil_push(seed=1, frame_counter=2)[0]))
    telegrams, dec = feed_in_chunks(good_push(1) + bad + good_push(3) + TRAILER, cuts)
    got = counters(telegrams)
    assert got[0] == 1 and got[-30:] == list(range(4, 34)), (got, dec.errors.counts)
    assert 3 in got, (got, dec.errors.counts)


@st.composite
def broken_body(draw):
    """A-XDR bytes that start like a body and go wrong somewhere."""
    good, _ = ds.sil_info_1_body(seed=draw(st.integers(0, 99)))
    style = draw(st.sampled_from(["mutate", "random", "truncate"]))
    if style == "random":
        return draw(st.binary(max_size=300))
    if style == "truncate":
        return good[: draw(st.integers(0, len(good) - 1))]
    return draw(mutated(good))


@SETTINGS
@given(broken_body(), st.sampled_from([0x30, 0x20, None]), CUTS)
def test_a_bad_body_inside_good_framing_and_ciphering_is_counted(body, security, cuts):
    apdu = ds.data_notification(body, invoke_id=2)
    if security is not None:
        apdu = ds.cipher(apdu, KEY, TITLE, 2, AUTH, sc=security)
    stream = good_push(1) + ds.hdlc_gbt(apdu, block_size=90) + good_push(3)
    telegrams, dec = feed_in_chunks(stream, cuts)
    got = counters(telegrams)
    assert got[0] == 1 and got[-1] == 3, (got, dec.errors.counts)


@st.composite
def odd_value(draw, depth=0):
    """Well-formed A-XDR of any shape: the decoder must cope, not necessarily map it."""
    kinds = ["u32", "i8", "str", "oct", "null", "bool", "f32", "f64"] + (["arr", "st"] if depth < 3 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "u32":
        return ds.uint32(draw(st.integers(0, 2**32 - 1)))
    if kind == "i8":
        return ds.int8(draw(st.integers(-128, 127)))
    if kind == "str":
        return ds.visible(draw(st.text(alphabet="abc XYZ019", max_size=20)))
    if kind == "oct":
        return ds.octets(draw(st.binary(max_size=20)))
    if kind == "null":
        return ds.null()
    if kind == "bool":
        return ds.boolean(draw(st.booleans()))
    if kind == "f32":
        return ds.float32(draw(st.floats(width=32)))
    if kind == "f64":
        return ds.float64(draw(st.floats()))
    items = draw(st.lists(odd_value(depth + 1), max_size=6))
    return ds.array(items) if kind == "arr" else ds.structure(items)


@SETTINGS
@given(odd_value(), CUTS)
def test_well_formed_but_unexpected_bodies_never_raise(body, cuts):
    stream = good_push(1) + ds.hdlc_frame(ds.LLC + ds.data_notification(body, invoke_id=2)) + good_push(3)
    telegrams, dec = feed_in_chunks(stream, cuts)
    got = counters(telegrams)
    assert got[0] == 1 and got[-1] == 3, (got, dec.errors.counts)
    for t in telegrams:
        decoder.telegram_json(t)  # whatever came out must serialise


@SETTINGS
@given(st.binary(max_size=300), st.sampled_from([0x20, 0x30]), CUTS)
def test_any_plaintext_starting_with_a_slash_inside_ciphering_never_raises(tail, security, cuts):
    """Decrypted content that begins with '/' is taken for a DSMR telegram (Smarty)."""
    apdu = ds.cipher(b"/" + tail, KEY, TITLE, 2, AUTH, sc=security)
    stream = good_push(1) + ds.hdlc_frame(ds.LLC + apdu) + good_push(3)
    telegrams, dec = feed_in_chunks(stream, cuts)
    got = counters(telegrams)
    assert got[0] == 1 and got[-1] == 3, (got, dec.errors.counts)
    for t in telegrams:
        decoder.telegram_json(t)
