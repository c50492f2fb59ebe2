"""Wired M-Bus long frames (EN 13757-2) with DLMS segmentation in the CI field.

The Framer checks 68 L L 68 / checksum / 16, strips C, A, CI, STSAP and
DTSAP, and joins segments 0, 1, 2, ... (CI low nibble; 0x10 marks the last)
into one APDU (the numbers wrap after 15). A gap or a segment out of order
loses that APDU and is counted once as "sequence"; a corrupt segment is
counted once, as "checksum", and loses its APDU quietly. The single-character
acknowledgement E5 between frames is passed over.
"""

import pytest

from decoder import mbus, stream
from decoder.errors import ErrorLog
from frame_support import chunked, mbus_frame, mbus_segments, nonzero, notification, run
from conftest import load_corpus

APDU = stream.KIND_APDU
LONG = b"\xdb\x08SAGxxxxx" + bytes(range(256)) * 2  # a ciphered APDU of 522 bytes


def frame(data, chunks=None, **kwargs):
    log = ErrorLog()
    out = run(stream.Framer(log, **kwargs), chunks if chunks is not None else [data])
    return [p for _, p in out], log


def test_single_frame_apdu_is_the_data_after_stsap_and_dtsap():
    out, log = frame(mbus_frame(notification(1), 0x10))
    assert out == [notification(1)]
    assert nonzero(log) == {}


def test_segments_are_joined_in_order():
    data = b"".join(mbus_segments(LONG, 200))
    out, log = frame(data, chunked(data))
    assert out == [LONG]
    assert nonzero(log) == {}


def test_segment_out_of_order_loses_the_apdu_and_counts_sequence():
    segments = mbus_segments(LONG, 120)  # segments 0..4
    shuffled = [segments[0], segments[2], segments[1], segments[3], segments[4]]
    after = mbus_frame(notification(2), 0x10)
    out, log = frame(b"".join(shuffled) + after)
    assert out == [notification(2)]
    assert log.counts["sequence"] >= 1
    assert "checksum" not in nonzero(log)


def test_missing_segment_is_a_sequence_error():
    segments = mbus_segments(LONG, 120)
    out, log = frame(b"".join(segments[:2] + segments[3:]) + mbus_frame(notification(3), 0x10))
    assert out == [notification(3)]
    assert nonzero(log) == {"sequence": 1}


@pytest.mark.parametrize("joined_at", [1, 3, 4])
def test_the_segments_of_an_apdu_under_way_when_the_dongle_starts_are_no_error(joined_at):
    # A dongle mostly joins the line in the middle of a push: an Austrian meter's second
    # frame counted a sequence error at three starts in four (a public EVN capture).
    segments = mbus_segments(LONG, 120)  # segments 0..4
    after = b"".join(segments) + mbus_frame(notification(2), 0x10)
    out, log = frame(b"".join(segments[joined_at:]) + after)
    assert out == [LONG, notification(2)]
    assert nonzero(log) == {}
    out, log = frame(after + b"".join(segments[joined_at:]) + after)  # once running: lost
    assert out == [LONG, notification(2)] * 2
    assert nonzero(log) == {"sequence": 1}


def test_segment_numbers_wrap_after_fifteen():
    # EN 13757-3 numbers segments mod 16: frames of 60 bytes carry an APDU of 1.2 kB in
    # 20 of them, CI 00..0F, 00..02, 13. The 17th used to start a new message.
    apdu = LONG + bytes(700)
    segments = mbus_segments(apdu, 60)
    assert len(segments) > 17 and segments[16][6] == 0x00
    data = b"".join(segments) + mbus_frame(notification(4), 0x10)
    out, log = frame(data, chunked(data))
    assert out == [apdu, notification(4)]
    assert nonzero(log) == {}


@pytest.mark.parametrize("which", [0, 2, 4])
def test_a_corrupt_segment_loses_its_apdu_and_is_counted_once(which):
    # One checksum error for the bad frame, not a "sequence" error on top for the gap.
    segments = mbus_segments(LONG, 120)
    bad = bytearray(segments[which])
    bad[10] ^= 0x55
    segments[which] = bytes(bad)
    data = b"".join(segments) + mbus_frame(notification(3), 0x10)
    out, log = frame(data, chunked(data))
    assert out == [notification(3)]
    assert nonzero(log) == {"checksum": 1}


@pytest.mark.parametrize("cut", [6, 100])
def test_a_frame_cut_short_does_not_hold_back_the_frames_after_it(cut):
    # A meter reset leaves the head of a long frame: the frames after it used to wait until
    # the bytes its L claims had come, and a quirky small L (68 02 02 68) claims 264.
    log = ErrorLog()
    framer = stream.Framer(log)
    framer.feed(mbus_frame(notification(1), 0x10) + mbus_frame(notification(0) + bytes(200), 0x10)[:cut])
    assert bytes(framer.next()[1]) == notification(1)
    assert framer.next() is None
    for n in range(2, 6):
        framer.feed(mbus_frame(notification(n), 0x10))
        item = framer.next()
        assert item is not None and bytes(item[1]) == notification(n)
        assert framer.next() is None
    assert nonzero(log) == {"malformed": 1}


def test_a_frame_cut_short_where_its_length_lands_on_a_16_still_lets_the_next_frame_out():
    # The cut frame's L points into the next frame, at a byte that happens to be 16: its
    # head and stop byte "check", its checksum does not. It must not be taken for a whole
    # frame to skip: the good frame that starts inside it comes out (it did only when the
    # bytes trickled in), and the one fault counts once, the same however the bytes come.
    tail = b"".join(mbus_frame(notification(n), 0x10) for n in range(2, 22))
    long_frame = mbus_frame(notification(0) + bytes(200), 0x10)
    cut = next(c for c in range(10, 200) if (long_frame[:c] + tail)[len(long_frame) - 1] == 0x16)
    data = mbus_frame(notification(1), 0x10) + long_frame[:cut] + tail
    for chunks in ([data], chunked(data, sizes=[1]), chunked(data)):
        out, log = frame(data, chunks)
        assert out == [notification(n) for n in range(1, 22)]
        assert nonzero(log) == {"malformed": 1}


@pytest.mark.parametrize("idle", [b"\x00", b"\xff"])
@pytest.mark.parametrize("stop_where_l_ends", [False, True])
def test_a_frame_cut_short_between_idle_bytes_counts_the_same_however_the_bytes_come(idle, stop_where_l_ends):
    # Idle bytes between pushes put the framer to hunting: a frame cut there was counted
    # in one read and not in small ones, or (a 16 where its L ends) the other way round.
    tail = [mbus_frame(notification(n), 0x10) for n in range(2, 22)]
    long_frame = mbus_frame(notification(0) + bytes(200), 0x10)
    head = mbus_frame(notification(1), 0x10)
    cuts = [c for c in range(10, 200)
            if (idle.join([head, long_frame[:c]] + tail)[len(head) + len(idle) + len(long_frame) - 1] == 0x16)
            == stop_where_l_ends]
    data = idle.join([head, long_frame[:cuts[0]]] + tail)
    for chunks in ([data], chunked(data, sizes=[1]), chunked(data)):
        out, log = frame(data, chunks)
        assert out == [notification(n) for n in range(1, 22)]
        assert nonzero(log) == {"malformed": 1}


@pytest.mark.parametrize("between", [b"", b"\x00\x00"])
def test_every_frame_that_fails_only_its_checksum_is_counted_and_the_next_is_due_after_it(between):
    # 68 L L 68 and the 16 where L puts it: a real frame with damaged data.
    frames = [mbus_frame(notification(n), 0x10) for n in range(4)]
    bad = [bytearray(frames[n]) for n in (1, 2)]
    for b in bad:
        b[10] ^= 0x55
    data = frames[0] + between + bytes(bad[0]) + bytes(bad[1]) + frames[3]
    for chunks in ([data], chunked(data, sizes=[1])):
        out, log = frame(data, chunks)
        assert out == [notification(0), notification(3)]
        assert nonzero(log) == {"checksum": 2}


def test_a_frame_of_another_m_bus_application_is_counted_once_and_the_next_is_due_after_it():
    # CI 0x72 (EN 13757-3 variable data) on the same bus: not DLMS, but a whole frame.
    other = bytearray(mbus_frame(bytes(20), 0x10))
    other[6] = 0x72
    other[-2] = sum(other[4:-2]) & 0xFF
    data = mbus_frame(notification(1), 0x10) + bytes(other) * 2 + mbus_frame(notification(2), 0x10)
    out, log = frame(data)
    assert out == [notification(1), notification(2)]
    assert nonzero(log) == {"malformed": 2}


@pytest.mark.parametrize("damage", ["hit", "lost"])
@pytest.mark.parametrize("sizes", [None, [1], [7]])
def test_a_frame_whose_first_68_is_damaged_is_counted_once(damage, sizes):
    # A one-frame message whose first 68 was hit (or lost to a UART overrun) is bytes no
    # frame takes: the hunt passed over them, its push lost, uncounted (a helper's probe).
    # L L 68 and the length L gives, where the next frame was due, say what it was.
    frames = [mbus_frame(notification(n), 0x10) for n in range(3)]
    bad = (b"\x69" if damage == "hit" else b"") + frames[1][1:]
    data = frames[0] + bad + frames[2]
    out, log = frame(data, chunked(data, sizes=sizes) if sizes else None)
    assert out == [notification(0), notification(2)]
    assert nonzero(log) == {"malformed": 1} and "damaged start byte" in log.last_error


@pytest.mark.parametrize("between", [b"", b"\xe5", b"\x10\x7b\xfe\x79\x16", b"\x10\x7b\xfe\x79\x16\xe5"])
def test_damaged_starts_next_to_acks_short_frames_or_each_other_are_counted(between):
    # A second review: on a tap of both directions a master's REQ_UD2 (10 7B FE 79 16)
    # or an E5 ack beside the damaged frame put its length out, and a second damaged
    # frame right after the first went uncounted. A damaged frame ends with its 16.
    frames = [mbus_frame(notification(n) + b"\r\n", 0x10) for n in range(6)]  # (CR LF: fill, no ack)
    damaged = [b"\x69" + frames[1][1:], frames[2][1:], frames[3][:1] + frames[3][2:],  # 68 hit, 68 lost, L lost
               frames[4][:2] + b"\x13" + frames[4][3:]]  # an L hit
    data = b"".join(between + f for f in [frames[0]] + damaged + [frames[5]])
    for sizes in (None, [1], [7]):
        out, log = frame(data, chunked(data, sizes=sizes) if sizes else None)
        assert out == [notification(0) + b"\r\n", notification(5) + b"\r\n"]
        assert sum(log.counts.values()) == 4, (sizes, nonzero(log))


def test_a_long_stretch_of_noise_on_an_m_bus_line_is_no_damaged_dsmr_telegram():
    # A second review: once the lock lifted inside a gap, every byte that starts no frame
    # was taken for the line's framing's start, and "ABC1" counted as a DSMR header.
    frames = [mbus_frame(notification(n), 0x10) for n in range(2)]
    out, log = frame(frames[0] + b"ABC1" + b"0" * 2100 + frames[1])
    assert out == [notification(0), notification(1)] and nonzero(log) == {}


@pytest.mark.parametrize("chunks", ["whole", "bytes"])
def test_a_frame_of_another_application_between_segments_leaves_the_message_whole(chunks):
    # On a shared bus or a tap that hears both directions, another device's frame (a
    # heat meter's CI 0x72) may come between a message's segments: counted as before,
    # but it is no segment of that message, which went lost with it (a helper's probe).
    other = bytearray(mbus_frame(bytes(20), 0x10))
    other[6] = 0x72
    other[-2] = sum(other[4:-2]) & 0xFF
    segments = mbus_segments(LONG, 200)
    data = segments[0] + bytes(other) + b"".join(segments[1:])
    out, log = frame(data, [data] if chunks == "whole" else chunked(data, sizes=[1]))
    assert out == [LONG]
    assert nonzero(log) == {"malformed": 1} and "CI 0x72" in log.last_error
    # A segment that fails its checksum still loses its message, counted once.
    bad = bytearray(segments[1])
    bad[10] ^= 0x40
    out, log = frame(segments[0] + bytes(bad) + b"".join(segments[2:]) + mbus_frame(notification(1), 0x10))
    assert out == [notification(1)] and nonzero(log) == {"checksum": 1}


@pytest.mark.parametrize("chunks", ["whole", "bytes"])
def test_a_corrupt_frame_after_an_e5_acknowledgement_is_counted(chunks):
    # EN 13757-2's single character E5 acknowledges a frame on a tap that hears both
    # directions: it is part of the conversation, not noise, so the frame after it is
    # still expected and a corrupt one is counted (it used to pass as noise, uncounted).
    bad = bytearray(mbus_frame(notification(2), 0x10))
    bad[10] ^= 0x55
    data = mbus_frame(notification(1), 0x10) + b"\xe5" + bytes(bad) + b"\xe5" + mbus_frame(notification(3), 0x10)
    out, log = frame(data, [data] if chunks == "whole" else chunked(data, sizes=[1]))
    assert out == [notification(1), notification(3)]
    assert nonzero(log) == {"checksum": 1}


def test_new_first_segment_abandons_the_unfinished_apdu():
    first = mbus_segments(LONG, 200)
    out, log = frame(first[0] + b"".join(first))
    assert out == [LONG]
    assert nonzero(log) == {"sequence": 1}


def test_bad_checksum_is_counted_and_the_next_frame_comes_out():
    good = mbus_frame(notification(4), 0x10)
    bad = bytearray(good)
    bad[10] ^= 0x40
    out, log = frame(good + bytes(bad) + good)
    assert out == [notification(4), notification(4)]
    assert nonzero(log) == {"checksum": 1}


def test_non_dlms_ci_is_malformed():
    out, log = frame(mbus_frame(b"\x01\x02\x03", 0x72, saps=b"") + mbus_frame(notification(5), 0x10))
    assert out == [notification(5)]
    assert nonzero(log) == {"malformed": 1}


def test_length_quirk_of_the_t210d_built_by_the_encoder():
    apdu = b"\xdb" + bytes(range(251))  # body = C A CI STSAP DTSAP + 252 = 257 bytes
    quirky = mbus_frame(apdu, 0x00, quirk=True)
    assert quirky[1] == 0x01
    out, log = frame(quirky + mbus_frame(b"\x00\x01", 0x11))
    assert out == [apdu + b"\x00\x01"]
    assert nonzero(log) == {}


def test_length_quirk_still_needs_the_checksum():
    quirky = bytearray(mbus_frame(b"\xdb" + bytes(251), 0x00, quirk=True))
    quirky[-2] ^= 1
    out, log = frame(bytes(quirky) + mbus_frame(notification(6), 0x10))
    assert out == [notification(6)]
    assert nonzero(log) == {"checksum": 1}


def test_corpus_t210d_first_frame_parses_as_263_bytes():
    data = bytes.fromhex(load_corpus()["at-sagemcom-t210d-L01"]["hex"])
    n, start, stop, ci = mbus.frame(bytearray(data), 0, len(data), 1000)
    assert (n, stop - start, ci) == (263, 252, 0x00)
    assert (mbus.sequence(0x11), mbus.is_last(0x11), mbus.is_last(0x01)) == (1, True, False)


def test_frame_longer_than_the_buffer_is_overflow():
    out, log = frame(mbus_frame(bytes(200), 0x10) + mbus_frame(notification(7), 0x10), max_frame=100)
    assert out == [notification(7)]
    assert nonzero(log) == {"overflow": 1}


def test_reassembled_apdu_longer_than_its_buffer_is_overflow_once():
    data = b"".join(mbus_segments(LONG, 100)) + mbus_frame(notification(8), 0x10)
    out, log = frame(data, max_message=300)
    assert out == [notification(8)]
    assert nonzero(log) == {"overflow": 1}


def test_wrapping_segment_numbers_read_the_same_on_micropython():
    from test_parity import assert_same, micropython

    apdu = b"\x0f\x00\x00\x00\x01\x00\x09\x82\x04\xb0" + bytes(1200)  # one octet-string of 1200 bytes
    data = b"".join(mbus_segments(apdu, 60))
    jobs = [{"id": "wrap", "hex": data.hex(), "chunk": 7}]
    assert_same(jobs)
    assert len(micropython(jobs)[0]["telegrams"]) == 1


@pytest.mark.parametrize("sizes", [None, [1], [7]])
def test_a_push_cut_short_where_the_dongle_joined_does_not_cost_the_next_push(sizes):
    # A dongle that joins a line inside a segment's head hunts on to its ciphered APDU,
    # "DB 08" and the system title, and tries it as a bare APDU (no framing shown yet).
    # When the meter cut that push short, the next push's title recurs inside the length
    # it claims: a copy cut short, and the framer went on at that title, past the head of
    # the segment it is in, so the next push was lost too (read in small pieces, a frame
    # whole before the title could be made the framer hunt into it; a helper's fuzz). The
    # segment that starts before the title is where it goes on: one push lost, counted.
    def push(n):
        body = bytes([0x30]) + n.to_bytes(4, "big") + bytes((i * 7 + n) & 0x3F for i in range(235))
        return b"\xdb\x08SAGxxxxx\x81" + bytes([len(body)]) + body

    cut = mbus_segments(push(1), 120)[0][9:]  # from its DB on, the segments after it lost
    data = cut + b"".join(mbus_segments(push(2), 120)) + b"".join(mbus_segments(push(3), 120))
    out, log = frame(data, chunked(data, sizes=sizes) if sizes else None)
    assert out == [push(2), push(3)]
    assert nonzero(log) == {"malformed": 1}
