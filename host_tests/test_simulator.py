"""The meter simulator (tools/simulate.py, tools/simframes.py) sends what it claims.

Its frames are checked with independent means: checksums recomputed here,
the GCM layer opened with the ``cryptography`` package, and the whole push
decoded by the firmware decoder and compared with ``simulate.expected``.
"""

import socket
import struct
import subprocess
import sys
import time

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import simframes as sf
import simulate
from decoder import Decoder
from decoder_support import decode_all
from gateway_support import free_port


def hdlc_frames(data):
    frames, pos = [], 0
    while pos < len(data):
        assert data[pos] == 0x7E
        length = struct.unpack(">H", data[pos + 1:pos + 3])[0] & 0x7FF
        frames.append(data[pos + 1:pos + 1 + length])
        pos += length + 2
    return frames


def test_crc16_x25_matches_the_standard_check_value():
    assert sf.crc16_x25(b"123456789") == 0x906E  # CRC-16/X-25 catalogue check


def test_hdlc_frames_have_valid_hcs_and_fcs_and_segmentation_bits():
    frames = hdlc_frames(simulate.push_bytes(0, "hdlc"))
    assert len(frames) >= 3
    for frame in frames:
        assert struct.unpack("<H", frame[6:8])[0] == sf.crc16_x25(frame[:6])
        assert struct.unpack("<H", frame[-2:])[0] == sf.crc16_x25(frame[:-2])
    more = [bool(f[0] & 0x08) for f in frames]
    assert more.count(False) == 2  # the 5 s list and the minute list each end once


def test_mbus_frames_have_valid_checksums_and_dlms_segment_numbers():
    data = simulate.push_bytes(0, "mbus")
    pos, cis = 0, []
    while pos < len(data):
        assert data[pos] == 0x68 and data[pos + 3] == 0x68 and data[pos + 1] == data[pos + 2]
        length = data[pos + 1]
        user = data[pos + 4:pos + 4 + length]
        assert data[pos + 4 + length] == sum(user) & 0xFF and data[pos + 5 + length] == 0x16
        assert user[3:5] == b"\x01\x67"  # STSAP, DTSAP
        cis.append(user[2])
        pos += length + 6
    assert cis == [0x00, 0x01, 0x12, 0x00, 0x11]  # two APDUs: 3 and 2 segments, last bit 0x10


def test_ciphertext_opens_with_an_independent_aes_gcm():
    apdu = sf.glo_cipher(b"\x0f\x00\x00\x00\x01\x00hello", b"K" * 16, b"SIM12345", 7, b"A" * 16)
    assert apdu[:2] == b"\xdb\x08" and apdu[2:10] == b"SIM12345"
    content = apdu[11:]
    assert content[0] == 0x30 and struct.unpack(">I", content[1:5])[0] == 7
    ciphertext, tag = content[5:-12], content[-12:]
    full = AESGCM(b"K" * 16).encrypt(b"SIM12345" + struct.pack(">I", 7), b"\x0f\x00\x00\x00\x01\x00hello", b"\x30" + b"A" * 16)
    assert full[:-16] == ciphertext and full[-16:-4] == tag


@pytest.mark.parametrize("framing", ["hdlc", "mbus"])
def test_every_push_decodes_to_exactly_the_expected_readings(framing):
    dec = Decoder(simulate.DEFAULT_KEY, simulate.DEFAULT_AUTH_KEY)
    for n in range(13):
        telegrams = dec.feed(simulate.push_bytes(n, framing))
        want = simulate.expected(n)
        assert len(telegrams) == len(want)
        for t, (kind, values) in zip(telegrams, want):
            assert t.tag_checked is True
            assert t.meter_time == simulate.iso_time(n)
            for code, (value, unit) in values.items():
                assert t.readings[code][0] == pytest.approx(value) and t.readings[code][1] == unit
    assert dec.errors.total() == 0


def test_values_change_from_push_to_push_and_energy_never_decreases():
    powers = [simulate.info_values(n)["1-0:1.7.0"][0] for n in range(20)]
    assert len(set(powers)) > 10
    energy = [simulate.energies(n)["1-0:1.8.0"][0] for n in range(0, 200, 12)]
    assert energy == sorted(energy) and energy[-1] > energy[0]


def test_the_server_paces_pushes_and_restarts_per_connection():
    sim = simulate.Simulator(0, "hdlc", interval=0.05, minute_every=12).start()
    try:
        for _ in range(2):
            with socket.create_connection(("127.0.0.1", sim.port), 5) as s:
                first = s.recv(4096)
                assert first[:1] == b"\x7e"
            sim.drop()
        assert sim.connections == 2
    finally:
        sim.stop()


@pytest.mark.parametrize("utc, local, deviation, status", [
    ((2026, 11, 28, 10, 22, 7), "2026-11-28T11:22:07+01:00", -60, 0),  # CET
    ((2026, 7, 1, 10, 0, 33), "2026-07-01T12:00:33+02:00", -120, 0x80),  # CEST, the DST bit set
    ((2026, 12, 31, 23, 30, 0), "2027-01-01T00:30:00+01:00", -60, 0),  # already next year in Lausanne
    ((2027, 3, 28, 0, 59, 55), "2027-03-28T01:59:55+01:00", -60, 0),  # the last CET push that night
    ((2027, 3, 28, 1, 0, 0), "2027-03-28T03:00:00+02:00", -120, 0x80),  # 02:00 does not exist
])
def test_the_wall_clock_stamps_swiss_time_as_a_meter_does(utc, local, deviation, status):
    import calendar

    stamp = simulate.wall_stamp(calendar.timegm(utc + (0, 0, 0)))
    assert struct.unpack(">h", stamp[9:11])[0] == deviation and stamp[11] == status
    dec = Decoder(simulate.DEFAULT_KEY, simulate.DEFAULT_AUTH_KEY)
    assert [t.meter_time for t in dec.feed(simulate.push_bytes(1, when=stamp))] == [local]


def test_on_the_wall_clock_the_first_push_tells_the_time_of_day():
    # The newcomer's first look: the simulated meter told 2026-11-25 12:00 whatever the date.
    import datetime
    from zoneinfo import ZoneInfo

    dec = Decoder(simulate.DEFAULT_KEY, simulate.DEFAULT_AUTH_KEY)
    telegrams = []
    sim = simulate.Simulator(0, "hdlc", wall_clock=True).start()
    try:
        with socket.create_connection(("127.0.0.1", sim.port), 5) as s:
            s.settimeout(10)
            while not telegrams:  # push n of the current 5 s goes out at once
                telegrams += dec.feed(s.recv(4096))
    finally:
        sim.stop()
    first = datetime.datetime.fromisoformat(telegrams[0].meter_time)
    assert 0 <= time.time() - first.timestamp() < 10
    assert first.utcoffset() == datetime.datetime.now(ZoneInfo("Europe/Zurich")).utcoffset()


def test_on_the_wall_clock_the_minute_list_comes_at_second_00():
    sim = simulate.Simulator(0, wall_clock=True)  # not started: its stamps are enough
    try:
        dec = Decoder(simulate.DEFAULT_KEY, simulate.DEFAULT_AUTH_KEY)
        for n in range(25):
            telegrams = dec.feed(simulate.push_bytes(n, when=sim.stamp(n)))
            at_00 = telegrams[0].meter_time[17:19] == "00"
            assert at_00 == any("0-0:1.0.0" in t.readings for t in telegrams) == (n % 12 == 0)
    finally:
        sim._listener.close()


def test_the_wall_clock_refuses_pushes_faster_than_the_meters():
    with pytest.raises(ValueError, match="5 s"):
        simulate.Simulator(0, interval=0.05, wall_clock=True)


def test_the_command_line_starts_a_server(tmp_path):
    number = free_port()
    proc = subprocess.Popen([sys.executable, "tools/simulate.py", "--port", str(number), "--fast", "--framing", "mbus"],
                            stdout=subprocess.PIPE)
    try:
        assert b"tcp://127.0.0.1:%d" % number in proc.stdout.readline()
        with socket.create_connection(("127.0.0.1", number), 5) as s:
            assert s.recv(1)[:1] == b"\x68"
    finally:
        proc.terminate()
        proc.wait(5)


def test_count_sends_that_many_pushes_then_closes_and_exits():
    # It went quiet with the connection open and the process running: a reader that reads
    # to the end waited for ever.
    number = free_port()
    proc = subprocess.Popen([sys.executable, "tools/simulate.py", "--port", str(number), "--fast", "--count", "3",
                             "--key", "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"], stdout=subprocess.PIPE)
    try:
        proc.stdout.readline()
        data = b""
        with socket.create_connection(("127.0.0.1", number), 5) as s:
            s.settimeout(5)
            while True:
                piece = s.recv(4096)
                if not piece:
                    break
                data += piece
        assert proc.wait(5) == 0
    finally:
        proc.kill()
        proc.wait(5)
    telegrams, _ = decode_all(data, key=bytes.fromhex("00112233445566778899aabbccddeeff"),
                              auth_key=bytes.fromhex(simulate.DEFAULT_AUTH_KEY))
    assert len(telegrams) == 3 + 1  # push 0 carries the minute list too


@pytest.mark.parametrize("args, said", [
    (["--key", "ZZ"], "--key"), (["--key", "1234"], "--key"), (["--minute-every", "0"], "--minute-every"),
    (["--interval", "-1"], "--interval"), (["--port", "99999"], "--port"), (["--count", "0"], "--count"),
    (["--now", "--fast"], "--now"), (["--now", "--interval", "1"], "--now"),
])
def test_bad_arguments_are_refused_naming_the_option(args, said):
    # Unchecked, the server thread died at the first client, which then got no byte.
    done = subprocess.run([sys.executable, "tools/simulate.py"] + args, capture_output=True, timeout=20)
    assert done.returncode == 2 and ("argument %s" % said).encode() in done.stderr
