"""A dongle joins a meter's line at any byte, and lines carry stray bytes.

What a user expects, whatever the framing: the first whole push after the join comes
out, a damaged one is counted once and publishes nothing, and one stray byte costs
no push but its own. Found by a probe that joined real captures and synthetic
pushes at every offset (session 29); each case here failed before:

- a bare-APDU line (no link layer) with a stray 68, 7E A0 or "/ABC" between pushes,
  or joined at a 68 byte, locked the framer on M-Bus, HDLC or DSMR and passed over
  every push for ~2 kB of line;
- an HDLC line joined mid-frame took a GBT block header (E0 …) among the frame's
  ciphertext for a bare APDU, locked on bare APDUs, and then lost every push;
- joined mid-push, a bare line lost pushes to a GBT header in the partial push whose
  length swallowed the next push's start;
- a plaintext frame that lost or gained a byte, first after the join, went uncounted
  and a data-notification inside it was published as a push;
- a DSMR telegram without CRC cut short, first after the join, went uncounted;
- (from a second probe of these fixes) a first M-Bus frame whose two L bytes disagree,
  a line of bare GBT blocks joined mid-push, and a bare line with idle bytes between
  its pushes, which never locked; (from a review) a lock taken at the first byte that
  never lifted, and bare GBT blocks with idle bytes between them;
- "/" and three letters among binary bytes waited for a "!" until the buffer was
  full (an overflow counted);
- (session 30) a false general-ciphering start among the joined bytes swallowed the
  head of a damaged first frame, and the data-notification inside came out as a push.
"""

import pytest

import decoder
import decoder_support as ds
from conftest import load_corpus

CORPUS = load_corpus()


def capture(cid):
    entry = CORPUS[cid]
    return bytes.fromhex(entry["hex"]) if entry.get("hex") else entry["text"].encode("latin-1")


def keys(cid):
    entry = CORPUS[cid]
    return {"key": entry.get("key_hex"), "auth_key": entry.get("auth_key_hex")}


def decode(data, chunk=None, **kw):
    """(telegrams as JSON text, non-zero error counts)."""
    telegrams, dec = ds.decode_all(data, chunk=chunk, **kw)
    return [decoder.telegram_json(t) for t in telegrams], {k: n for k, n in dec.errors.counts.items() if n}


def one(data, **kw):
    telegrams, errors = decode(data, **kw)
    assert len(telegrams) == 1 and not errors, errors
    return telegrams[0]


BARE_LINES = ["at-kaifa-vorarlberg-plain", "lu-smarty-dsmr-encrypted", "ch-e450-gh934-apdu"]


@pytest.mark.parametrize("cid", BARE_LINES)
@pytest.mark.parametrize("stray, kind", [(b"\x68", "malformed"), (b"\x7e\xa0", None), (b"/ABC\r\n", "overflow")])
@pytest.mark.parametrize("chunk", [None, 1])
def test_a_stray_byte_on_a_bare_line_costs_no_push(cid, stray, kind, chunk):
    # A whole header line ("/ABC" and a line end) waits for its "!" until the framer's
    # buffer (2 kB) is full: the pushes behind it come out then.
    push = capture(cid)
    want = one(push, **keys(cid))
    after = 2048 // len(push) + 3
    telegrams, errors = decode(push * 3 + stray + push * after, chunk=chunk, **keys(cid))
    assert telegrams == [want] * (3 + after)
    assert sum(errors.values()) == 1 and (kind is None or kind in errors), errors


@pytest.mark.parametrize("cid", ["at-kaifa-vorarlberg-plain", "hr-ie5-raw-untagged", "lu-smarty-dsmr-encrypted"])
def test_a_bare_line_joined_at_a_68_byte_loses_no_push(cid):
    push = capture(cid)
    at = push.index(b"\x68", 1)  # the dongle's first byte
    want = one(push, **keys(cid))
    telegrams, errors = decode(push[at:] + push * 6, **keys(cid))
    assert telegrams == [want] * 6
    assert sum(errors.values()) <= 1, errors


@pytest.mark.parametrize("join", [15, 100, 281])
@pytest.mark.parametrize("chunk", [None, 1, 64])
def test_an_hdlc_line_joined_mid_frame_is_not_taken_for_bare_apdus(join, chunk):
    # The Kamstrup push holds E0 bytes in its ciphertext; at these joins one read as a GBT
    # block and the line was locked on bare APDUs for good.
    cid = "dk-kamstrup-omnipower-enc-keyed"
    push = capture(cid)
    want = one(push, **keys(cid))
    telegrams, errors = decode(push[join:] + push * 6, chunk=chunk, **keys(cid))
    assert telegrams == [want] * 6
    assert errors == {}


def _glo(seed):
    body, _ = ds.sil_info_1_body(seed, serial="7100%04d" % seed)
    when = ds.cosem_datetime(2026, 11, 23, 21, 5, 5 + seed % 50, deviation=-60)
    plain = ds.data_notification(body, invoke_id=100 + seed, when=when)
    return ds.cipher(plain, ds.SIL_KEY, ds.SIL_TITLE, 1000 + seed, ds.SIL_AUTH_KEY, sc=0x30)


# (first push's seed, the byte of it the dongle joins at): each lost 1 to 5 pushes before.
@pytest.mark.parametrize("seed, join", [(1145, 247), (8975, 65), (9549, 60)])
def test_a_bare_line_joined_mid_push_loses_no_whole_push(seed, join):
    pushes = [_glo(seed + i) for i in range(8)]
    kw = {"key": ds.SIL_KEY.hex(), "auth_key": ds.SIL_AUTH_KEY.hex()}
    want = [one(p, **kw) for p in pushes[1:]]
    telegrams, errors = decode(pushes[0][join:] + b"".join(pushes[1:]), **kw)
    assert telegrams == want
    assert sum(errors.values()) <= 1, errors  # the join's own leftover, at most


@pytest.mark.parametrize("idle", [b"\x00", b"\x00" * 16, b"\xff\xff"])
@pytest.mark.parametrize("stray", [b"\x68\x10\x10\x68", b"\x7e\xa0"])
def test_a_bare_line_with_idle_bytes_between_pushes_locks_on_them(idle, stray):
    # Every push there is found by a hunt: the line was never locked on bare APDUs, and a
    # stray frame start locked it on M-Bus or HDLC (4 pushes of 12 lost).
    pushes = [_glo(seed) for seed in range(1, 13)]
    kw = {"key": ds.SIL_KEY.hex(), "auth_key": ds.SIL_AUTH_KEY.hex()}
    data = b"".join(p + (stray if i == 3 else b"") + idle for i, p in enumerate(pushes))
    telegrams, errors = decode(data, **kw)
    # Each push alone may wait for bytes a frame starting inside it would need: framed
    # instead, it reads the same.
    assert telegrams == [one(ds.hdlc_frame(b"\xe6\xe7\x00" + p), **kw) for p in pushes]
    assert sum(errors.values()) == 1, errors


def _small(seed):
    body = ds.structure([ds.octets(b"7100%04d" % seed), ds.uint32(1000 + seed), ds.uint32(2000 + seed)])
    return ds.data_notification(body, invoke_id=100 + seed)


def _damaged_first_frame_cases():
    mbus = [ds.mbus_segmented(_small(s), 200) for s in range(1, 5)]
    dropped = mbus[0][: len(mbus[0]) // 2] + mbus[0][len(mbus[0]) // 2 + 1 :]  # one byte lost
    yield "m-bus", ds.mbus_segmented(_small(9), 200)[-13:], dropped, mbus[1:]
    hdlc = [ds.hdlc_frame(b"\xe6\xe7\x00" + _small(s)) for s in range(1, 5)]
    gained = hdlc[0][:20] + b"\x55" + hdlc[0][20:]  # one byte more
    yield "hdlc", ds.hdlc_frame(b"\xe6\xe7\x00" + _small(9))[-12:], gained, hdlc[1:]


@pytest.mark.parametrize("name, joined, damaged, good", list(_damaged_first_frame_cases()))
@pytest.mark.parametrize("where", ["after a join", "at the first byte"])
@pytest.mark.parametrize("chunk", [None, 1])
def test_a_damaged_first_frame_is_counted_and_publishes_nothing(name, joined, damaged, good, where, chunk):
    want = [one(g) for g in good]
    telegrams, errors = decode((joined if where == "after a join" else b"") + damaged + b"".join(good), chunk=chunk)
    assert telegrams == want  # nothing read out of the damaged frame's inside
    assert errors == {"malformed": 1}


def _sil_frame(seed):
    body, _ = ds.sil_info_1_body(seed, serial="7100%04d" % seed)
    when = ds.cosem_datetime(2026, 11, 23, 21, 5, 5 + seed % 50, deviation=-60)
    return ds.hdlc_frame(ds.LLC + ds.data_notification(body, invoke_id=100 + seed, when=when))


def _sil_mbus(seed):
    body, _ = ds.sil_info_1_body(seed, serial="7100%04d" % seed)
    when = ds.cosem_datetime(2026, 11, 23, 21, 5, 5 + seed % 50, deviation=-60)
    return ds.mbus_segmented(ds.data_notification(body, invoke_id=100 + seed, when=when), 250)


@pytest.mark.parametrize("framing, join, gained_at", [
    ("hdlc", 77, 247), ("hdlc", 109, 159), ("hdlc", 149, 445), ("hdlc", 401, 247), ("hdlc", 561, 120),
    ("hdlc", 595, 302), ("m-bus", 523, 137), ("m-bus", 526, 192), ("m-bus", 535, 225)])
@pytest.mark.parametrize("chunk", [None, 1])
def test_a_false_ciphering_start_in_the_joined_bytes_does_not_swallow_a_damaged_frame(framing, join, gained_at, chunk):
    # A DD in what is left of the joined push reads as a general-ciphering APDU whose
    # length reaches into the next frame, which gained a byte (its FCS fails). Taken, it
    # failed in the APDU layer and left the framer in sync inside that frame, where the
    # plaintext data-notification came out as a push of values no meter sent: 2,392 of
    # 52,416 joins and damages of SiL pushes (session 30). A frame whose HDLC header
    # checks makes the "APDU" around its start noise, as a whole frame does; on M-Bus
    # (108 of 37,236 there), a frame whose 68 L L 68 is in place.
    frames = [(_sil_frame if framing == "hdlc" else _sil_mbus)(seed) for seed in range(1, 6)]
    damaged = frames[0][:gained_at] + b"\x55" + frames[0][gained_at:]
    telegrams, errors = decode(frames[4][join:] + damaged + b"".join(frames[1:4]), chunk=chunk)
    assert telegrams == [one(f) for f in frames[1:4]]
    assert errors == {"malformed": 1}


@pytest.mark.parametrize("flip", [1, 2])
def test_an_m_bus_frame_whose_length_bytes_disagree_at_the_first_byte_publishes_nothing(flip):
    # 68 L L' 68: one of the header's repeated bytes damaged. Not locked on M-Bus, the hunt
    # read the data-notification inside as a bare push, its checksum never checked.
    frames = [ds.mbus_segmented(_small(s), 200) for s in range(1, 6)]
    first = bytearray(frames[0])
    first[flip] ^= 0x01
    telegrams, errors = decode(bytes(first) + b"".join(frames[1:]))
    assert telegrams == [one(f) for f in frames[1:]]
    assert errors == {"malformed": 1}


def _gbt_line(count, ciphered):
    pushes = []
    for seed in range(1, count + 1):
        body, _ = ds.sil_info_1_body(seed, serial="7100%04d" % seed)
        apdu = ds.data_notification(body, invoke_id=100 + seed,
                                    when=ds.cosem_datetime(2026, 11, 23, 21, 5, seed % 50, deviation=-60))
        if ciphered:
            apdu = ds.cipher(apdu, ds.SIL_KEY, ds.SIL_TITLE, 1000 + seed, ds.SIL_AUTH_KEY, sc=0x30)
        pushes.append(b"".join(ds.gbt_blocks(apdu, 120)))
    return pushes


@pytest.mark.parametrize("ciphered", [False, True])
@pytest.mark.parametrize("join", [0, 50])
def test_a_line_of_bare_gbt_blocks_joined_mid_push_decodes_from_the_next_push(ciphered, join):
    kw = {"key": ds.SIL_KEY.hex(), "auth_key": ds.SIL_AUTH_KEY.hex()}
    pushes = _gbt_line(8, ciphered)
    want = [one(p, **kw) for p in pushes]
    telegrams, errors = decode(b"".join(pushes)[join:], **kw)
    assert telegrams == (want if join == 0 else want[1:])
    assert errors == {}


@pytest.mark.parametrize("ciphered", [False, True])
@pytest.mark.parametrize("idle", [b"\x00", b"\x00\x00", b"\xff"])
def test_a_line_of_bare_gbt_blocks_with_idle_bytes_between_them_decodes(ciphered, idle):
    # Block 1 at the first byte does not lock; the hunt refused every block after it.
    kw = {"key": ds.SIL_KEY.hex(), "auth_key": ds.SIL_AUTH_KEY.hex()}
    pushes = []
    for seed in range(1, 9):
        body, _ = ds.sil_info_1_body(seed, serial="7100%04d" % seed)
        apdu = ds.data_notification(body, invoke_id=100 + seed,
                                    when=ds.cosem_datetime(2026, 11, 23, 21, 5, seed, deviation=-60))
        if ciphered:
            apdu = ds.cipher(apdu, ds.SIL_KEY, ds.SIL_TITLE, 1000 + seed, ds.SIL_AUTH_KEY, sc=0x30)
        pushes.append(ds.gbt_blocks(apdu, 120))
    want = [one(b"".join(blocks), **kw) for blocks in pushes]
    telegrams, errors = decode(b"".join(idle.join(blocks) + idle for blocks in pushes), **kw)
    assert telegrams == want
    assert errors == {}


@pytest.mark.parametrize("stray", [b"\x7e\xa0\x03", b"\x68\x11\x11\x00"])
def test_a_lock_taken_at_the_first_byte_lifts_like_any_other(stray):
    # A stray frame start at the first byte of a bare line locks the line on HDLC or M-Bus;
    # that lock never lifted (its count of bytes hunted started far below zero).
    push = capture("at-kaifa-vorarlberg-plain")
    want = one(push)
    telegrams, errors = decode(stray + push * 40)
    assert len(telegrams) >= 40 - 2048 // len(push) - 1 and set(telegrams) == {want}
    assert errors == {"malformed": 1}


def _zero_rich(k):
    # Values a false bare APDU is made of: 0F (a uint8 15) then a zero uint32, E0 (a uint8
    # 224), runs of 00 in registers and octet-strings.
    items = [ds.uint8(15), ds.uint32(0), ds.octets(bytes(20)), ds.uint64(0), ds.uint64(0), ds.uint64(0),
             ds.uint8(15), ds.uint32(0), ds.octets(bytes(4)), ds.uint32(1000 + k), ds.uint32(2000 + k),
             ds.uint8(224), ds.uint32(0), ds.float64(1.5)]
    return ds.hdlc_frame(b"\xe6\xe7\x00\x0f" + k.to_bytes(4, "big") + b"\x00\x02" + bytes([len(items)]) + b"".join(items))


@pytest.mark.parametrize("chunk", [None, 1, 7])
def test_zero_runs_between_false_bare_apdus_in_a_joined_frame_do_not_lock_the_line(chunk):
    # A change that did not count 00 and FF between two bare APDUs found by a hunt (so
    # that a bare line with NULs between its pushes locks) locked this plaintext HDLC line
    # on bare APDUs after a join: two false 0F APDUs 28 bytes apart, 24 of them 00. A
    # false GBT block then swallowed every next frame's head, for good (a review in
    # session 30; reverted). Every push after the join must come out.
    frames = [_zero_rich(k) for k in range(1, 7)]
    telegrams, _ = decode(frames[0][14:] + b"".join(frames[1:]), chunk=chunk)
    for frame in frames[1:]:
        assert one(frame) in telegrams


@pytest.mark.parametrize("chunk", [None, 1])
def test_a_dsmr_telegram_without_crc_cut_short_after_the_join_is_counted(chunk):
    telegram = capture("dsmr-iskra-am551-nocrc")
    telegram = telegram if telegram.endswith(b"\r\n") else telegram + b"\r\n"
    want = one(telegram)
    cut = telegram[: len(telegram) * 6 // 10]
    telegrams, errors = decode(telegram[len(telegram) // 2 :] + cut + telegram * 3, chunk=chunk)
    assert telegrams == [want] * 3
    assert errors == {"malformed": 1}


@pytest.mark.parametrize("cid", ["ch-am550-ekz-2020", "at-kaifa-netznoe-doc"])
@pytest.mark.parametrize("junk", [b"/ABCd\x01\x02", b"\x12\x34/ABCd\x01\x02"])
def test_a_slash_and_three_letters_in_binary_bytes_are_no_dsmr_header(cid, junk):
    push = capture(cid)
    want = one(push, **keys(cid))
    telegrams, errors = decode(junk + push * 4, **keys(cid))
    assert telegrams == [want] * 4
    assert "overflow" not in errors, errors


def test_a_dsmr_header_line_of_text_still_opens_a_telegram():
    lines = ["1-0:1.8.1(000123.456*kWh)", "1-0:1.7.0(01.193*kW)"]
    for ident in ("KFM5KAIFA-METER", "Ene5\\T211 ESMR 5.0", "ISK5\\2M550T-1012" + "x" * 50):
        telegrams, errors = decode(ds.dsmr_telegram(lines, ident=ident))
        assert len(telegrams) == 1 and errors == {}, (ident, errors)


def test_the_joins_read_the_same_on_micropython():
    from test_parity import assert_same

    kam = capture("dk-kamstrup-omnipower-enc-keyed")
    smarty = capture("lu-smarty-dsmr-encrypted")
    jobs = [{"id": "kamstrup/281", "hex": (kam[281:] + kam * 3).hex(), "chunk": 7,
             "key": CORPUS["dk-kamstrup-omnipower-enc-keyed"]["key_hex"]},
            {"id": "smarty/68", "hex": (smarty * 2 + b"\x68" + smarty * 2).hex(), "chunk": 5,
             "key": CORPUS["lu-smarty-dsmr-encrypted"]["key_hex"]}]
    assert_same(jobs)
