"""The xDLMS APDU layer (IEC 62056-5-3) on real captures.

Each capture's link framing is unwrapped by the naive helper in
apdu_support (the corpus checksums were verified when it was gathered);
what a capture must give is checked against what its source published
(keys, tags, frame counters, plaintext) and the corpus notes.
"""

import re

import pytest
from apdu_support import key_of, payloads, read_all

from decoder import apdu, axdr
from decoder.errors import ErrorLog

AUTH_FAILED = "authentication failed — check the encryption key (GUEK) and authentication key (GAK)"

# Captures whose GCM tag the source's keys verify.
TAG_VERIFIED = [
    "at-e450-burgenland-1",
    "at-e450-burgenland-2",
    "at-e450-gbt-enc-1",
    "at-e450-gbt-enc-2",
    "dk-kamstrup-omnipower-enc-keyed",
    "lu-smarty-dsmr-encrypted",
]
# Decryptable but without a checkable tag: 0x20/0x21 carry none, and
# at-e450-enc-flat-obis-sdc is 0x30 with no published authentication key.
DECRYPTED_UNCHECKED = [
    "at-e450-enc-flat-obis-sdc",
    "at-kaifa-netznoe-doc",
    "at-kaifa-tinetz-doc",
    "pl-kaifa-ma309-mbus-key",
    "at-am550-kelag-enc",
    "at-am550-kelag-enc-later",
    "ch-e570-encrypted-gbt",
]
ENCRYPTED_WITHOUT_KEY = [
    "ch-am550-gh1001-encrypted",
    "ch-kamstrup-omnipower-enc",
    "at-sagemcom-t210d-L01",
    "at-sagemcom-t210d-evn-pair",
    "at-kaifa-evn-enc-nokey",
]


def decode(entry, key="key", auth_key="auth"):
    log = ErrorLog()
    k = key_of(entry) if key == "key" else key
    ak = key_of(entry, "auth_key_hex") if auth_key == "auth" else auth_key
    notes = read_all(apdu.ApduReader(log, k, ak), payloads(entry))
    return notes, log


def published_header(entry):
    """System title and frame counter as the corpus verification states them."""
    m = re.search(r"system title ([0-9A-F]{16}).*?frame counter (\d+)", entry["verification"])
    return m.group(1).lower(), int(m.group(2))


def complete_axdr(body_hex):
    body = bytes.fromhex(body_hex)
    return axdr.skip(body, 0) == len(body)


@pytest.mark.parametrize("cid", TAG_VERIFIED)
def test_real_authenticated_captures_verify_their_tag(corpus, cid):
    entry = corpus[cid]
    notes, log = decode(entry)
    assert log.total() == 0, log.last_error
    assert len(notes) == 1
    note = notes[0]
    assert note["tag_checked"] is True
    assert (note["system_title"], note["frame_counter"]) == published_header(entry)


@pytest.mark.parametrize("cid", DECRYPTED_UNCHECKED)
def test_real_captures_without_a_checkable_tag_decrypt_and_say_so(corpus, cid):
    entry = corpus[cid]
    notes, log = decode(entry)
    assert log.total() == 0, log.last_error
    assert len(notes) == 1
    assert notes[0]["tag_checked"] is False
    assert (notes[0]["system_title"], notes[0]["frame_counter"]) == published_header(entry)
    assert complete_axdr(notes[0]["body"])


@pytest.mark.parametrize("cid", TAG_VERIFIED[:-1] + DECRYPTED_UNCHECKED)
def test_decrypted_notifications_are_complete_axdr_bodies(corpus, cid):
    notes, _ = decode(corpus[cid])
    assert complete_axdr(notes[0]["body"])


def test_tinetz_plaintext_equals_the_published_plaintext(corpus):
    entry = corpus["at-kaifa-tinetz-doc"]
    note = decode(entry)[0][0]
    published = entry["expected_plaintext_hex"].lower()
    # 0F | invoke id | 0C + date-time | body
    assert published == "0f" + "%08x" % note["invoke_id"] + "0c" + note["datetime"] + note["body"]


def test_luxembourg_smarty_carries_dsmr_text_vouched_for_by_the_tag(corpus):
    entry = corpus["lu-smarty-dsmr-encrypted"]
    note = decode(entry)[0][0]
    assert note["dsmr"] is True
    assert bytes.fromhex(note["body"]).decode() == entry["expected_text"]
    assert note["invoke_id"] is None and note["datetime"] is None


@pytest.mark.parametrize("cid", TAG_VERIFIED)
def test_a_wrong_authentication_key_yields_nothing_and_the_key_hint(corpus, cid):
    notes, log = decode(corpus[cid], auth_key=bytes(16))
    assert notes == []
    assert log.counts["authentication"] == 1
    assert log.last_error == AUTH_FAILED


def test_a_wrong_encryption_key_on_an_authenticated_capture_is_caught(corpus):
    notes, log = decode(corpus["at-e450-gbt-enc-1"], key=bytes(16))
    assert notes == [] and log.counts["authentication"] == 1 and log.last_error == AUTH_FAILED


@pytest.mark.parametrize("cid", DECRYPTED_UNCHECKED)
def test_a_wrong_key_where_no_tag_is_checked_still_says_check_the_key(corpus, cid):
    # Security 0x20 (or 0x30 without a GAK) has no tag to check: a wrong key decrypts to
    # garbage, which was a 'malformed: not an APDU' error, pointing away from the key.
    notes, log = decode(corpus[cid], key=bytes(range(16)), auth_key=None)
    assert notes == []
    assert log.counts["authentication"] >= 1 and log.counts["malformed"] == 0
    assert log.last_error.startswith("authentication failed — check the encryption key (GUEK)")


@pytest.mark.parametrize("cid", ENCRYPTED_WITHOUT_KEY + ["at-e450-burgenland-1"])
def test_encrypted_captures_without_a_key_say_a_key_is_needed(corpus, cid):
    notes, log = decode(corpus[cid], key=None, auth_key=None)
    assert notes == []
    assert log.counts["authentication"] == 1
    assert "no key configured" in log.last_error and "GUEK" in log.last_error


def test_e450_push_split_over_gbt_blocks_is_reassembled(corpus):
    notes, log = decode(corpus["ch-e450-baden-gbt"])
    assert log.total() == 0
    assert len(notes) == 1 and complete_axdr(notes[0]["body"])


def test_a_new_block_1_abandons_the_unfinished_push_with_one_sequence_error(corpus):
    # Blocks 1-2 of a push whose end is missing, then a complete push 1..4.
    notes, log = decode(corpus["ch-e450-ekz-2021-gbt"])
    assert len(notes) == 1 and complete_axdr(notes[0]["body"])
    assert log.counts["sequence"] == 1 and log.total() == 1


def test_duplicated_and_reordered_gbt_blocks_drop_the_push(corpus):
    # Blocks 1, 2, 2, 4, 3 with valid HDLC checksums: only GBT numbering tells.
    notes, log = decode(corpus["ch-e450-ekz-2021-gbt-dup-block"])
    assert notes == []
    assert log.counts["sequence"] == 1 and log.total() == 1


def test_three_apdus_in_one_frame_all_come_out(corpus):
    notes, log = decode(corpus["ch-e450-tg-3apdus-one-frame"])
    assert log.total() == 0
    assert [n["invoke_id"] for n in notes] == [0x0008FD7B, 0x0008FD7C, 0x0008FD7D]
    # 2024-11-03 19:00:15, 19:01:15, 19:02:15 (hour 0x13, second 0x0F)
    assert [n["datetime"][10:16] for n in notes] == ["13000f", "13010f", "13020f"]
    assert all(complete_axdr(n["body"]) for n in notes)


@pytest.mark.parametrize("cid", ["no-kaifa-ma304-list1", "no-kaifa-ma304-list2"])
def test_norwegian_kaifa_typed_date_time_is_read(corpus, cid):
    note = decode(corpus[cid])[0][0]
    assert note["datetime"] is not None and len(note["datetime"]) == 24
    assert complete_axdr(note["body"])


def test_every_plain_binary_capture_gives_notifications(corpus):
    for cid, entry in corpus.items():
        if entry["encrypted"] or "hex" not in entry or entry["transport"] == "dsmr-ascii":
            continue
        notes, log = decode(entry)
        assert notes or "dup-block" in cid, cid
        assert log.counts["malformed"] == 0 and log.counts["overflow"] == 0, (cid, log.last_error)
        assert all(n["tag_checked"] is None and n["system_title"] is None for n in notes)


def test_sagemcom_xt211_quirky_body_is_passed_up_whole(corpus):
    # Not A-XDR (untagged class ids inside): the readings layer decides.
    entry = corpus["cz-sagemcom-xt211-compact"]
    notes, log = decode(entry)
    assert log.total() == 0
    raw = bytes.fromhex(entry["hex"])
    assert notes[0]["body"] == raw[6:].hex()  # 0F | invoke id (4) | 00 | body


# EnergyICT's public Java tests of its DLMS push parser (EventPushNotificationParserTest; found
# with the stored code index, id 6699459106) cipher an event-notification-request (C2) with
# published keys, at security 0x20 (no tag) and 0x30; the DLMS wrapper's 8 bytes are left off.
EICT_KEY = bytes.fromhex("EFD82FCB93E5826ED805E38A6B2EC9F1")
EICT_AUTH_KEY = bytes.fromhex("B6C52294F40A30B9BDF9FE4270B03685")
EICT_EVENT_SC20 = bytes.fromhex(
    "db084443303539463433672000000001ba9521c6c8f9ed4f4d5c57680a850e5e8e642f9d9a664d46765c182ee5dabc"
    "33aef24bc6b7d7e2688749d3ef523a5d521b71c27829e852f01aba7e615b56b017511c696ebc69fc8da85f94f5fea6"
    "09425a6650a463fbf8fc97e20aed4f62a09aa302")
EICT_EVENT_SC30 = bytes.fromhex(
    "db08444330353946343373300000004069b91c449c059a907f83cd7e2d296789598e09b84c5189042eadc17f2b3e6f"
    "09e52e3abc26f6eccdd24c787653c9dff71df92426f198bdf479f910e58c3f33a10766b10db7435e1df6b434b57684"
    "f7ee5157aca9f6658a5a7f2e2f133fdd87f3309d65cf1660bb26fef3749f40c3")


@pytest.mark.parametrize("apdu_bytes,auth_key", [
    (EICT_EVENT_SC20, None), (EICT_EVENT_SC30, None), (EICT_EVENT_SC30, EICT_AUTH_KEY)])
def test_a_ciphered_event_notification_is_malformed_not_a_wrong_key(apdu_bytes, auth_key):
    # Decrypted with the right key it opens with C2: an APDU a meter sends, not a push. Without
    # a tag to check, "check the key" sent the user after a key that was right.
    log = ErrorLog()
    notes = read_all(apdu.ApduReader(log, EICT_KEY, auth_key), [apdu_bytes])
    assert notes == [] and dict((k, n) for k, n in log.counts.items() if n) == {"malformed": 1}
    assert log.last_error.startswith("event-notification-request (APDU tag 0xc2)")


def test_a_wrong_key_on_the_event_notification_still_says_check_the_key():
    log = ErrorLog()
    assert read_all(apdu.ApduReader(log, bytes(16), None), [EICT_EVENT_SC20]) == []
    assert log.counts["authentication"] == 1 and log.last_error.startswith("authentication failed")


def test_a_wrong_key_whose_garbage_opens_with_c2_still_says_check_the_key():
    # C2 and then neither 00 nor 01 (the event's time is OPTIONAL): a wrong key's garbage,
    # which named one push in 256 an event notification (a review).
    from apdu_support import cipher

    apdu_bytes = cipher(b"\xc2\x5a" + bytes(40), bytes(16), sc=0x20)
    log = ErrorLog()
    assert read_all(apdu.ApduReader(log, bytes(16), None), [apdu_bytes]) == []
    assert log.counts["authentication"] == 1 and log.counts["malformed"] == 0
