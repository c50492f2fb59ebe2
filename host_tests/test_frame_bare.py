"""Bare APDU streams (no link layer: 0F, DB, DC, E0 on the wire), framed with
``apdu.measure``, and the lock that keeps stray APDU tags in a checked
stream from being taken for APDUs."""

from decoder import stream
from decoder.errors import DecodeError, ErrorLog, Incomplete
from frame_support import LLC, chunked, hdlc_frame, nonzero, notification, run


def frame(data, chunks=None, **kwargs):
    log = ErrorLog()
    out = run(stream.Framer(log, **kwargs), chunks if chunks is not None else [data])
    return [p for _, p in out], log


def ciphered(n):
    """general-glo-ciphering: DB, title length 8, title, length, SC 0x30, counter, bytes."""
    content = b"\x30" + n.to_bytes(4, "big") + bytes(range(40))
    return b"\xdb\x08" + b"XYZ" + bytes(5) + bytes([len(content)]) + content


def test_back_to_back_apdus_of_every_kind_come_out_one_by_one():
    apdus = [notification(1), ciphered(2), notification(3), ciphered(4)]
    data = b"".join(apdus)
    out, log = frame(data, chunked(data, sizes=[5]))
    assert out == apdus
    assert nonzero(log) == {}


def test_measure_can_be_supplied_by_the_caller():
    def fixed(buf, pos=0):
        # A stand-in: every "APDU" here is 4 bytes long.
        if buf[pos] != 0x0F:
            raise DecodeError("not an APDU")
        if len(buf) - pos < 4:
            raise Incomplete()
        return 4

    out, log = frame(b"\x0f\x01\x02\x03\x0f\x04\x05\x06", measure=fixed)
    assert out == [b"\x0f\x01\x02\x03", b"\x0f\x04\x05\x06"]


def test_stray_apdu_tags_between_hdlc_frames_are_not_apdus():
    # After a good HDLC frame the lock is on HDLC: noise with 0F/E0 in it is skipped.
    good = hdlc_frame(LLC + notification(1))
    noise = b"\x00\x0f\x00\xe0\x40\x00\x01\x00\x00\x81\xff" + bytes(20)
    out, log = frame(good + noise + good + noise + good)
    assert out == [notification(1)] * 3


def test_apdu_stream_after_an_hdlc_frame_is_found_in_sync():
    data = hdlc_frame(LLC + notification(1)) + notification(2) + notification(3)
    out, _ = frame(data)
    assert out == [notification(1), notification(2), notification(3)]
