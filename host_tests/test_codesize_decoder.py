"""What the decoder keeps in RAM, stated as behaviour (issue 3: the gateway in a 96 kB heap).

On MicroPython whatever the decoder loads stays in RAM for as long as it runs: ~240 bytes a
class, ~270 a module, ~50 a function, ~40 a long string, and its caches' data in full. These
tests pin the choices that keep that small, so that undoing one is a decision, not an accident:

- only the errors some caller catches by name are classes; the others build a DecodeError
  of their kind;
- a gateway builds the one meter profile it resolves, not all ten;
- the CRC-16/ARC table, the A-XDR tree path and the compact-array reader wait for a meter
  that needs them;
- the OBIS-tagged reader keeps one key string per OBIS code across all the lists a meter
  sends, so the SiL meter's two alternating lists make no new keys push after push.
"""

import json

import pytest
import simulate

import decoder
from decoder import axdr, errors
from decoder.errors import AxdrError, DecodeError, ErrorLog, Incomplete, SecurityError
from mp import run_micropython


@pytest.mark.parametrize("make,kind", [
    (errors.DecodeError, "malformed"),
    (errors.checksum_error, "checksum"),
    (errors.overflow_error, "overflow"),
    (errors.sequence_error, "sequence"),
    (SecurityError, "authentication"),
    (AxdrError, "malformed"),
])
def test_every_decode_error_is_a_decode_error_counted_under_its_kind(make, kind):
    error = make("what went wrong")
    assert isinstance(error, DecodeError) and not isinstance(error, Incomplete)
    assert error.kind == kind and str(error) == "what went wrong"
    log = ErrorLog()
    log.record(error)
    assert log.counts[kind] == 1 and log.last_error == "what went wrong"


def test_only_the_errors_caught_by_name_are_classes_of_their_own():
    assert errors.DecodeError is DecodeError
    for cls in (SecurityError, AxdrError):
        assert issubclass(cls, DecodeError)
    for make in (errors.checksum_error, errors.overflow_error, errors.sequence_error):
        assert type(make("x")) is DecodeError
    assert DecodeError("x").kind == "malformed"  # the instance attribute is per error


def test_an_error_log_counts_a_decode_error_raised_in_its_with_block_and_nothing_else():
    log = ErrorLog()
    with log:
        raise errors.checksum_error("HDLC FCS mismatch")
    assert log.counts["checksum"] == 1 and log.last_error == "HDLC FCS mismatch"
    with pytest.raises(ValueError):
        with log:
            raise ValueError("not meter data")
    with pytest.raises(Incomplete):
        with log:
            raise Incomplete()
    assert log.total() == 1


def test_a_telegram_is_a_tuple_with_read_only_names():
    t = decoder.Telegram("2026-11-25T12:00:00", "53494d0102030405", 7, {"1-0:1.7.0": (1, "W")}, True)
    assert (t.meter_time, t.system_title, t.frame_counter, t.tag_checked) == (
        "2026-11-25T12:00:00", "53494d0102030405", 7, True)
    assert t.readings == {"1-0:1.7.0": (1, "W")}
    with pytest.raises(AttributeError):
        t.frame_counter = 8


def test_date_time_date_and_time_are_one_class_told_apart_by_tag():
    raw = bytes([0x07, 0xEA, 11, 25, 3, 12, 0, 0, 0, 0xFF, 0xC4, 0])
    value, end = axdr.decode(b"\x19" + raw)
    assert end == 13 and value == axdr.DateTime(raw) and value.tag == axdr.DATE_TIME
    assert value != axdr.Date(raw[:5]) and axdr.Date(raw[:5]).tag == axdr.DATE
    assert axdr.decode(b"\x1b\x0c\x00\x00\x00")[0] == axdr.Time(b"\x0c\x00\x00\x00")
    assert repr(axdr.Time(b"\x0c\x00\x00\x00")) == "Time(0c000000)"


def test_a_compact_array_description_cut_short_is_incomplete_to_skip_and_corrupt_to_decode():
    head = b"\x13\x01\x00\x03"  # compact-array of an array of 3 ... (description cut here)
    with pytest.raises(Incomplete):
        axdr.skip(head, 0)
    with pytest.raises(AxdrError):
        axdr.decode(head)


def _sil_telegrams(pushes):
    dec = decoder.Decoder(simulate.DEFAULT_KEY, simulate.DEFAULT_AUTH_KEY)
    out = []
    for n in range(pushes):
        out.extend(dec.feed(simulate.push_bytes(n, minute_every=2)))
    assert dec.errors.total() == 0
    return out


def test_alternating_tagged_lists_reuse_their_key_strings():
    # The key cache is per process and bounded (_MAX_KEYS): the corpus tests run in this
    # process before may have filled it, as no single meter does. Start it empty.
    from decoder import obis_tagged

    del obis_tagged._codes[:]
    del obis_tagged._texts[:]
    # Push 0: minute list and 5-second list; push 1: 5-second list; push 2: both again.
    telegrams = _sil_telegrams(3)
    assert len(telegrams) == 5
    first, later = telegrams[:2], telegrams[3:]
    for a, b in zip(first, later):
        assert list(a.readings) == list(b.readings)
        assert all(x is y for x, y in zip(a.readings, b.readings)), "key strings made anew"


SIL_RUN = r'''
import json, sys
from decoder import Decoder, crc, profiles
job = json.loads(sys.stdin.readline())
dec = Decoder(job["key"], job["auth_key"])
count = 0
for frame in job["frames"]:
    count += len(dec.feed(bytes.fromhex(frame)))
print(json.dumps({
    "telegrams": count, "errors": dec.errors.total(),
    "modules": sorted(k for k in sys.modules if k.startswith("decoder")),
    "profiles_built": sorted(profiles._built),
    "all_profiles_built": "PROFILES" in profiles.__dict__,
    "arc_table_built": crc._arc is not None,
}))
'''


@pytest.fixture(scope="module")
def sil_run_on_micropython():
    frames = [simulate.push_bytes(n, minute_every=2).hex() for n in range(4)]
    job = {"key": simulate.DEFAULT_KEY, "auth_key": simulate.DEFAULT_AUTH_KEY, "frames": frames}
    proc = run_micropython(["-c", SIL_RUN], heapsize="512k", compiled=True,
                           input_bytes=(json.dumps(job) + "\n").encode())
    assert proc.returncode == 0, proc.stderr.decode() + proc.stdout.decode()
    result = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    assert result["telegrams"] == 6 and result["errors"] == 0
    return result


def test_a_sil_meter_makes_the_decoder_build_one_profile(sil_run_on_micropython):
    assert sil_run_on_micropython["profiles_built"] == ["generic"]
    assert not sil_run_on_micropython["all_profiles_built"]


def test_a_sil_hdlc_meter_never_loads_what_other_meters_need(sil_run_on_micropython):
    loaded = set(sil_run_on_micropython["modules"])
    for lazy in ("decoder.obis_push", "decoder.obis_untagged", "decoder.axdr_compact", "decoder.dsmr_parse",
                 "decoder.bare", "decoder.axdr_stamp"):  # bare: the SiL stream opens on an HDLC flag
        assert lazy not in loaded, lazy
    assert "decoder.obis_tagged" in loaded  # the reader the SiL pushes do need
    assert not sil_run_on_micropython["arc_table_built"]  # DSMR's CRC only
