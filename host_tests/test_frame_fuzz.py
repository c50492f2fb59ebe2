"""Bad input, property-based: random bytes and mutated real frames in random
chunks. next() never raises, buffers stay bounded, and the good frames
around the bad ones still come out."""

from hypothesis import given, settings
from hypothesis import strategies as st

from decoder import stream
from decoder.errors import KINDS, ErrorLog
from frame_support import LLC, chunked, hdlc_frame, mbus_frame, dsmr_telegram, notification, run
from test_frame_corpus import CORPUS, IDS, capture

GOOD = [
    hdlc_frame(LLC + notification(1)),
    mbus_frame(notification(2), 0x10),
    dsmr_telegram(["1-0:1.8.1(000001.000*kWh)"]),
]
SMALL = 512


def feed_all(data, sizes, **kwargs):
    log = ErrorLog()
    framer = stream.Framer(log, **kwargs)
    out = run(framer, chunked(data, sizes=sizes))
    assert framer._end - framer._start <= framer._cap
    assert set(log.counts) == set(KINDS)
    return out, log


@settings(max_examples=200, deadline=None)
@given(noise=st.binary(max_size=3000), sizes=st.lists(st.integers(1, 300), min_size=1, max_size=5))
def test_random_bytes_never_raise(noise, sizes):
    feed_all(noise, sizes, max_frame=SMALL, max_message=SMALL)


@settings(max_examples=150, deadline=None)
@given(
    entry_id=st.sampled_from(IDS),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), max_size=4),
    sizes=st.lists(st.integers(1, 200), min_size=1, max_size=5),
)
def test_mutated_capture_between_good_frames_loses_only_itself(entry_id, flips, sizes):
    bad = bytearray(capture(CORPUS[entry_id]))
    for where, mask in flips:
        bad[where % len(bad)] ^= mask
    good = GOOD[0] if CORPUS[entry_id]["transport"] != "mbus" else GOOD[1]
    # A padding run of idle flags/CR-LF lets a mutated length field run out
    # into fill rather than into the next good frame.
    tail = b"\x7e" * 8 + b"\r\n" * 140
    out, _ = feed_all(good + bytes(bad) + tail + good + good, sizes)
    want = run(stream.Framer(ErrorLog()), [good])[0]
    assert out[0] == want
    assert out[-2:] == [want, want]


@settings(max_examples=100, deadline=None)
@given(
    order=st.permutations(range(3)),
    garbage=st.lists(st.binary(max_size=40).filter(lambda b: b"\x7e" not in b), min_size=4, max_size=4),
    sizes=st.lists(st.integers(1, 100), min_size=1, max_size=5),
)
def test_three_framings_mixed_with_garbage_all_come_out(order, garbage, sizes):
    data = garbage[0]
    for i, k in enumerate(order):
        data += GOOD[k] + garbage[i + 1]
    out, log = feed_all(data, sizes)
    kinds = [kind for kind, _ in out]
    assert kinds.count(stream.KIND_DSMR) == 1
    assert sum(1 for _, p in out if p in (notification(1), notification(2))) == 2


def test_noise_that_looks_like_a_long_apdu_does_not_hold_back_the_frames_behind_it():
    # E0 ... 82 07 FF: a General Block Transfer header announcing 2047 bytes.
    noise = b"\xe0\x00\x00\x01\x00\x00\x82\x07\xff"
    out, log = feed_all(noise + GOOD[0] + GOOD[1], [5])
    assert [p for _, p in out] == [notification(1), notification(2)]
    assert "checksum" not in {k for k, v in log.counts.items() if v}


def test_a_bare_apdu_with_a_corrupt_length_does_not_swallow_the_frames_behind_it():
    # Hypothesis found it: the Smarty's DB APDU with its length 02BA turned
    # into 06BA, fed byte by byte. The "APDU" would run far past the stream;
    # the good HDLC frame behind it lies beyond more than 8 false 7E hits
    # (ciphertext and fill flags), which the search once gave up after.
    bad = bytearray(capture(CORPUS["lu-smarty-dsmr-encrypted"]))
    bad[11] ^= 4
    good = GOOD[0]
    tail = b"\x7e" * 8 + b"\r\n" * 140
    out, _ = feed_all(good + bytes(bad) + tail + good + good, [1])
    want = (stream.KIND_APDU, notification(1))  # the LLC stripped
    assert out == [want, want, want]


def test_a_frame_behind_many_false_flags_inside_a_long_apdu_is_found_whatever_the_chunks():
    # 40 flags that open no frame, then a good frame, all inside what an
    # E0 header says is a 2047-byte General Block Transfer block.
    noise = b"\xe0\x00\x00\x01\x00\x00\x82\x07\xff" + b"\x7e\x00" * 40
    for sizes in ([1], [7], [1000]):
        out, log = feed_all(noise + GOOD[0] + GOOD[0], sizes)
        assert [p for _, p in out] == [notification(1)] * 2, sizes
        assert log.total() == 0
