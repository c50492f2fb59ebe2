"""The Decoder facade, end to end: meter bytes in, telegrams of OBIS readings out.

Every frame here is built by the independent encoder in decoder_support.py
(AESGCM from the ``cryptography`` package for the ciphering); the real
captures are in test_corpus.py.
"""

import json
import math
import os

import pytest

import decoder
import decoder_support as ds
from decoder_support import decode_all, plain_readings

KEY, AUTH = ds.SIL_KEY, ds.SIL_AUTH_KEY
TITLE = ds.SIL_TITLE
NOON = ds.cosem_datetime(2026, 11, 23, 12, 0, 0, deviation=-120)


def _scaled_sil(raw):
    """What the SiL push must read as with 0.1 V voltage and 0.01 A current."""
    out = {}
    for code, v in raw.items():
        c = int(code.split(":")[1].split(".")[0])
        if c in (32, 52, 72):
            out[code] = (round(v / 10, 1), "V")
        elif c in (31, 51, 71, 91):
            out[code] = (round(v / 100, 2), "A")
        elif c in (3, 4, 23, 24, 43, 44, 63, 64):
            out[code] = (v, "var")
        else:
            out[code] = (v, "W")
    return out


def _tagged_apdu(invoke_id=7, when=NOON, typed=False):
    body = ds.tagged_body(
        [
            ("1-0:1.8.0", ds.uint32(123456), (0, 30)),
            ("1-0:1.7.0", ds.uint32(1500), (0, 27)),
            ("1-0:32.7.0", ds.uint16(2337), (-1, 35)),
            ("1-0:31.7.0", ds.uint16(597), (-2, 33)),
            ("0-0:96.1.0", ds.octets(b"12345678"), None),
        ]
    )
    return ds.data_notification(body, invoke_id=invoke_id, when=when, typed=typed)


TAGGED = {
    "1-0:1.8.0": {"value": 123456, "unit": "Wh"},
    "1-0:1.7.0": {"value": 1500, "unit": "W"},
    "1-0:32.7.0": {"value": 233.7, "unit": "V"},
    "1-0:31.7.0": {"value": 5.97, "unit": "A"},
    "0-0:96.1.0": {"value": "12345678"},
}


# --- the SiL 5-second push: HDLC + GBT + general-glo-ciphering 0x30 + push-setup ---


def test_sil_push_decodes_to_the_24_readings_with_the_profile_scalers():
    frame, raw = ds.sil_push(seed=3, frame_counter=1001)
    telegrams, dec = decode_all(frame, key=KEY, auth_key=AUTH, profile="am550")
    assert len(telegrams) == 1 and dec.telegrams == 1
    t = telegrams[0]
    assert t.system_title == TITLE.hex()
    assert t.frame_counter == 1001
    assert t.tag_checked is True
    assert t.meter_time == "2026-11-23T21:05:08+01:00"  # deviation -60 is one hour ahead of UTC
    assert t.readings["0-0:96.1.1"] == ("71000000", None)
    for code, (value, unit) in _scaled_sil(raw).items():
        assert t.readings[code][1] == unit, code
        assert t.readings[code][0] == pytest.approx(value), code
    assert "0-0:25.9.0" not in t.readings  # the push-setup object is not a reading
    assert dec.errors.total() == 0


def test_keys_may_be_hex_text_or_bytes():
    frame, _ = ds.sil_push()
    a, _ = decode_all(frame, key=KEY.hex(), auth_key=AUTH.hex().upper(), profile="am550")
    b, _ = decode_all(frame, key=KEY, auth_key=AUTH, profile="am550")
    assert a[0].readings == b[0].readings


def test_without_the_auth_key_a_0x30_push_still_decrypts_but_says_the_tag_was_not_checked():
    frame, _ = ds.sil_push()
    telegrams, dec = decode_all(frame, key=KEY, profile="am550")
    assert len(telegrams) == 1
    assert telegrams[0].tag_checked is False
    assert dec.errors.total() == 0


def test_a_wrong_auth_key_yields_no_readings_and_one_authentication_error():
    frame, _ = ds.sil_push()
    telegrams, dec = decode_all(frame, key=KEY, auth_key=bytes(16), profile="am550")
    assert telegrams == []
    assert dec.errors.counts["authentication"] == 1
    assert "authentication failed" in dec.errors.last_error
    assert "GUEK" in dec.errors.last_error and "GAK" in dec.errors.last_error


def test_an_encrypted_push_without_any_key_is_counted_not_raised():
    frame, _ = ds.sil_push()
    telegrams, dec = decode_all(frame)
    assert telegrams == []
    assert dec.errors.counts["authentication"] == 1


@pytest.mark.parametrize("chunk", [1, 2, 7, 64, 1000])
def test_chunk_size_does_not_change_the_result(chunk):
    stream = b"".join(ds.sil_push(seed=s, frame_counter=s + 1)[0] for s in range(3))
    whole, _ = decode_all(stream, key=KEY, auth_key=AUTH, profile="am550")
    pieces, dec = decode_all(stream, chunk=chunk, key=KEY, auth_key=AUTH, profile="am550")
    assert [t.readings for t in pieces] == [t.readings for t in whole]
    assert [t.frame_counter for t in pieces] == [1, 2, 3]
    assert dec.telegrams == 3


def test_garbage_between_frames_is_skipped():
    one, _ = ds.sil_push(seed=1, frame_counter=11)
    two, _ = ds.sil_push(seed=2, frame_counter=12)
    telegrams, _ = decode_all(b"\x00\x13garbage" + one + b"\xff" * 40 + two, key=KEY, auth_key=AUTH)
    assert [t.frame_counter for t in telegrams] == [11, 12]


def test_a_corrupted_frame_is_counted_and_its_neighbours_still_decode():
    frames = [ds.sil_push(seed=s, frame_counter=s + 1)[0] for s in range(3)]
    bad = bytearray(frames[1])
    bad[40] ^= 0x01  # inside the first HDLC frame's information field: FCS mismatch
    telegrams, dec = decode_all(frames[0] + bytes(bad) + frames[2], key=KEY, auth_key=AUTH)
    assert [t.frame_counter for t in telegrams] == [1, 3]
    assert dec.errors.counts["checksum"] >= 1


def test_a_duplicated_gbt_block_drops_that_push_only():
    apdu = ds.cipher(_tagged_apdu(), KEY, TITLE, 5, AUTH)
    blocks = ds.gbt_blocks(apdu, 40)
    frames = [ds.hdlc_frame((ds.LLC if i == 0 else b"") + b) for i, b in enumerate(blocks)]
    broken = frames[0] + frames[1] + frames[1] + b"".join(frames[2:])
    good = b"".join(frames)
    telegrams, dec = decode_all(broken + good, key=KEY, auth_key=AUTH)
    assert len(telegrams) == 1
    assert dec.errors.counts["sequence"] >= 1


def _gbt_push_with_a_bad_frame(which, how):
    # A GBT push in HDLC frames with frame ``which`` corrupt or cut (3: the last frame),
    # then a good push with frame counter 6.
    def frames(invoke_id, counter):
        apdu = ds.cipher(_tagged_apdu(invoke_id=invoke_id), KEY, TITLE, counter, AUTH)
        return [ds.hdlc_frame((ds.LLC if i == 0 else b"") + b) for i, b in enumerate(ds.gbt_blocks(apdu, 40))]

    first = frames(7, 5)
    assert len(first) > 3
    which = which if which < 3 else len(first) - 1
    bad = bytearray(first[which])
    if how == "corrupt":
        bad[len(bad) // 2] ^= 0x55
    else:
        bad = bad[: len(bad) // 2]
    first[which] = bytes(bad)
    return b"".join(first + frames(8, 6))


@pytest.mark.parametrize("which", [0, 1, 3])
@pytest.mark.parametrize("how", ["corrupt", "cut"])
@pytest.mark.parametrize("chunk", [None, 1])
def test_a_bad_frame_inside_a_gbt_push_is_one_error_and_the_next_push_decodes(which, how, chunk):
    # The framer counts the bad frame; the gap it leaves in the block numbers (or, when it
    # carried the last block, the unfinished push a new block 1 abandons) is the same loss.
    stream = _gbt_push_with_a_bad_frame(which, how)
    telegrams, dec = decode_all(stream, chunk=chunk, key=KEY, auth_key=AUTH)
    assert [t.frame_counter for t in telegrams] == [6]
    assert dec.errors.total() == 1, dec.errors.counts


def test_a_bad_frame_inside_a_gbt_push_counts_the_same_on_micropython():
    from test_parity import assert_same

    jobs = [{"id": "%s/%d/%d" % (how, which, chunk), "hex": _gbt_push_with_a_bad_frame(which, how).hex(),
             "key": KEY.hex(), "auth_key": AUTH.hex(), "chunk": chunk}
            for which in (1, 3) for how in ("corrupt", "cut") for chunk in (0, 1)]
    assert_same(jobs)


def _gbt_pushes_spliced_by_a_line_gap(ciphered):
    # Four GBT pushes in HDLC frames. The line goes in the middle of push 5's block-3 frame
    # and comes back near the end of push 6's block-2 frame: push 6's block 3 is the number
    # push 5 waits for.
    pushes = []
    for counter in (4, 5, 6, 7):
        apdu = _tagged_apdu(invoke_id=counter, when=ds.cosem_datetime(2026, 11, 23, 12, 0, counter))
        if ciphered:
            apdu = ds.cipher(apdu, KEY, TITLE, counter, AUTH)
        pushes.append([ds.hdlc_frame((ds.LLC if i == 0 else b"") + b) for i, b in enumerate(ds.gbt_blocks(apdu, 30))])
    assert min(len(p) for p in pushes) > 3
    cut, resumed = pushes[1][2][: len(pushes[1][2]) // 2], pushes[2][1][-len(pushes[2][1]) // 3 :]
    return b"".join(pushes[0] + pushes[1][:2] + [cut, resumed] + pushes[2][2:] + pushes[3])


@pytest.mark.parametrize("ciphered", [False, True])
@pytest.mark.parametrize("chunk", [None, 1, 7])
def test_a_line_gap_across_gbt_pushes_is_one_error_and_never_one_spliced_push(ciphered, chunk):
    # The cut frame is counted; the block that follows the gap was taken as the rest of the
    # push, so push 5's first block and push 6's last ones were published as one telegram
    # (ciphered: refused by its tag, and counted again as a wrong key).
    kw = {"key": KEY, "auth_key": AUTH} if ciphered else {}
    telegrams, dec = decode_all(_gbt_pushes_spliced_by_a_line_gap(ciphered), chunk=chunk, **kw)
    assert [t.meter_time[17:19] for t in telegrams] == ["04", "07"]
    assert dec.errors.total() == 1, dec.errors.counts


def test_a_line_gap_across_gbt_pushes_counts_the_same_on_micropython():
    from test_parity import assert_same

    jobs = [{"id": "spliced/%s/%d" % (ciphered, chunk), "hex": _gbt_pushes_spliced_by_a_line_gap(ciphered).hex(),
             "key": KEY.hex() if ciphered else None, "auth_key": AUTH.hex() if ciphered else None, "chunk": chunk}
            for ciphered in (False, True) for chunk in (0, 7)]
    assert_same(jobs)


def _gbt_pushes_with_block_1_gone():
    # Three GBT pushes in HDLC frames; the middle one's first frame (block 1) is gone.
    pushes = []
    for counter in (5, 6, 7):
        apdu = ds.cipher(_tagged_apdu(invoke_id=counter), KEY, TITLE, counter, AUTH)
        pushes.append([ds.hdlc_frame((ds.LLC if i == 0 else b"") + b) for i, b in enumerate(ds.gbt_blocks(apdu, 40))])
    return b"".join(pushes[0] + pushes[1][1:] + pushes[2])


@pytest.mark.parametrize("chunk", [None, 1])
def test_a_gbt_push_whose_first_frame_vanished_is_counted_once(chunk):
    telegrams, dec = decode_all(_gbt_pushes_with_block_1_gone(), chunk=chunk, key=KEY, auth_key=AUTH)
    assert [t.frame_counter for t in telegrams] == [5, 7]
    assert dec.errors.counts["sequence"] == 1 and dec.errors.total() == 1


def test_a_gbt_push_whose_first_frame_vanished_counts_the_same_on_micropython():
    from test_parity import assert_same

    assert_same([{"id": "gone/%d" % chunk, "hex": _gbt_pushes_with_block_1_gone().hex(),
                  "key": KEY.hex(), "auth_key": AUTH.hex(), "chunk": chunk} for chunk in (0, 1)])


# --- framings, security modes, body styles -------------------------------------------


def test_plain_segmented_hdlc_with_a_tagged_body_takes_scaler_and_unit_from_the_frame():
    telegrams, _ = decode_all(ds.hdlc_segmented(_tagged_apdu(), max_info=30))
    assert len(telegrams) == 1
    t = telegrams[0]
    assert plain_readings(t) == TAGGED
    assert t.meter_time == "2026-11-23T12:00:00+02:00"
    assert t.system_title is None and t.frame_counter is None and t.tag_checked is None


def test_typed_header_date_time_09_0c_is_read_like_0c():
    telegrams, _ = decode_all(ds.hdlc_frame(ds.LLC + _tagged_apdu(typed=True)))
    assert telegrams[0].meter_time == "2026-11-23T12:00:00+02:00"


def test_mbus_segmented_encryption_only_push():
    apdu = ds.cipher(_tagged_apdu(), KEY, b"KFM\x00\x01\x02\x03\x04", 77, sc=0x20)
    telegrams, dec = decode_all(ds.mbus_segmented(apdu, max_data=50), key=KEY)
    assert dec.errors.total() == 0
    assert len(telegrams) == 1
    assert plain_readings(telegrams[0]) == TAGGED
    assert telegrams[0].frame_counter == 77
    assert telegrams[0].system_title == b"KFM\x00\x01\x02\x03\x04".hex()


def test_suite_id_0x21_is_encryption_only_too():
    apdu = ds.cipher(_tagged_apdu(), KEY, TITLE, 9, sc=0x21)
    telegrams, _ = decode_all(ds.hdlc_frame(ds.LLC + apdu), key=KEY)
    assert plain_readings(telegrams[0]) == TAGGED


def test_general_ded_ciphering_decodes_like_glo():
    apdu = ds.cipher(_tagged_apdu(), KEY, TITLE, 9, AUTH, tag=0xDC)
    telegrams, _ = decode_all(ds.hdlc_frame(ds.LLC + apdu), key=KEY, auth_key=AUTH)
    assert plain_readings(telegrams[0]) == TAGGED
    assert telegrams[0].tag_checked is True


def test_a_bare_apdu_stream_without_link_framing():
    stream = _tagged_apdu(invoke_id=1) + _tagged_apdu(invoke_id=2)
    telegrams, _ = decode_all(stream, chunk=5)
    assert len(telegrams) == 2
    assert all(plain_readings(t) == TAGGED for t in telegrams)


def test_several_apdus_in_one_information_field_all_decode():
    info = ds.LLC + _tagged_apdu(invoke_id=1) + _tagged_apdu(invoke_id=2) + _tagged_apdu(invoke_id=3)
    telegrams, _ = decode_all(ds.hdlc_frame(info))
    assert len(telegrams) == 3


def test_flat_tagged_structure_and_clock_fallback_for_meter_time():
    clock = ds.cosem_datetime(2025, 1, 2, 3, 4, 5, deviation=-60)
    body = ds.flat_tagged_body(
        [("0-0:1.0.0", ds.octets(clock), None), ("1-0:1.8.0", ds.uint32(42), (0, 30))]
    )
    telegrams, _ = decode_all(ds.hdlc_frame(ds.LLC + ds.data_notification(body)))
    t = telegrams[0]
    assert t.meter_time == "2025-01-02T03:04:05+01:00"
    assert t.readings["1-0:1.8.0"] == (42, "Wh")


def test_fully_untagged_values_use_the_named_sil_list():
    _, raw = ds.sil_info_1_body()
    values = [ds.octets(b"71000000")]
    for code in ds.SIL_INFO_1[1:]:
        c = int(code.split(":")[1].split(".")[0])
        values.append(ds.uint16(raw[code]) if c in (32, 52, 72, 31, 51, 71, 91) else ds.uint32(raw[code]))
    apdu = ds.data_notification(ds.structure(values), when=NOON)
    telegrams, _ = decode_all(ds.hdlc_frame(ds.LLC + apdu), lists=["sil-consumer-info-1"])
    t = telegrams[0]
    for code, (value, unit) in _scaled_sil(raw).items():
        assert t.readings[code][0] == pytest.approx(value) and t.readings[code][1] == unit


def test_dsmr_ascii_telegram_with_crc():
    text = ds.dsmr_telegram(
        ["0-0:1.0.0(231121150000W)", "1-0:1.8.1(001234.567*kWh)", "1-0:1.7.0(00.350*kW)"]
    )
    telegrams, dec = decode_all(b"\x00junk" + text, chunk=9)
    assert dec.errors.total() == 0
    t = telegrams[0]
    assert t.readings["1-0:1.8.1"] == (pytest.approx(1234.567), "kWh")
    assert t.meter_time is not None and t.meter_time.startswith("2023-11-21T15:00:00")


def test_a_dsmr_telegram_with_a_stray_non_ascii_byte_keeps_its_readings():
    # dsmr-reader's Fluvius test telegram: "/FLU5\253769484_A" written in Python, so byte
    # 0xAB where the meter sends a backslash and "253"; its CRC was made over that byte.
    # Found by a probe of public telegrams: the whole telegram was refused as not ASCII.
    body = (b"/FLU5\xab769484_A\r\n\r\n1-0:1.8.1(001234.567*kWh)\r\n"
            b"0-0:96.13.0(caf\xe9)\r\n!")
    text = body + b"%04X\r\n" % ds.crc16_arc(body)
    telegrams, dec = decode_all(text)
    assert dec.errors.total() == 0
    assert telegrams[0].readings["1-0:1.8.1"] == (pytest.approx(1234.567), "kWh")
    assert telegrams[0].readings["0-0:96.13.0"][0] == "caf?"


# A Polish Stoen Kaifa MA309M as it sends (amsreader-firmware test payload gh1067-1, with its
# header and "!D770" from issue 1067): a DSMR header, then a ciphered block (empty system
# title 00, length 82 02 8F, security 30, frame counter 0), then "!" and a CRC.
KAIFA_STOEN = bytes.fromhex(
    "2f4b464d354b414946412d4d455445520d0a0d0a0082028f3000000000944694607a78b91122c47b47b76f9e4b2cc2f4"
    "b9a5ac01a4c988958ae5763619293dbb34b5ba1b4fc133592ca4925b69de7b0588847962e248e7a6e0f0454ef0d700e4"
    "589c3ece459ab3efac119efc4ec28711e0266cb419dd910f4ac27ebb44d2dda402e1ba2bb297d49e708e6fb30bca7bd0"
    "5e66a5a9cccdb25cb1bdd6abb309481485e6bec60146fc2bee88a45a8523cfeadd2aa20c778d567703ce33a7df413f3f"
    "26d235e08124393f31d79bb0fd2af506c35ccc91b079956e4a7d1f8e350022c582efe7ee83a2c9d32b3caf0f783c1b71"
    "ad8faabcc8867dc7563815cc98a6af5018227320bc6430d874150242135ec50f993a4526fa9b7c9b9d66558dc96e566c"
    "7c38496f9ca81cb09513a9a581f70a1c1c08065a7e836af49026a3c92ae2bc273b0e5ec54854aac113a3b0b7f212f8b1"
    "39ba69a7332f18c2bfe55102691f887baf881b29d605f8ac98bb7c13e80b9a2e0c328245d73d4b13ffc9fa64d597d19c"
    "a5fcec57d6bcae3b51dc2e0150f07baa61c0f47dc509329dc575997b89381f1f7f8e86ba0176534aadd629287dce8a44"
    "4e000b618d7d6274d6325796aa59aa22ecf8dce66146c109b5812fc8574a91a99a01715e11c3dfe96acbb6855691d019"
    "583169620e0e97e28c3f2a0a29d5aef775f754468d7ed64c2a7ca29ba80618af81442c218fd334460d6dfce30e23e859"
    "3f04bdb5b392b879afaed4998e4b4b18aa292a28836e764e8237fd40f82591c472d91655d2ea0635e17a159a572d7c19"
    "9f7d5dfe7e3a8528aa5bb13bbabf5c411ea69e342d4ef9f9aed60cd59814773e29ab5bb49a26df8f7a968a438029d90b"
    "2e36a458ea40ec5fe05d5302066739c1a44c50581f121f6739453fe533bbcec969fa578d4a8663e15c4515f8d0d52685"
    "2223204c5afeee21443737300d0a"
)


def _stoen(block, crc=True):
    # The Stoen layout around ``block`` (frame counter, ciphertext, tag): the header, the
    # empty system title, the BER length, security 30, "!" and a CRC over the bytes sent.
    body = b"/KFM5KAIFA-METER\r\n\r\n\x00\x82" + (len(block) + 1).to_bytes(2, "big") + b"\x30" + block + b"!"
    return body + (b"%04X\r\n" % ds.crc16_arc(body) if crc else b"\r\n")


GOOD_KAIFA = ds.dsmr_telegram(["1-0:1.8.0(000336.420*kWh)"], ident="KFM5KAIFA-METER")


@pytest.mark.parametrize("chunk", [None, 1, 64])
def test_a_polish_stoen_telegram_is_one_error_that_says_what_it_is(chunk):
    # It read as a bare "DSMR CRC mismatch", which sends the owner to the wiring.
    telegrams, dec = decode_all(KAIFA_STOEN + GOOD_KAIFA, chunk=chunk)
    assert dec.errors.total() == 1 and dec.errors.counts["malformed"] == 1
    assert "encrypted block" in dec.errors.last_error and "Stoen" in dec.errors.last_error
    assert len(telegrams) == 1 and telegrams[0].readings["1-0:1.8.0"][0] == pytest.approx(336.42)


def test_a_stoen_telegrams_crc_is_x25_over_all_it_sends_low_byte_first():
    # Issue 1067's "!D770" is CRC-16/X.25 (HDLC's) over the header, the ciphered block and
    # "!" (0x70D7), its bytes written low first. Not DSMR's CRC-16/ARC (0x68FF), and not
    # over the plaintext: the decrypted telegram published beside it (amsreader-firmware
    # payload gh1067-2) ends with the same "!D770", which neither CRC of its text gives.
    end = KAIFA_STOEN.rindex(b"!") + 1
    crc = ds.crc16_x25(KAIFA_STOEN[:end])
    assert KAIFA_STOEN[end : end + 4] == b"%02X%02X" % (crc & 0xFF, crc >> 8)
    assert ds.crc16_arc(KAIFA_STOEN[:end]) != int(KAIFA_STOEN[end : end + 4], 16)


@pytest.mark.parametrize("inside", [b"", b"!\r\n", b"!\r\n/KFM5KAIFA-METER\r\n\r\n!", b"\r\n/ABC5x\r\n\r\n"])
@pytest.mark.parametrize("crc", [True, False])
def test_a_stoen_block_is_measured_by_its_length_whatever_its_ciphertext_holds(inside, crc):
    # Found by a review: a ciphertext holding "!" CR LF ended the telegram there (two
    # errors, neither naming the cause), and one whose CRC held published it empty.
    block = bytes(4) + bytes((i * 151 + 7) % 256 for i in range(300)) + inside + bytes(range(1, 13))
    telegrams, dec = decode_all(_stoen(block, crc) + GOOD_KAIFA, chunk=7)
    assert dec.errors.total() == 1 and "Stoen" in dec.errors.last_error, dec.errors.counts
    assert len(telegrams) == 1 and telegrams[0].readings


def test_a_nul_after_the_header_is_no_stoen_block():
    # Only 00, a BER length 81/82 and a security byte open one: a NUL line is passed over.
    body = b"/KFM5KAIFA-METER\r\n\r\n\x00\r\n1-0:1.8.0(000336.420*kWh)\r\n!"
    telegrams, dec = decode_all(body + b"%04X\r\n" % ds.crc16_arc(body))
    assert dec.errors.total() == 0 and telegrams[0].readings["1-0:1.8.0"][0] == pytest.approx(336.42)


def test_a_binary_telegram_whose_crc_holds_is_counted_not_published_empty():
    # No Stoen block, no text: it came out as a telegram without readings, no error counted.
    body = b"/KFM5KAIFA-METER\r\n\r\n" + bytes((i * 151 + 7) % 256 for i in range(600)).replace(b"!", b"\x80")
    body += b"!"
    text = body + b"%04X\r\n" % ds.crc16_arc(body)
    telegrams, dec = decode_all(text + GOOD_KAIFA)
    assert dec.errors.counts["malformed"] == 1 and dec.errors.total() == 1
    assert "binary data, no readings" in dec.errors.last_error
    assert len(telegrams) == 1 and telegrams[0].readings


def test_dsmr_inside_general_glo_ciphering():
    text = ds.dsmr_telegram(["1-0:1.8.0(000100.000*kWh)"], ident="Lux5\\2SMARTY")
    apdu = ds.cipher(text, KEY, b"SAG\x00\x00\x00\x00\x01", 3, AUTH)
    telegrams, _ = decode_all(ds.mbus_segmented(apdu, max_data=100), key=KEY, auth_key=AUTH)
    t = telegrams[0]
    assert t.readings["1-0:1.8.0"][0] == pytest.approx(100.0)
    assert t.frame_counter == 3 and t.tag_checked is True


# --- the facade's own contract ----------------------------------------------------------


@pytest.mark.parametrize("name,key", [("key", "abc"), ("key", "zz" * 16), ("auth_key", b"\x00" * 15)])
def test_a_bad_key_is_a_valueerror_naming_the_option(name, key):
    with pytest.raises(ValueError) as e:
        decoder.Decoder(**{name: key})
    assert name in str(e.value)


def test_telegram_json_is_the_cli_contract():
    telegrams, _ = decode_all(ds.hdlc_frame(ds.LLC + _tagged_apdu()))
    doc = json.loads(decoder.telegram_json(telegrams[0]))
    assert list(doc) == ["meter_time", "system_title", "frame_counter", "readings"]
    assert doc["readings"] == TAGGED
    assert "unit" not in doc["readings"]["0-0:96.1.0"]


def test_an_empty_feed_returns_nothing():
    dec = decoder.Decoder()
    assert dec.feed(b"") == [] and dec.telegrams == 0


@pytest.mark.parametrize("kw,word", [({"profile": "no-such"}, "profile"), ({"lists": ["no-such"]}, "lists")])
def test_unknown_profile_or_list_names_fail_at_construction_not_in_feed(kw, word):
    with pytest.raises(ValueError) as e:
        decoder.Decoder(**kw)
    assert word in str(e.value)


def test_one_chunk_much_longer_than_the_framer_buffer_loses_nothing():
    stream = b"".join(ds.sil_push(seed=s, frame_counter=s + 1)[0] for s in range(30))
    assert len(stream) > 10 * 2050  # stream.MAX_FRAME
    telegrams, dec = decode_all(stream, key=KEY, auth_key=AUTH)
    assert [t.frame_counter for t in telegrams] == list(range(1, 31))
    assert dec.errors.total() == 0


def test_json_floats_are_short_decimals_on_a_double_build():
    assert decoder.to_json(235.7) == "235.7"
    assert decoder.to_json(0.941) == "0.941"
    assert decoder.to_json(52185.7825309) == "52185.7825309"


@pytest.mark.parametrize("value", [1.7976931348623157e308, -1.7976931348623157e308, 1.79769313486231e308])
def test_json_floats_near_the_largest_double_stay_finite(value):
    # 15 digits of the largest double, 1.79769313486232e+308, read back as Infinity (an
    # A-XDR probe: a float64 register 7FEFFFFFFFFFFFFF). Nine digits there: finite.
    read = json.loads(decoder.to_json(value))
    assert math.isfinite(read) and abs(read - value) <= abs(value) * 1e-8


def test_json_floats_on_a_single_precision_build_are_the_shortest_that_read_back(monkeypatch):
    # ESP32 builds compute in float32 (MICROPY_FLOAT_IMPL_FLOAT). Emulated here: every
    # value is a float32 and float() of a text rounds to float32, as on the device.
    import struct

    def f32(x):
        return struct.unpack(">f", struct.pack(">f", x))[0]

    monkeypatch.setattr(decoder, "_SINGLE", True)
    monkeypatch.setattr(decoder, "_reads_back", lambda text, number: f32(float(text)) == number)
    for held, text in ((235.7, "235.7"), (0.941, "0.941"), (12345.678, "12345.678"), (1.0, "1"),
                       (14358.023, "14358.023"), (0.066, "0.066")):
        assert decoder.to_json(f32(held)) == text


# --- general-ciphering (0xDD, IEC 62056-5-3) ---------------------------------------------


def _general_push(key_info=b"\x00", frame_counter=77):
    body, raw = ds.sil_info_1_body(seed=5)
    plain = ds.data_notification(body, invoke_id=frame_counter)
    glo = ds.cipher(plain, ds.SIL_KEY, ds.SIL_TITLE, frame_counter, ds.SIL_AUTH_KEY, sc=0x30)
    return ds.general_ciphering(glo, key_info=key_info), glo, raw


@pytest.mark.parametrize("key_info", [b"\x00", b"\x01\x00\x00"], ids=["no-key-info", "identified-key"])
@pytest.mark.parametrize("framing", ["hdlc", "bare"])
@pytest.mark.parametrize("chunk", [None, 1])
def test_general_ciphering_reads_as_the_glo_ciphered_push_it_wraps(key_info, framing, chunk):
    general, glo, raw = _general_push(key_info)
    wrap = (lambda a: ds.hdlc_frame(ds.LLC + a)) if framing == "hdlc" else (lambda a: a)
    keys = dict(key=ds.SIL_KEY, auth_key=ds.SIL_AUTH_KEY, profile="am550")
    got, dec = decode_all(wrap(general) * 2, chunk, **keys)
    want, _ = decode_all(wrap(glo), None, **keys)
    assert len(got) == 2 and dec.errors.total() == 0, dec.errors.counts
    assert plain_readings(got[0]) == plain_readings(want[0])
    assert got[0].system_title == ds.SIL_TITLE.hex()  # the originator's: the GCM IV's
    assert got[0].frame_counter == 77 and got[0].tag_checked is True


def test_general_ciphering_with_a_wrapped_key_is_refused_by_name_and_the_next_push_reads():
    wrapped, _, _ = _general_push(key_info=b"\x01\x01\x00\x18" + bytes(24))
    good, _, _ = _general_push()
    got, dec = decode_all(ds.hdlc_frame(ds.LLC + wrapped) + ds.hdlc_frame(ds.LLC + good),
                          key=ds.SIL_KEY, auth_key=ds.SIL_AUTH_KEY)
    assert len(got) == 1
    assert dec.errors.counts["malformed"] == 1
    assert "wrapped or agreed key" in dec.errors.last_error


def test_general_ciphering_with_a_wrong_key_is_an_authentication_error():
    general, _, _ = _general_push()
    got, dec = decode_all(ds.hdlc_frame(ds.LLC + general), key=ds.SIL_KEY, auth_key=bytes(16))
    assert got == [] and dec.errors.counts["authentication"] == 1


# Made by gurux_dlms 1.0.203 (GXDLMSChippering.encryptAesGcm, security suite 1, authenticated
# encryption; its ciphered content in a general-ciphering header written by hand: transaction-id
# 0000000000001234, originator "LGZgtest", recipient 4D4D4D0000000001, no date-time or
# other-information, an identified key). Gurux authenticates SC || AK || the header fields at
# suites 1 and 2 (getAuthenticatedData), as IEC 62056-5-3's AAD table has it for general-ciphering.
# Read as SC || AK alone, the tag failed: "authentication failed" for a push Gurux made right.
GURUX_SUITE_1 = bytes.fromhex(
    "dd080000000000001234084c475a6774657374084d4d4d0000000001000001000026310000123489b0955cae6b"
    "2e457648e98eedeb30c890d801258732ed9e5cf5b9d1ee67aa8fae")
GURUX_KEY = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
GURUX_AUTH = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")


def test_general_ciphering_at_suite_1_as_gurux_makes_it_reads():
    got, dec = decode_all(ds.hdlc_frame(ds.LLC + GURUX_SUITE_1) * 2, key=GURUX_KEY, auth_key=GURUX_AUTH)
    assert dec.errors.total() == 0, dec.errors.last_error
    assert len(got) == 2 and plain_readings(got[1]) == {"1-0:1.8.0": {"value": 12345, "unit": "Wh"}}
    assert got[0].tag_checked is True and got[0].frame_counter == 0x1234
    assert got[0].system_title == b"LGZgtest".hex()


# The same at security 0x11, authenticated only (gurux_dlms 1.0.203, the same header). Gurux
# leaves the header out of an authenticated-only tag (getAuthenticatedData adds it with
# encryption only), where the Green Book's table, as quoted, puts it in. Taking both forms
# would make A ambiguous (test_gcm: a header moved into the plaintext): a known limit.
GURUX_SUITE_1_AUTH_ONLY = bytes.fromhex(
    "dd080000000000001234084c475a6774657374084d4d4d00000000010000002e11000012340f00000003000101"
    "020309060100010800ff060000303902020f00161e7b26df546f2238aa00feb507")


def test_general_ciphering_at_suite_1_authenticated_only_as_gurux_makes_it_is_refused():
    got, dec = decode_all(ds.hdlc_frame(ds.LLC + GURUX_SUITE_1_AUTH_ONLY), key=GURUX_KEY, auth_key=GURUX_AUTH)
    assert got == [] and dec.errors.counts["authentication"] == 1


@pytest.mark.parametrize("sc", [0x31, 0x11], ids=["auth-enc", "auth-only"])
@pytest.mark.parametrize("chunk", [None, 1])
def test_general_ciphering_at_suite_1_authenticates_its_header(sc, chunk):
    # Every field the AAD takes, a date-time and other-information among them.
    body, raw = ds.sil_info_1_body(seed=3)
    plain = ds.data_notification(body, invoke_id=5)
    fields = dict(transaction_id=bytes(range(1, 9)), recipient=b"MMM\x00\x00\x00\x00\x01",
                  date_time=ds.cosem_datetime(2026, 11, 28, 12, 0, 0), other=b"\x07", key_info=b"\x01\x00\x00")
    general = ds.general_suite1(plain, KEY, TITLE, 91, AUTH, sc=sc, **fields)
    want, _ = decode_all(ds.hdlc_frame(ds.LLC + ds.cipher(plain, KEY, TITLE, 91, AUTH)), key=KEY, auth_key=AUTH,
                         profile="am550")
    got, dec = decode_all(ds.hdlc_frame(ds.LLC + general), chunk, key=KEY, auth_key=AUTH, profile="am550")
    assert dec.errors.total() == 0, dec.errors.last_error
    assert plain_readings(got[0]) == plain_readings(want[0]) and got[0].tag_checked is True
    # A header field changed on the way (the recipient's title): the tag says so.
    forged = general.replace(b"MMM\x00\x00\x00\x00\x01", b"MMM\x00\x00\x00\x00\x02")
    got, dec = decode_all(ds.hdlc_frame(ds.LLC + forged), chunk, key=KEY, auth_key=AUTH, profile="am550")
    assert got == [] and dec.errors.counts["authentication"] == 1


@pytest.mark.parametrize("clock,meter_time", [
    ("0-0:1.0.0()", None), ("0-0:1.0.0(garbage)", None), ("0-0:1.0.0(00000000)", None),
    ("0-0:1.0.0(231121150000W)", "2023-11-21T15:00:00+01:00"), ("0-0:1.0.0(20240111 09:35:00)", "2024-01-11T09:35:00"),
])
def test_meter_time_is_iso_8601_or_none_never_a_clock_as_sent(clock, meter_time):
    # The clock reading keeps what the meter sent; meter_time only takes a date or time.
    from frame_support import dsmr_telegram

    telegrams, _ = decode_all(dsmr_telegram(["1-3:0.2.8(50)", clock, "1-0:1.7.0(01.500*kW)"]))
    assert telegrams[0].meter_time == meter_time


def test_a_dlms_clock_that_is_no_date_time_gives_no_meter_time():
    body = ds.tagged_body([("0-0:1.0.0", ds.octets(b"\x07\xe8\x13\x01"), None)])
    telegrams, _ = decode_all(ds.hdlc_frame(ds.LLC + ds.data_notification(body)))
    assert telegrams[0].readings["0-0:1.0.0"][0] == "07e81301"
    assert telegrams[0].meter_time is None


@pytest.mark.parametrize("header,meter_time", [
    (bytes(12), "2025-01-02T03:04:05+01:00"),  # all zeros: a clock never set, no date-time
    (ds.cosem_datetime(0xFFFF, 0xFF, 0xFF, 10, 0, 0), "2025-01-02T03:04:05+01:00"),
    (ds.cosem_datetime(2024, 3, 15, 0xFF, 0xFF, 0xFF), "2025-01-02T03:04:05+01:00"),
    (ds.cosem_datetime(2024, 3, 15, 10, 0, 0, deviation=-60), "2024-03-15T10:00:00+01:00"),
    # A clock never set (Kamstrup's example push: 2000-01-01 22:33, status "invalid").
    (ds.cosem_datetime(2000, 1, 1, 22, 33, 0, status=0x01), "2025-01-02T03:04:05+01:00"),
    (ds.cosem_datetime(1970, 1, 1, 0, 0, 5), "2025-01-02T03:04:05+01:00"),
])
def test_the_header_time_wins_only_when_it_tells_date_and_time(header, meter_time):
    # A header with only a time or only a date, or twelve zero bytes, read as meter_time
    # "10:00:00", "2024-03-15" or "00:00:00" beside a body clock that tells both.
    clock = ds.cosem_datetime(2025, 1, 2, 3, 4, 5, deviation=-60)
    body = ds.flat_tagged_body([("0-0:1.0.0", ds.octets(clock), None), ("1-0:1.8.0", ds.uint32(42), (0, 30))])
    telegrams, _ = decode_all(ds.hdlc_frame(ds.LLC + ds.data_notification(body, when=header)))
    assert telegrams[0].meter_time == meter_time


@pytest.mark.parametrize("profile", ["auto", "am550", "generic", "e450"])
def test_a_float_register_without_a_scaler_is_the_quantity_it_holds(profile):
    # A profile's exponent says how a meter's integers count (0.1 V): applied to a float,
    # 230.1 read as 23.01 V under most profiles (found by a black-box test of the CLI).
    body = ds.tagged_body([("1-0:32.7.0", ds.float32(230.1), None), ("1-0:31.7.0", ds.float64(1.25), None)])
    telegrams, _ = decode_all(ds.hdlc_frame(ds.LLC + ds.data_notification(body)), profile=profile)
    voltage, current = telegrams[0].readings["1-0:32.7.0"], telegrams[0].readings["1-0:31.7.0"]
    assert (round(voltage[0], 4), voltage[1]) == (230.1, "V") and current == (1.25, "A")


def _three_styles(values):
    # The same (OBIS, encoded value) pushed as a tagged body, as a push-setup body (class 3
    # registers, no scaler_unit captured) and as values only, named by a list of the user's.
    tagged = ds.tagged_body([(code, value, None) for code, value in values])
    pushed = ds.push_setup_body([(3, code, value) for code, value in values], with_name=False)
    bare = ds.structure([value for _, value in values])
    return {"tagged": tagged, "push-setup": pushed, "values only": bare}


@pytest.mark.parametrize("style", ["tagged", "push-setup", "values only"])
def test_every_body_style_reads_a_float_without_a_scaler_as_the_quantity_it_holds(style, user_lists):
    # The push-setup and values-only paths applied the profile's exponents to floats
    # (231.5 V read as 23.15 V, 49.98 Hz as 0.4998 Hz); found by a standards probe.
    values = [("1-0:32.7.0", ds.float32(231.5)), ("1-0:31.7.0", ds.float64(1.25)),
              ("1-0:14.7.0", ds.float32(49.98))]
    lists = ["float-test generic " + " ".join(code for code, _ in values)]
    body = _three_styles(values)[style]
    telegrams, _ = decode_all(ds.hdlc_frame(ds.LLC + ds.data_notification(body)), profile="e450",
                              lists=lists)
    readings = telegrams[0].readings
    assert readings["1-0:32.7.0"] == (231.5, "V") and readings["1-0:31.7.0"] == (1.25, "A")
    assert (round(readings["1-0:14.7.0"][0], 3), readings["1-0:14.7.0"][1]) == (49.98, "Hz")


@pytest.mark.parametrize("style", ["tagged", "push-setup", "values only"])
def test_every_body_style_reads_hundredths_of_a_volt_under_a_whole_volt_profile(style, user_lists):
    # Kamstrup's whole volts, where some Omnipowers send 0.01 V: the guess by size was in
    # the tagged path only (22199 V from the other two).
    values = [("1-0:32.7.0", ds.uint16(22199)), ("1-0:52.7.0", ds.uint16(230))]
    lists = ["volts-test kamstrup 1-0:32.7.0 1-0:52.7.0"]
    body = _three_styles(values)[style]
    telegrams, _ = decode_all(ds.hdlc_frame(ds.LLC + ds.data_notification(body)), profile="kamstrup",
                              lists=lists)
    assert telegrams[0].readings["1-0:32.7.0"] == (221.99, "V")
    assert telegrams[0].readings["1-0:52.7.0"] == (230, "V")


def test_a_push_setup_scaler_the_meter_captures_is_taken_as_sent_also_for_a_float():
    # Blue Book 4.3.2: value x 10^scaler. Only the profile's guess leaves a float alone.
    voltage = ("1-0:32.7.0", ds.float32(2315.0))
    body = ds.structure([
        ds.array([ds.structure([ds.uint16(3), ds.octets(ds.obis("1-0:32.7.0")), ds.int8(a), ds.uint16(0)])
                  for a in (2, 3)]),
        voltage[1], ds.structure([ds.int8(-1), ds.enum(35)])])
    telegrams, _ = decode_all(ds.hdlc_frame(ds.LLC + ds.data_notification(body)), profile="e450")
    assert telegrams[0].readings["1-0:32.7.0"] == (231.5, "V")


def test_a_clock_never_set_is_no_meter_time_but_stays_the_clock_reading():
    never = ds.cosem_datetime(2000, 1, 1, 0, 12, 0)
    body = ds.flat_tagged_body([("0-0:1.0.0", ds.octets(never), None), ("1-0:1.8.0", ds.uint32(42), (0, 30))])
    telegrams, _ = decode_all(ds.hdlc_frame(ds.LLC + ds.data_notification(body, when=never)))
    assert telegrams[0].meter_time is None
    assert telegrams[0].readings["0-0:1.0.0"][0] == "2000-01-01T00:12:00"


def test_a_header_with_only_a_time_is_the_meter_time_when_the_body_has_no_clock():
    header = ds.cosem_datetime(0xFFFF, 0xFF, 0xFF, 10, 0, 0)
    body = ds.flat_tagged_body([("1-0:1.8.0", ds.uint32(42), (0, 30))])
    telegrams, _ = decode_all(ds.hdlc_frame(ds.LLC + ds.data_notification(body, when=header)))
    assert telegrams[0].meter_time == "10:00:00"


def _unnamed_values_with_a_clock():
    clock = ds.cosem_datetime(2024, 3, 1, 12, 0, 0, deviation=-60)
    body = bytes([0x02, 0x05]) + ds.octets(clock) + b"".join(ds.uint32(n) for n in (1, 2, 3, 4))
    return ds.hdlc_frame(ds.LLC + ds.data_notification(body))


def test_values_no_list_names_keep_their_date_time_as_the_clock_and_the_meter_time():
    # Five values fit no list: they stay "#n", but a date-time among them is the clock, as
    # a tagged body's unlabelled one is, and without a header time it is the meter time.
    telegrams, dec = decode_all(_unnamed_values_with_a_clock())
    assert dec.errors.total() == 0
    assert telegrams[0].meter_time == "2024-03-01T12:00:00+01:00"
    assert plain_readings(telegrams[0]) == {
        "0-0:1.0.0": {"value": "2024-03-01T12:00:00+01:00"},
        "#2": {"value": 1}, "#3": {"value": 2}, "#4": {"value": 3}, "#5": {"value": 4}}


def test_status_attributes_and_header_times_read_the_same_on_micropython():
    from test_parity import assert_same

    clock = ds.cosem_datetime(2025, 1, 2, 3, 4, 5, deviation=-60)
    body = ds.flat_tagged_body([("0-0:1.0.0", ds.octets(clock), None), ("1-0:1.8.0", ds.uint32(42), (0, 30))])
    jobs = [{"id": "header/%d" % i, "hex": ds.hdlc_frame(ds.LLC + ds.data_notification(body, when=h)).hex()}
            for i, h in enumerate((bytes(12), ds.cosem_datetime(0xFFFF, 0xFF, 0xFF, 10, 0, 0)))]
    import axdr_support as enc

    status = enc.push_setup_body([(4, "1-0:32.7.0", 2), (4, "1-0:32.7.0", 4)], [("uint16", 2301), ("uint8", 3)])
    jobs.append({"id": "status", "hex": ds.hdlc_frame(ds.LLC + ds.data_notification(status)).hex()})
    jobs.append({"id": "unnamed-with-clock", "hex": _unnamed_values_with_a_clock().hex()})
    assert_same(jobs)


# --- a ciphered DSMR telegram (Luxembourg Smarty) without the authentication key ---------

LUX_KEY, LUX_AUTH = bytes(range(16)), bytes.fromhex("00112233445566778899AABBCCDDEEFF")
LUX_LINES = ["1-3:0.2.8(42)", "1-0:1.8.0(000273.764*kWh)", "1-0:2.8.0(000000.025*kWh)"]


def _smarty(flip_digit=False, line_end=True):
    # The Smarty P1 line: general-glo-ciphering of the telegram text, no link layer, the tag
    # over the spec's fixed authentication key. ``flip_digit``: one bit of the ciphertext
    # flipped, as a line error does, where it decrypts "273.764" to "373.764" (CTR keeps
    # places).
    from frame_support import dsmr_telegram

    plain = dsmr_telegram(LUX_LINES, header="/Lux5\\253663629_D")
    if not line_end:
        plain = plain.rstrip(b"\r\n")
    sealed = bytearray(ds.cipher(plain, LUX_KEY, b"SAGgp\x01\x02\x03", 7, auth_key=LUX_AUTH))
    if flip_digit:
        start = len(sealed) - 12 - len(plain)  # the ciphertext ends in the 12-byte tag
        sealed[start + plain.index(b"273.764")] ^= 0x01
    return bytes(sealed)


def test_without_the_authentication_key_a_smarty_telegrams_own_crc_is_checked():
    # No tag can be checked then, and a bit error decrypted to another digit (973.764 kWh
    # for 273.764) was published as read (found by a sweep of dsmr_parser's tests).
    good = _smarty()
    telegrams, dec = decode_all(good + _smarty(flip_digit=True) + good, key=LUX_KEY.hex())
    assert [plain_readings(t)["1-0:1.8.0"] for t in telegrams] == [{"value": 273.764, "unit": "kWh"}] * 2
    assert dict((k, n) for k, n in dec.errors.counts.items() if n) == {"checksum": 1}
    assert "auth_key" in dec.errors.last_error


def test_with_the_authentication_key_the_tag_vouches_for_the_text():
    telegrams, dec = decode_all(_smarty() + _smarty(flip_digit=True), key=LUX_KEY.hex(), auth_key=LUX_AUTH.hex())
    assert len(telegrams) == 1 and telegrams[0].tag_checked
    assert dict((k, n) for k, n in dec.errors.counts.items() if n) == {"authentication": 1}


@pytest.mark.parametrize("line_end", [True, False])
def test_a_smarty_telegram_ending_on_its_crc_has_it_checked_all_the_same(line_end):
    # Decrypted texts without CR LF after the CRC exist; the end of the plaintext is the end
    # of the CRC. Once the framer waited there for a line end, this check was skipped.
    good = _smarty(line_end=line_end)
    telegrams, dec = decode_all(good + _smarty(flip_digit=True, line_end=line_end) + good, key=LUX_KEY.hex())
    assert [plain_readings(t)["1-0:1.8.0"] for t in telegrams] == [{"value": 273.764, "unit": "kWh"}] * 2
    assert dict((k, n) for k, n in dec.errors.counts.items() if n) == {"checksum": 1}


def _long_smarty(counter):
    # A Smarty telegram carrying a long text message (a 1024-character 0-0:96.13.0, 2048
    # hex digits): ciphered, more than the 2 kB the framer holds of a bare APDU (README,
    # Known limits). The message stays in every telegram until the utility clears it.
    from frame_support import dsmr_telegram

    plain = dsmr_telegram(LUX_LINES + ["0-0:96.13.0(%s)" % ("41" * 1024)], header="/Lux5\\253663629_D")
    return ds.cipher(plain, LUX_KEY, b"SAGgp\x01\x02\x03", counter, auth_key=LUX_AUTH)


@pytest.mark.parametrize("chunk", [None, 7, 64])
@pytest.mark.parametrize("pattern", ["LLL", "sLLLs", "sLsLs"])
def test_every_smarty_telegram_too_long_for_the_buffer_is_counted(pattern, chunk):
    # As a DSMR telegram too long is (stream.Framer._wait): a meter sending a long message
    # loses every telegram, and only the first was counted; the dongle then looked idle.
    data = b"".join(_long_smarty(i + 1) if c == "L" else
                    ds.cipher(_smarty_plain(), LUX_KEY, b"SAGgp\x01\x02\x03", i + 1, auth_key=LUX_AUTH)
                    for i, c in enumerate(pattern))
    telegrams, dec = decode_all(data, chunk, key=LUX_KEY.hex(), auth_key=LUX_AUTH.hex())
    assert len(telegrams) == pattern.count("s")
    assert dict((k, n) for k, n in dec.errors.counts.items() if n) == {"overflow": pattern.count("L")}


def _smarty_plain():
    from frame_support import dsmr_telegram

    return dsmr_telegram(LUX_LINES, header="/Lux5\\253663629_D")


def _after_smarty(what):
    # What a line may carry after a Smarty copy: a DSMR meter's plaintext telegram, an HDLC
    # push, or ciphered copies under another system title (another meter on the dongle).
    from frame_support import dsmr_telegram

    if what == "dsmr":
        return dsmr_telegram(["1-0:1.8.0(000273.764*kWh)"])
    if what == "hdlc":
        return ds.hdlc_frame(ds.LLC + ds.data_notification(ds.sil_info_1_body(seed=1)[0]))
    return ds.cipher(_smarty_plain(), LUX_KEY, b"SAGgp\x09\x09\x09", 7, auth_key=LUX_AUTH)


@pytest.mark.parametrize("chunk", [None, 1, 7])
@pytest.mark.parametrize("what", ["dsmr", "hdlc", "another-title"])
def test_the_frame_right_after_a_smarty_copy_too_long_for_the_buffer_is_read(what, chunk):
    # The copy's bytes are passed over up to its stated end, no further: a line that changes
    # there (the dongle moved to another meter) lost its first frame in the bytes after it.
    data = _long_smarty(1) + _after_smarty(what) * 3
    telegrams, dec = decode_all(data, chunk, key=LUX_KEY.hex(), auth_key=LUX_AUTH.hex())
    assert len(telegrams) == 3
    assert dec.errors.counts["overflow"] == 1


@pytest.mark.parametrize("chunk", [None, 1, 7])
@pytest.mark.parametrize("what", ["dsmr", "hdlc", "another-title"])
def test_a_smarty_copy_whose_length_byte_is_damaged_holds_nothing_back(what, chunk):
    # 72 read as 82: the copy states the next two bytes (SC 30, counter 00) as its length,
    # 12,288 bytes, no Smarty telegram's (a DSMR telegram holds 4 kB at most). When it is the
    # last copy before the line changes, the frames after it were passed over for 12 kB.
    copies = [ds.cipher(_smarty_plain(), LUX_KEY, b"SAGgp\x01\x02\x03", i, auth_key=LUX_AUTH) for i in (1, 2, 3)]
    assert copies[2][10] == 0x72
    damaged = copies[2][:10] + b"\x82" + copies[2][11:]
    data = copies[0] + copies[1] + damaged + _after_smarty(what) * 3
    telegrams, dec = decode_all(data, chunk, key=LUX_KEY.hex(), auth_key=LUX_AUTH.hex())
    assert len(telegrams) == 2 + 3


def _another_meter_then_long_smarty_copies():
    # The dongle moved from one Smarty (title 09 09 09) to another (01 02 03) whose telegrams
    # carry a long text message, and short ones between them: the long copies' title is not
    # the one the last whole copy taught the framer.
    short = [ds.cipher(_smarty_plain(), LUX_KEY, b"SAGgp\x01\x02\x03", n, auth_key=LUX_AUTH) for n in (3, 5)]
    return _after_smarty("another-title") + _long_smarty(2) + short[0] + _long_smarty(4) + short[1]


@pytest.mark.parametrize("chunk", [None, 7, 64])
def test_long_smarty_copies_under_a_title_new_to_the_line_are_each_counted_and_passed_over(chunk):
    # They were hunted through, as every long copy was before pass 38: the first one's
    # ciphertext came out as APDUs (2 counted malformed), one of which swallowed the short
    # copy after it, and the second long copy was not counted.
    telegrams, dec = decode_all(_another_meter_then_long_smarty_copies(), chunk, key=LUX_KEY.hex(),
                                auth_key=LUX_AUTH.hex())
    assert [t.frame_counter for t in telegrams] == [7, 3, 5]
    assert dict((k, n) for k, n in dec.errors.counts.items() if n) == {"overflow": 2}


def test_long_smarty_copies_under_a_title_new_to_the_line_read_the_same_on_micropython():
    from test_parity import cpython, micropython

    data = _another_meter_then_long_smarty_copies()
    jobs = [{"id": "new-title/%d" % chunk, "hex": data.hex(), "chunk": chunk,
             "key": LUX_KEY.hex(), "auth_key": LUX_AUTH.hex()} for chunk in (0, 7)]
    on_micropython = micropython(jobs)
    for result in on_micropython:
        assert len(result["telegrams"]) == 3, result["id"]
        assert {k: n for k, n in result["errors"].items() if n} == {"overflow": 2}, result["id"]
    assert on_micropython == cpython(jobs)


@pytest.mark.parametrize("chunk", [None, 7])
def test_a_short_smarty_copy_whose_ciphertext_opens_like_a_dsmr_header_after_a_long_one_comes_out(chunk):
    # Counter 714's ciphertext holds "/FDDf" 82 9E 98 27 CR: "/" and three letters, a header
    # line of no control byte (bytes from 0x80 up pass) and its end. The first copy after a
    # long one is read while the line is locked on no framing (the lock lifted as the long
    # copy was passed over), so a checked frame is looked for inside it: this "telegram"
    # held it and the copies behind it until its "!" or a full buffer (2 kB of line, three
    # 700-byte copies), and then it was lost, counted as two overflows. So was a copy at
    # start-up: about one 700-byte copy in 600 (pass 39 left it, strict xfail). A telegram
    # that starts inside an APDU is a new one, whose fifth byte is the baud rate digit
    # (dsmr._new_header, as for a telegram cut short): "f" is none.
    short = [ds.cipher(_smarty_plain(), LUX_KEY, b"SAGgp\x01\x02\x03", n, auth_key=LUX_AUTH) for n in (714, 715)]
    assert b"/FDD" in short[0]
    telegrams, dec = decode_all(_long_smarty(1) + short[0] + short[1], chunk, key=LUX_KEY.hex(), auth_key=LUX_AUTH.hex())
    assert [t.frame_counter for t in telegrams] == [714, 715]
    assert dict((k, n) for k, n in dec.errors.counts.items() if n) == {"overflow": 1}


def test_without_the_authentication_key_a_smarty_telegram_without_a_crc_is_read():
    # "!" and a line end, no CRC: once taken for a CRC of the two line-end bytes, which failed.
    from frame_support import dsmr_telegram

    plain = dsmr_telegram(LUX_LINES, header="/Lux5\\253663629_D", with_crc=False)
    sealed = ds.cipher(plain, LUX_KEY, b"SAGgp\x01\x02\x03", 7, auth_key=LUX_AUTH)
    telegrams, dec = decode_all(sealed, key=LUX_KEY.hex())
    assert [plain_readings(t)["1-0:1.8.0"] for t in telegrams] == [{"value": 273.764, "unit": "kWh"}]
    assert dec.errors.total() == 0


def test_without_the_authentication_key_or_a_crc_a_control_byte_marks_a_damaged_copy():
    # Nothing vouches for such a text: a line error that decrypts a digit to a control
    # byte (CTR keeps places) was published as a reading of binary text (a review's fuzz).
    from frame_support import dsmr_telegram

    plain = dsmr_telegram(LUX_LINES, header="/Lux5\\253663629_D", with_crc=False)
    good = ds.cipher(plain, LUX_KEY, b"SAGgp\x01\x02\x03", 7, auth_key=LUX_AUTH)
    bad = bytearray(good)
    bad[len(bad) - 12 - len(plain) + plain.index(b"273.764")] ^= ord("2") ^ 0x01
    telegrams, dec = decode_all(good + bytes(bad) + good, key=LUX_KEY.hex())
    assert [plain_readings(t)["1-0:1.8.0"] for t in telegrams] == [{"value": 273.764, "unit": "kWh"}] * 2
    assert dict((k, n) for k, n in dec.errors.counts.items() if n) == {"malformed": 1}
    assert "byte 0x01" in dec.errors.last_error and "auth_key" in dec.errors.last_error


def _smarty_without_crc(value):
    # A Smarty telegram whose text carries no CRC, holding ``value`` before a unit.
    from frame_support import dsmr_telegram

    plain = dsmr_telegram(LUX_LINES + ["1-0:1.6.0(%s*kW)" % value], header="/Lux5\\253663629_D", with_crc=False)
    return ds.cipher(plain, LUX_KEY, b"SAGgp\x01\x02\x03", 7, auth_key=LUX_AUTH)


def test_a_tag_that_holds_vouches_for_a_value_that_is_no_number_where_the_text_has_no_crc():
    # Off the line, a telegram without a CRC that holds no number before a unit is refused as
    # a bit error (dsmr_parse._checked). Under a GCM tag that held, no bit error is possible:
    # the text is the meter's, as under a CRC. The check asked only whether a CRC or a BCC
    # followed the "!", and a Smarty text without one lost every telegram that held such a
    # value, with "a bit error on the line" said of text the tag had just vouched for.
    sealed = _smarty_without_crc("01.1#3")
    telegrams, dec = decode_all(sealed, key=LUX_KEY.hex(), auth_key=LUX_AUTH.hex())
    assert len(telegrams) == 1 and telegrams[0].tag_checked and dec.errors.total() == 0
    assert plain_readings(telegrams[0])["1-0:1.6.0"] == {"value": "01.1#3", "unit": "kW"}
    # Without the authentication key nothing vouches for it: refused as on the line, and the
    # copies around it read.
    good = _smarty_without_crc("01.193")
    telegrams, dec = decode_all(good + sealed + good, key=LUX_KEY.hex())
    assert [plain_readings(t)["1-0:1.6.0"] for t in telegrams] == [{"value": 1.193, "unit": "kW"}] * 2
    assert dict((k, n) for k, n in dec.errors.counts.items() if n) == {"malformed": 1}
    assert "no number before its unit" in dec.errors.last_error


def test_a_tag_vouches_for_a_text_without_crc_on_micropython_too():
    from test_parity import assert_same, micropython

    sealed, good = _smarty_without_crc("01.1#3"), _smarty_without_crc("01.193")
    jobs = [{"id": "tag", "hex": sealed.hex(), "key": LUX_KEY.hex(), "auth_key": LUX_AUTH.hex()},
            {"id": "no-tag", "hex": (good + sealed + good).hex(), "key": LUX_KEY.hex()}]
    assert_same(jobs)
    tag, no_tag = micropython(jobs)
    assert tag["telegrams"][0]["readings"]["1-0:1.6.0"] == {"value": "01.1#3", "unit": "kW"}
    assert len(no_tag["telegrams"]) == 2 and no_tag["errors"]["malformed"] == 1


@pytest.mark.parametrize("chunk", [1, 7, None])
def test_without_the_authentication_key_a_copy_one_byte_short_is_refused_however_it_is_read(chunk):
    # A Steiermark T210-D's bare ciphered DSMR copy that lost a byte decrypts to garbage
    # from there on. Read in one piece it was counted; read in small pieces (its claimed
    # length then ends on the next copy's DB) it came out as 3 readings of binary text.
    # Such a text does not end as a telegram does (found by a chunking probe).
    with open(os.path.join(os.path.dirname(__file__), "public_captures.json")) as f:
        entry = [e for e in json.load(f) if e["id"] == "at-steiermark-t210d-dsmr-in-ciphering"][0]
    push = bytes.fromhex(entry["hex"])
    telegrams, dec = decode_all(push + push[:94] + push[95:] + push + push, chunk, key=entry["key_hex"])
    assert [len(t.readings) for t in telegrams] == [18, 18, 18]
    assert dict((k, n) for k, n in dec.errors.counts.items() if n) == {"malformed": 1}


# --- text that is no UTF-8 by RFC 3629, though MicroPython's str() takes it --------------

ODD_UTF8 = [b"sur\xed\xa0\x80ogate", b"over\xc0\x80long", b"past\xf4\x90\x80\x80max", b"cut\xe2\x82"]


def test_text_no_rfc_3629_utf_8_reads_as_question_marks_on_both_interpreters():
    # MicroPython's str(b, "utf-8") took surrogates, overlong forms and code points past
    # U+10FFFF, which then went out raw in the state's JSON: no UTF-8, so no JSON, and Home
    # Assistant dropped every state message while the store held the text (found by a
    # parity run of the gateway against decode.py).
    from frame_support import arc
    from test_parity import assert_same

    jobs = []
    for i, raw in enumerate(ODD_UTF8):
        body = ds.tagged_body([("0-0:96.1.0", b"\x0a" + bytes([len(raw)]) + raw, None)])
        jobs.append({"id": "dlms/%d" % i, "hex": ds.hdlc_frame(ds.LLC + ds.data_notification(body)).hex()})
        text = b"/ISK5\\2M550T-1012\r\n\r\n0-0:96.13.0(" + raw + b")\r\n1-0:1.8.1(000001.000*kWh)\r\n!"
        jobs.append({"id": "dsmr/%d" % i, "hex": (text + b"%04X\r\n" % arc(text)).hex()})
    assert_same(jobs)
    for job in jobs:
        telegrams, dec = decode_all(bytes.fromhex(job["hex"]))
        assert len(telegrams) == 1 and dec.errors.total() == 0, job["id"]
        values = plain_readings(telegrams[0])
        assert "?" in (values.get("0-0:96.1.0") or values["0-0:96.13.0"])["value"], job["id"]


def test_valid_utf_8_of_every_length_stays_as_it_is():
    raw = "Zähler € 𝄞 ok".encode()
    telegrams, _ = decode_all(ds.hdlc_frame(ds.LLC + ds.data_notification(
        ds.tagged_body([("0-0:96.1.0", b"\x0c" + bytes([len(raw)]) + raw, None)]))))
    assert plain_readings(telegrams[0])["0-0:96.1.0"]["value"] == "Zähler € 𝄞 ok"


def _message_push(raw):
    # A plaintext push, tagged: 0-0:96.13.0 and an octet-string.
    return bytes.fromhex("0F 00000001 00 0202 0906 0000600D00FF 09") + bytes([len(raw)]) + raw


@pytest.mark.parametrize("raw,expected", [
    ("Coupure pr\u00e9vue \u00e0 14:00".encode(), "Coupure pr\u00e9vue \u00e0 14:00"),  # UTF-8: the text
    ("Z\u00e4hler".encode() + b"\x00\x00", "Z\u00e4hler"),  # NUL padding dropped
    ("Z\u00e4hler".encode("latin-1"), "5ae4686c6572"),  # a code page: hex, as before
    (b"\xc2\x85\xc3\xa9", "c285c3a9"),  # a C1 control: binary
    (b"\xed\xa0\x80ab", "eda08061 62".replace(" ", "")),  # a surrogate (RFC 3629 forbids it)
])
def test_an_octet_string_past_ascii_reads_as_text_when_it_is_utf8(raw, expected):
    telegrams, _ = decode_all(_message_push(raw))
    assert plain_readings(telegrams[0])["0-0:96.13.0"] == {"value": expected}


def test_octet_strings_past_ascii_read_the_same_on_micropython():
    from test_parity import assert_same

    raws = ["Coupure pr\u00e9vue".encode(), "Z\u00e4hler".encode("latin-1"), b"\xed\xa0\x80ab", b"\xc2\x85\xc3\xa9"]
    assert_same([{"id": "octets/%d" % i, "hex": _message_push(raw).hex(), "chunk": 0} for i, raw in enumerate(raws)])
