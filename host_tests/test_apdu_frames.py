"""The APDU layer on frames built by the independent encoder in apdu_support.

Covers what the corpus cannot: every GBT sequence fault, bounds, every
date-time form, several ciphered APDUs in one payload, authentication-only,
dedicated ciphering, nesting limits, truncation at every byte, and
``measure`` for the framer's bare APDU streams.
"""

import pytest
from apdu_support import LLC, cipher, gbt_block, gbt_blocks, notification, read_all

from decoder import apdu
from decoder.errors import DecodeError, ErrorLog, Incomplete

KEY = bytes(range(16))
AK = bytes(range(16, 32))
BODY = bytes.fromhex("0203" "0600000457" "1200e6" "090412345678")  # structure{u32, u16, octets}
DATETIME = bytes.fromhex("07ea0b17010f1e00ff800000")


def many(n):
    """A bigger body: array of n copies of BODY (n < 128)."""
    return bytes([0x01, n]) + BODY * n


def reader(key=KEY, ak=AK, max_apdu=apdu.MAX_APDU):
    log = ErrorLog()
    return apdu.ApduReader(log, key, ak, max_apdu), log


def push_all(items, key=KEY, ak=AK, max_apdu=apdu.MAX_APDU):
    r, log = reader(key, ak, max_apdu)
    return read_all(r, items), log


# --- data-notification ---

@pytest.mark.parametrize("form", ["absent", "octet-string", "typed 09 0C"])
def test_notification_date_time_forms(form):
    dt = None if form == "absent" else DATETIME
    notes, log = push_all([notification(BODY, 77, dt, typed=form.startswith("typed"))])
    assert log.total() == 0
    assert notes[0]["datetime"] == (None if dt is None else dt.hex())
    assert notes[0]["body"] == BODY.hex() and notes[0]["invoke_id"] == 77
    assert notes[0]["tag_checked"] is None and notes[0]["frame_counter"] is None


def test_invoke_id_drops_the_priority_and_service_class_bits():
    notes, _ = push_all([notification(BODY, 0xC040ABCD)])
    assert notes[0]["invoke_id"] == 0x40ABCD


def test_a_date_time_of_another_length_is_malformed():
    payload = b"\x0f\x00\x00\x00\x01\x05" + bytes(5) + BODY
    notes, log = push_all([payload])
    assert notes == [] and log.counts["malformed"] == 1 and "date-time of 5 bytes" in log.last_error


def test_apdus_back_to_back_with_and_without_llc_all_come_out():
    payload = notification(BODY, 1) + LLC + notification(BODY, 2, DATETIME) + notification(BODY, 3)
    notes, log = push_all([payload])
    assert log.total() == 0
    assert [n["invoke_id"] for n in notes] == [1, 2, 3]


def test_trailing_garbage_is_counted_after_the_good_apdu():
    notes, log = push_all([notification(BODY, 1) + b"\x42\x42"])
    assert len(notes) == 1 and log.counts["malformed"] == 1 and "0x42" in log.last_error


# --- ciphering ---

@pytest.mark.parametrize("sc,checked", [(0x30, True), (0x31, True), (0x20, False), (0x21, False), (0x10, True)])
def test_every_security_control_round_trips(sc, checked):
    inner = notification(BODY, 9, DATETIME)
    notes, log = push_all([cipher(inner, KEY, sc, AK, b"KFMtest1", 123456)])
    assert log.total() == 0, log.last_error
    note = notes[0]
    assert (note["body"], note["datetime"], note["invoke_id"]) == (BODY.hex(), DATETIME.hex(), 9)
    assert note["system_title"] == b"KFMtest1".hex() and note["frame_counter"] == 123456
    assert note["tag_checked"] is checked


def test_dedicated_ciphering_reads_like_global_ciphering():
    notes, log = push_all([cipher(notification(BODY), KEY, 0x30, AK, tag_byte=0xDC)])
    assert log.total() == 0 and notes[0]["tag_checked"] is True


def test_without_auth_key_an_authenticated_apdu_decrypts_unchecked():
    notes, log = push_all([cipher(notification(BODY), KEY, 0x30, AK)], ak=None)
    assert log.total() == 0 and notes[0]["tag_checked"] is False and notes[0]["body"] == BODY.hex()


@pytest.mark.parametrize("key", [KEY, None])
def test_security_0x00_wraps_plaintext_read_the_same_with_or_without_a_key(key):
    # Neither bit set: nothing to decrypt or check. With a key it used to be an
    # "authentication" error (a key problem it is not), without one a telegram.
    notes, log = push_all([cipher(notification(BODY), KEY, 0x00, AK)], key=key, ak=key and AK)
    assert log.total() == 0 and notes[0]["tag_checked"] is False and notes[0]["body"] == BODY.hex()


@pytest.mark.parametrize("key", [KEY, None])
@pytest.mark.parametrize("sc,words", [(0x80, "compressed"), (0xB0, "compressed"), (0x32, "suite 2"),
                                      (0x22, "suite 2")])
def test_a_security_control_no_key_reads_is_refused_by_name_key_or_no_key(key, sc, words):
    # Counted "malformed", not "authentication" (a helper's probe): that counter and "no
    # key configured" send a user to the keys, and no key reads compression or suite 2.
    notes, log = push_all([cipher(notification(BODY), KEY, sc, AK)], key=key, ak=key and AK)
    assert notes == [] and log.counts["malformed"] == 1 and words in log.last_error
    assert "key" not in log.last_error


def test_authentication_only_is_readable_without_any_key():
    notes, log = push_all([cipher(notification(BODY), KEY, 0x10, AK)], key=None, ak=None)
    assert log.total() == 0 and notes[0]["tag_checked"] is False and notes[0]["body"] == BODY.hex()


def test_one_tampered_apdu_among_three_loses_only_itself():
    good1 = cipher(notification(BODY, 1), KEY, 0x30, AK, frame_counter=1)
    bad = bytearray(cipher(notification(BODY, 2), KEY, 0x30, AK, frame_counter=2))
    bad[30] ^= 1
    good3 = cipher(notification(BODY + b"", 3), KEY, 0x30, AK, frame_counter=3)
    notes, log = push_all([good1 + bytes(bad) + good3])
    assert [n["invoke_id"] for n in notes] == [1, 3]
    assert all(n["body"] == BODY.hex() for n in notes)  # the shared plaintext buffer kept both
    assert log.counts["authentication"] == 1 and log.total() == 1


def _wrong_keys_whose_garbage_opens_with(first, sc, count=2):
    # Keys (not KEY) under which the push's plaintext begins with ``first``: what a wrong
    # key does for about 1 push in 256 per byte value.
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    ciphertext_first = cipher(notification(BODY, 9, DATETIME), KEY, sc, AK)[16]  # after DB 08 title LEN SC FC
    counter_block = b"LGZgTEST" + bytes([0, 0, 0, 1]) + bytes([0, 0, 0, 2])
    keys = []
    for n in range(100000):
        key = bytes(14) + n.to_bytes(2, "big")
        encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
        if encryptor.update(counter_block)[0] ^ ciphertext_first == first:
            keys.append(key)
            if len(keys) == count:
                return keys
    raise AssertionError("no key found")


@pytest.mark.parametrize("first", [0x0F, 0xE0])
@pytest.mark.parametrize("sc, ak", [(0x20, AK), (0x30, None)])
def test_a_wrong_key_is_an_authentication_error_even_when_its_garbage_opens_like_an_apdu(first, sc, ak):
    # No tag vouches for the plaintext (0x20, or 0x30 without the GAK): garbage that
    # opens with a data-notification or GBT tag used to be parsed on and counted as
    # malformed ("date-time of 189 bytes"), pointing away from the key.
    push = cipher(notification(BODY, 9, DATETIME), KEY, sc, AK)
    for key in _wrong_keys_whose_garbage_opens_with(first, sc):
        notes, log = push_all([push], key=key, ak=ak)
        assert notes == [] and nonzero_counts(log) == {"authentication": 1}, log.last_error
        assert log.last_error.startswith("authentication failed — check the encryption key (GUEK)")


def test_wrong_keys_whose_garbage_opens_like_an_apdu_read_the_same_on_micropython():
    from frame_support import hdlc_frame
    from test_parity import assert_same

    jobs = []
    for first in (0x0F, 0xE0):
        for sc, ak in ((0x20, AK), (0x30, None)):
            push = hdlc_frame(LLC + cipher(notification(BODY, 9, DATETIME), KEY, sc, AK))
            for key in _wrong_keys_whose_garbage_opens_with(first, sc):
                jobs.append({"id": "%02x/%02x/%s" % (first, sc, key.hex()), "hex": push.hex(), "key": key.hex(),
                             "auth_key": ak and ak.hex()})
    assert_same(jobs)


def nonzero_counts(log):
    return {k: v for k, v in log.counts.items() if v}


def test_dsmr_inside_ciphering_is_handed_up_as_text():
    text = b"/LGZ5\\2E360\r\n\r\n1-0:1.8.0(000123.456*kWh)\r\n!ABCD\r\n"
    notes, log = push_all([cipher(text, KEY, 0x30, AK)])
    assert log.total() == 0
    assert notes[0]["dsmr"] is True and bytes.fromhex(notes[0]["body"]) == text


def test_a_ciphered_apdu_inside_a_ciphered_apdu_is_refused():
    notes, log = push_all([cipher(cipher(notification(BODY), KEY, 0x30, AK), KEY, 0x30, AK)])
    assert notes == [] and log.counts["malformed"] == 1 and "inside a ciphered" in log.last_error


def test_system_title_must_be_8_bytes():
    payload = bytes([0xDB, 4]) + b"ABCD" + b"\x05\x20\x00\x00\x00\x01"
    notes, log = push_all([payload])
    assert notes == [] and "system title of 4 bytes" in log.last_error


@pytest.mark.parametrize("content", [b"\x30\x00\x00", b"\x30\x00\x00\x00\x01" + bytes(5)])
def test_ciphered_content_too_short_for_its_header_or_tag(content):
    payload = bytes([0xDB, 8]) + b"LGZgTEST" + bytes([len(content)]) + content
    notes, log = push_all([payload])
    assert notes == [] and log.counts["malformed"] == 1


def test_decrypted_apdus_beyond_the_buffer_are_dropped_as_overflow():
    big = cipher(notification(b"\x09\x81\xc8" + bytes(200)), KEY, 0x20, AK)
    notes, log = push_all([big], max_apdu=128)
    assert notes == [] and log.counts["overflow"] == 1


# --- general-block-transfer ---

def pushed(blocks, **kw):
    return push_all(blocks, **kw)


def test_gbt_blocks_in_order_give_one_notification():
    whole = notification(many(20), 5, DATETIME)
    notes, log = pushed(gbt_blocks(whole, 60))
    assert log.total() == 0 and len(notes) == 1
    assert notes[0]["body"] == many(20).hex()


def test_gbt_around_a_ciphered_apdu_with_long_ber_lengths():
    inner = cipher(notification(many(30), 5), KEY, 0x30, AK)  # DB ... 82 nn nn
    blocks = gbt_blocks(inner, 200)  # E0 ... 81 C8
    notes, log = pushed(blocks)
    assert log.total() == 0 and notes[0]["tag_checked"] is True and notes[0]["body"] == many(30).hex()


def test_a_single_last_block_is_a_whole_push():
    notes, log = pushed([gbt_block(1, notification(BODY), last=True)])
    assert log.total() == 0 and len(notes) == 1


@pytest.mark.parametrize("order", [[1, 3, 2, 4], [1, 2, 2, 3, 4], [1, 2, 4, 3]])
def test_missing_duplicated_or_reordered_blocks_drop_the_push_once(order):
    blocks = gbt_blocks(notification(many(20)), 90)
    assert len(blocks) == 4
    notes, log = pushed([blocks[i - 1] for i in order])
    assert notes == []
    assert log.counts["sequence"] == 1 and log.total() == 1


def test_a_new_block_1_abandons_the_unfinished_push_and_the_new_one_completes():
    blocks = gbt_blocks(notification(many(20)), 40)
    notes, log = pushed(blocks[:2] + blocks)
    assert len(notes) == 1 and log.counts["sequence"] == 1 and log.total() == 1
    assert "unfinished push" in log.last_error


def test_joining_in_the_middle_of_a_push_is_silent_until_block_1():
    blocks = gbt_blocks(notification(many(20)), 40)
    notes, log = pushed(blocks[2:] + blocks)
    assert len(notes) == 1 and log.total() == 0


def test_a_push_whose_block_1_vanished_whole_is_one_sequence_error_once_in_step():
    # No checksum counts a frame that is not there at all: after a whole push, the next
    # one must open with block 1, so its block 2 is the loss (its later blocks are quiet).
    first, second, third = (gbt_blocks(notification(many(20), invoke), 40) for invoke in (1, 2, 3))
    notes, log = pushed(first + second[1:] + third)
    assert [n["invoke_id"] for n in notes] == [1, 3]
    assert log.counts["sequence"] == 1 and log.total() == 1
    assert "GBT block 2 where block 1 was expected" in log.last_error


def test_block_number_0_is_never_the_start_of_a_push():
    notes, log = pushed([gbt_block(0, notification(BODY), last=True)])
    assert notes == [] and log.total() == 0


def numbered_on(*invoke_ids):
    """Four GBT blocks per push, numbered on from the last push's last block, not from 1
    (gurux-dlms's notifier numbers so; the E450 captures open every push with block 1)."""
    blocks = []
    for invoke in invoke_ids:
        whole = notification(many(20), invoke)
        blocks += gbt_blocks(whole, -(-len(whole) // 4), first=len(blocks) + 1)
    return blocks


def test_a_meter_that_numbers_its_blocks_on_across_pushes_gives_every_push():
    # It had one sequence error at the second push's block 5, then every push after it
    # passed over in silence: none opened with the block 1 that was waited for.
    blocks = numbered_on(1, 2, 3)
    assert len(blocks) == 12
    for chunk in (blocks, blocks[2:]):  # and a dongle that joins in the first push's middle
        notes, log = pushed(chunk)
        assert [n["invoke_id"] for n in notes] == ([1, 2, 3] if chunk is blocks else [2, 3])
        assert log.total() == 0


def test_on_a_line_that_numbers_on_a_push_whose_first_block_vanished_is_one_sequence_error():
    blocks = numbered_on(1, 2, 3)
    notes, log = pushed(blocks[:4] + blocks[5:])
    assert [n["invoke_id"] for n in notes] == [1, 3]
    assert log.counts["sequence"] == 1 and log.total() == 1
    assert "GBT block 6 where block 1 was expected" in log.last_error


def test_a_block_numbered_on_inside_a_push_is_no_new_push():
    # Blocks 1-4 end at 4, so block 5 may open the next push; inside that push a block
    # that skips to a later number is a gap, whatever number the last push ended on.
    first, second = (gbt_blocks(notification(many(20), invoke), 40) for invoke in (1, 2))
    notes, log = pushed(first + second[:2] + [second[3]])
    assert [n["invoke_id"] for n in notes] == [1]
    assert log.counts["sequence"] == 1 and log.total() == 1


def test_a_push_longer_than_the_buffer_is_dropped_and_the_next_one_still_works():
    long_blocks = gbt_blocks(notification(many(20)), 40)
    short = gbt_blocks(notification(BODY), 40)
    notes, log = pushed(long_blocks + short, max_apdu=100)
    assert len(notes) == 1 and notes[0]["body"] == BODY.hex()
    assert log.counts["overflow"] == 1


@pytest.mark.parametrize("sc", [0x30, 0x20, 0x10])
def test_gbt_blocks_each_ciphered_on_their_own_give_one_notification(sc):
    # IEC 62056-5-3 lets the sender protect each block rather than the whole APDU: each
    # block is opened, then the blocks are joined. Was: "general-block-transfer inside
    # another APDU", one error per block and no telegram.
    blocks = gbt_blocks(notification(many(20), 5, DATETIME), 40)
    sealed = [cipher(block, KEY, sc, AK, frame_counter=100 + i) for i, block in enumerate(blocks)]
    notes, log = pushed(sealed + sealed[:1])  # and the next push's block 1 starts afresh
    assert len(blocks) > 2 and log.total() == 0 and len(notes) == 1
    assert notes[0]["body"] == many(20).hex() and notes[0]["invoke_id"] == 5
    assert notes[0]["frame_counter"] == 100 + len(blocks) - 1  # the last block's envelope
    assert notes[0]["tag_checked"] is bool(sc & 0x10)


@pytest.mark.parametrize("plain_at", [0, -1])
def test_gbt_blocks_ciphered_and_not_in_one_push_are_dropped(plain_at):
    # A plaintext block among ciphered ones is vouched for by nothing: its push was read
    # with tag_checked true (the last block's) when the first block was plaintext.
    blocks = gbt_blocks(notification(many(20), 5), 40)
    mixed = [cipher(block, KEY, 0x30, AK, frame_counter=1 + i) for i, block in enumerate(blocks)]
    mixed[plain_at] = blocks[plain_at]
    notes, log = pushed(mixed)
    assert notes == [] and log.counts["malformed"] == 1 == log.total()
    assert "ciphered and not" in log.last_error


def test_gbt_blocks_each_ciphered_are_checked_only_if_every_tag_was():
    blocks = gbt_blocks(notification(many(20), 5), 40)
    sealed = [cipher(block, KEY, 0x30 if i else 0x20, AK, frame_counter=1 + i) for i, block in enumerate(blocks)]
    notes, log = pushed(sealed)
    assert log.total() == 0 and len(notes) == 1 and notes[0]["tag_checked"] is False


def test_a_ciphered_block_under_a_wrong_key_is_an_authentication_error_per_block():
    blocks = gbt_blocks(notification(many(20), 5), 40)
    sealed = [cipher(block, bytes(16), 0x30, AK, frame_counter=1 + i) for i, block in enumerate(blocks)]
    notes, log = pushed(sealed)
    assert notes == [] and log.counts["authentication"] == len(blocks) == log.total()


def test_gbt_inside_a_ciphered_block_of_gbt_is_refused():
    inner = gbt_block(1, notification(BODY), last=True)
    notes, log = pushed([gbt_block(1, cipher(inner, KEY, 0x30, AK), last=True)])
    assert notes == [] and log.counts["malformed"] == 1 == log.total()


def test_gbt_inside_gbt_is_refused():
    inner = gbt_block(1, notification(BODY), last=True)
    notes, log = pushed([gbt_block(1, inner, last=True)])
    assert notes == [] and "inside another APDU" in log.last_error


# --- truncation and measure ---

SAMPLES = [
    notification(BODY, 1),
    notification(BODY, 1, DATETIME, typed=True),
    cipher(notification(many(40)), KEY, 0x30, AK),
    gbt_block(1, bytes(300)),
]


@pytest.mark.parametrize("sample", SAMPLES, ids=["0F", "0F typed dt", "DB 82", "E0 82"])
def test_measure_gives_the_length_and_incomplete_for_every_prefix(sample):
    assert apdu.measure(sample) == len(sample)
    assert apdu.measure(b"\x00\x00" + sample + b"\x99", 2) == len(sample)
    for cut in range(len(sample)):
        with pytest.raises(Incomplete):
            apdu.measure(sample[:cut])


@pytest.mark.parametrize("junk", [b"\x7e\xa0", b"\xdb\x08LGZgTEST\x83\x00\x00\x10", b"\x0f\x00\x00\x00\x01\x00\xff"])
def test_measure_says_what_cannot_be_an_apdu(junk):
    with pytest.raises(DecodeError):
        apdu.measure(junk)


@pytest.mark.parametrize("sample", SAMPLES[:3], ids=["0F", "0F typed dt", "DB 82"])
def test_every_truncation_is_a_counted_error_never_an_exception(sample):
    for cut in range(1, len(sample)):
        notes, log = push_all([sample[:cut]])
        assert notes == [] and log.total() == 1, cut
