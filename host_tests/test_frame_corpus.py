"""Every real capture frames cleanly, however the bytes are cut into chunks.

Fixtures: the corpus entries with transport hdlc, mbus, raw-apdu, dsmr-ascii
(and the Luxembourg Smarty APDU, a bare general-glo-ciphering). Expected
payloads come from frame_support's reference splitter (whole capture,
length fields, bitwise CRC), not from the Framer.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decoder import stream
from decoder.errors import ErrorLog
from frame_support import chunked, nonzero, reference_hdlc, reference_mbus, run
from conftest import load_corpus

CORPUS = load_corpus()
FRAMED = ("hdlc", "mbus", "raw-apdu", "dsmr-ascii", "dsmr-encrypted")
IDS = sorted(i for i, e in CORPUS.items() if e["transport"] in FRAMED)


def capture(entry):
    return bytes.fromhex(entry["hex"]) if entry.get("hex") else entry["text"].encode()


def expected(entry):
    """The payloads a framer must deliver, computed without the Framer."""
    data = capture(entry)
    transport = entry["transport"]
    if transport == "hdlc":
        return [(stream.KIND_APDU, p) for p in reference_hdlc(data)]
    if transport == "mbus":
        return [(stream.KIND_APDU, p) for p in reference_mbus(data)]
    if transport == "dsmr-ascii":
        return [(stream.KIND_DSMR, data.rstrip(b"\r\n"))]
    return [(stream.KIND_APDU, data)]


def frame(data, chunks=None):
    log = ErrorLog()
    out = run(stream.Framer(log), chunks if chunks is not None else [data])
    return out, log


@pytest.mark.parametrize("entry_id", IDS)
def test_capture_frames_without_errors(entry_id):
    entry = CORPUS[entry_id]
    out, log = frame(capture(entry))
    assert out == expected(entry)
    assert nonzero(log) == {}


@pytest.mark.parametrize("entry_id", IDS)
def test_capture_split_at_every_offset_gives_the_same_payloads(entry_id):
    entry = CORPUS[entry_id]
    data = capture(entry)
    want = expected(entry)
    for cut in range(1, len(data)):
        out, log = frame(data, [data[:cut], data[cut:]])
        assert out == want, "cut at %d" % cut
        assert nonzero(log) == {}


@pytest.mark.parametrize("entry_id", IDS)
def test_capture_fed_one_byte_at_a_time(entry_id):
    entry = CORPUS[entry_id]
    data = capture(entry)
    out, log = frame(data, [data[i : i + 1] for i in range(len(data))])
    assert out == expected(entry)


@settings(max_examples=60, deadline=None)
@given(entry_id=st.sampled_from(IDS), seed=st.integers(0, 2**32 - 1))
def test_capture_in_random_chunks_gives_the_same_payloads(entry_id, seed):
    import random

    entry = CORPUS[entry_id]
    data = capture(entry)
    out, log = frame(data, chunked(data, random.Random(seed)))
    assert out == expected(entry)
    assert nonzero(log) == {}


def test_all_captures_back_to_back_in_one_stream():
    # Framing changes (HDLC -> M-Bus -> DSMR -> bare APDU) are found again. A meter sends
    # DSMR CRCs always or never, so a line that goes from a meter with CRCs to one without
    # loses that meter's first telegram, counted (a ")" flipped to "!" reads the same).
    data, want, lost, crc = b"", [], 0, False
    for entry_id in IDS:
        data += capture(CORPUS[entry_id])
        payloads = expected(CORPUS[entry_id])
        for kind, payload in payloads:
            if kind == stream.KIND_DSMR:
                if payload.endswith(b"!") and crc:
                    lost += 1
                    payloads = payloads[1:]
                crc = not payload.endswith(b"!")
        want += payloads
    assert lost == 1
    out, log = frame(data, chunked(data))
    assert out == want
    assert nonzero(log) == {"malformed": lost}


def test_segmented_am550_push_is_one_payload_starting_at_the_apdu():
    # Three frames A8A4, A8A4, A02D; frame 1 ends inside an OBIS code.
    out, _ = frame(capture(CORPUS["ch-am550-tasmota-3frames"]))
    assert len(out) == 1
    cut_obis = bytes.fromhex("0906010020070" + "0ff")  # 1-0:32.7.0, cut before its FF
    assert out[0][1][:1] == b"\x0f"
    assert cut_obis in out[0][1]
    assert cut_obis not in capture(CORPUS["ch-am550-tasmota-3frames"])


def test_t210d_length_quirk_frame_is_accepted_as_257_bytes():
    data = capture(CORPUS["at-sagemcom-t210d-L01"])
    assert data[:4] == bytes.fromhex("68010168")
    out, log = frame(data)
    assert len(out) == 1 and out[0][1][:2] == b"\xdb\x08"
    assert len(out[0][1]) == (257 - 5) + (0x0D - 5)
    assert nonzero(log) == {}


def test_three_apdus_in_one_hdlc_frame_keep_their_inner_llcs_for_the_apdu_layer():
    # Only the leading LLC is the link's; the APDU layer steps over the others.
    out, _ = frame(capture(CORPUS["ch-e450-tg-3apdus-one-frame"]))
    assert len(out) == 1
    assert out[0][1][:1] == b"\x0f" and out[0][1].count(b"\xe6\xe7\x00\x0f") == 2


def test_a_bare_xt211_apdu_ends_where_its_vendor_shape_ends():
    # Not A-XDR (class id, OBIS and attribute untagged inside each entry, see the
    # capture's notes), so no A-XDR walk finds its end; copies back to back, one byte
    # at a time, are still one payload each.
    data = capture(CORPUS["cz-sagemcom-xt211-compact"])
    out, log = frame(data * 3, [(data * 3)[i:i + 1] for i in range(3 * len(data))])
    assert out == [(stream.KIND_APDU, data)] * 3
    assert nonzero(log) == {}


def test_a_bare_body_that_is_neither_a_xdr_nor_the_xt211_shape_is_counted_and_the_next_copy_read():
    data = capture(CORPUS["cz-sagemcom-xt211-compact"])
    at = data.index(bytes.fromhex("0A35313030"))  # the first entry's value: 09 0A "5100005149"
    broken = data[:at - 1] + b"\x60" + data[at:]  # its tag now fits neither
    out, log = frame(broken + data)
    assert nonzero(log) == {"malformed": 1}
    assert out == [(stream.KIND_APDU, data)]


