"""tools/decode.py: the host CLI contract other tools rely on.

stdout is JSON Lines (one telegram each), stderr has one ``error:`` line per
problem, exit status 0 (decoded something) / 1 (nothing) / 2 (bad arguments).
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import decoder_support as ds

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "tools", "decode.py")
KEY, AUTH = ds.SIL_KEY.hex(), ds.SIL_AUTH_KEY.hex()


def run(args, data=None):
    return subprocess.run(
        [sys.executable, CLI] + list(args), input=data, capture_output=True, timeout=60, cwd=ROOT
    )


def lines(stdout):
    return [json.loads(line) for line in stdout.decode().splitlines()]


@pytest.fixture
def capture(tmp_path):
    data = b"".join(ds.sil_push(seed=s, frame_counter=100 + s)[0] for s in range(3))
    path = tmp_path / "capture.bin"
    path.write_bytes(data)
    return path, data


def test_a_binary_capture_prints_one_json_object_per_telegram(capture):
    path, _ = capture
    r = run(["--key", KEY, "--auth-key", AUTH, "--meter", "am550", str(path)])
    assert r.returncode == 0, r.stderr
    docs = lines(r.stdout)
    assert [d["frame_counter"] for d in docs] == [100, 101, 102]
    for d in docs:
        assert list(d) == ["meter_time", "system_title", "frame_counter", "readings"]
        assert d["system_title"] == ds.SIL_TITLE.hex()
        assert d["readings"]["1-0:32.7.0"]["unit"] == "V"
        assert d["readings"]["0-0:96.1.1"] == {"value": "71000000"}
    assert r.stderr == b""


def test_hex_text_on_stdin_with_any_whitespace(capture):
    _, data = capture
    text = data.hex()
    spaced = "\n".join(" ".join(text[i : i + 2] for i in range(j, min(j + 64, len(text)), 2)) for j in range(0, len(text), 64))
    r = run(["--key", KEY, "--auth-key", AUTH, "--hex", "-"], spaced.encode())
    assert r.returncode == 0, r.stderr
    assert len(lines(r.stdout)) == 3


def test_a_bad_frame_is_one_error_line_and_decoding_goes_on(capture, tmp_path):
    _, data = capture
    first = ds.sil_push(seed=0, frame_counter=100)[0]
    bad = bytearray(data)
    bad[len(first) + 30] ^= 0xFF  # inside the second push's first HDLC frame
    path = tmp_path / "bad.bin"
    path.write_bytes(bytes(bad))
    r = run(["--key", KEY, "--auth-key", AUTH, str(path)])
    assert r.returncode == 0
    assert [d["frame_counter"] for d in lines(r.stdout)] == [100, 102]
    errors = r.stderr.decode().splitlines()
    assert errors and all(line.startswith("error:") for line in errors)


def test_wrong_authentication_key_names_both_keys_and_exits_1(capture):
    path, _ = capture
    r = run(["--key", KEY, "--auth-key", "00" * 16, str(path)])
    assert r.returncode == 1
    assert r.stdout == b""
    errors = r.stderr.decode().splitlines()
    assert len(errors) == 3
    assert all(line.startswith("error:") and "authentication failed" in line for line in errors)
    assert "GUEK" in errors[0] and "GAK" in errors[0]


def test_nothing_decodable_exits_1(tmp_path):
    path = tmp_path / "noise.bin"
    path.write_bytes(b"\x00\x01 hello, not a meter \xff" * 10)
    r = run([str(path)])
    assert r.returncode == 1
    assert r.stdout == b""
    # It said nothing at all (found by a probe: an EasyMeter block without its "/" line).
    assert r.stderr.decode() == ("error: no frame found in 230 bytes (HDLC 7E, M-Bus 68, DSMR \"/\", or a bare "
                                 "APDU 0F/DB/DC/DD/E0): is this a capture of the meter's port?\n")


def test_a_capture_of_only_the_end_of_a_push_says_so(tmp_path):
    # The last M-Bus segment of a TINETZ push (amsreader-firmware issue 155): a good
    # frame, passed over without a count as a dongle joining mid-push does. "No frame
    # found ... is this a capture of the meter's port?" sent the user to the cable.
    path = tmp_path / "tail.hex"
    path.write_text("68 0D 0D 68 53 FF 11 01 67 CD 6B CB 69 13 53 FF 98 34 16\n")
    r = run(["--hex", str(path)])
    assert r.returncode == 1 and r.stdout == b""
    assert r.stderr.decode() == ("error: no whole push in 19 bytes: the frames found are the end of one "
                                 "whose first segments or blocks the capture does not hold\n")


@pytest.mark.parametrize(
    "args,option",
    [
        (["--key", "1234"], "--key"),
        (["--key", "g" * 32], "--key"),
        (["--auth-key", "00" * 17], "--auth-key"),
        (["--meter", "no-such-meter"], "--meter"),
    ],
)
def test_bad_arguments_exit_2_and_name_the_option(capture, args, option):
    path, _ = capture
    r = run(args + [str(path)])
    assert r.returncode == 2
    assert option in r.stderr.decode()
    assert r.stdout == b""


def test_a_missing_file_is_a_bad_argument(tmp_path):
    r = run([str(tmp_path / "absent.bin")])
    assert r.returncode == 2
    assert "error:" in r.stderr.decode()


def _text_column(row):
    return "".join(chr(b) if 32 <= b < 127 else "." for b in row)


def _rows(data, width=16):
    return [(i, data[i:i + width]) for i in range(0, len(data), width)]


# The hex dumps people paste, each written here as its tool writes it (xxd, hexdump -C,
# od -A x -t x1, tshark -x, a serial terminal's log, a C array as xxd -i writes it,
# bytes joined by colons): found by a black-box test, where --hex took plain hex only.
DUMPS = {
    "xxd": lambda d: "\n".join("%08x: %s  %s" % (i, " ".join(r[j:j + 2].hex() for j in range(0, len(r), 2)).ljust(39),
                                                  _text_column(r)) for i, r in _rows(d)),
    "hexdump -C": lambda d: "\n".join("%08x  %s  |%s|" % (i, " ".join("%02x" % b for b in r).ljust(47), _text_column(r))
                                       for i, r in _rows(d)) + "\n%08x" % len(d),
    "od -A x -t x1": lambda d: "\n".join("%06x %s" % (i, " ".join("%02x" % b for b in r))
                                          for i, r in _rows(d)) + "\n%06x" % len(d),
    "tshark -x": lambda d: "\n".join("%04x  %s   %s" % (i, " ".join("%02x" % b for b in r).ljust(47), _text_column(r))
                                      for i, r in _rows(d)),
    "terminal log": lambda d: "\n".join("[12:34:%02d.%03d] RX: %s" % (n % 60, n, " ".join("%02X" % b for b in r))
                                         for n, (_, r) in enumerate(_rows(d, 24))),
    "xxd -i": lambda d: "unsigned char capture_bin[] = {\n%s\n};\nunsigned int capture_bin_len = %d;" % (
        ",\n".join("  " + ", ".join("0x%02x" % b for b in r) for _, r in _rows(d, 12)), len(d)),
    "colons": lambda d: "\n".join(":".join("%02X" % b for b in r) for _, r in _rows(d, 32)),
    # Logs of other projects, from their issue threads (found by a probe, 2026-11-28):
    # amsreader's telnet (groups of four, two spaces apart, a blank at the end), Python's
    # logging (",mmm" after the time: "928" was read as bytes) with lines of its own,
    # syslog, Tasmota's serial bridge, ESPHome's banner then its colon lines.
    "amsreader telnet": lambda d: "(V) HDLC frame:\n" + "\n".join(
        "(V) " + "  ".join(" ".join("%02X" % b for b in r[j:j + 4]) for j in range(0, len(r), 4)) + " "
        for _, r in _rows(d)),
    "python logging": lambda d: "\n".join("2023-01-04 21:11:30,%03d   DEBUG: Read: %s\n2023-01-04 21:11:30,%03d   "
                                           "DEBUG: Discard frame: 0d0a" % (n, r.hex(), n) for n, (_, r) in enumerate(_rows(d, 40))),
    "syslog": lambda d: "\n".join("Jan 30 21:40:%02d raspberrypi smartmeter-datacollector[1175]: DEBUG:smartmeter:HDLC "
                                   "Buffer: %s " % (n % 60, " ".join("%02X" % b for b in r)) for n, (_, r) in enumerate(_rows(d, 20))),
    "tasmota serial bridge": lambda d: "\n".join('12:00:%02d.123 MQT: tele/tasmota/RESULT = {"SerialReceived":"%s"}'
                                                  % (n % 60, r.hex().upper()) for n, (_, r) in enumerate(_rows(d, 64))),
    "esphome colons": lambda d: "[11:39:07][I][app:100]: ESPHome version 2025.6.2 compiled on Jun 28 2025, 11:39:07\n" + "\n".join(
        "[11:39:%02d][D][uart_debug:158]: <<< %s" % (n % 60, ":".join("%02X" % b for b in r)) for n, (_, r) in enumerate(_rows(d, 40))),
}


@pytest.mark.parametrize("tool", sorted(DUMPS))
def test_hex_dumps_as_tools_write_them_decode_like_the_binary(capture, tool):
    _, data = capture
    r = run(["--key", KEY, "--auth-key", AUTH, "--hex", "-"], DUMPS[tool](data).encode())
    assert r.returncode == 0, r.stderr
    assert [d["frame_counter"] for d in lines(r.stdout)] == [100, 101, 102]


# Dumps whose short last line lost bytes without a word: (bytes on it, how a row is
# written, words on it). xxd's grouped bytes with its columns cut off (xxd f | cut
# -c11-49): "1366 7e" read as an offset column (a frame published by node-dsmr-parser,
# found in session 30). amsreader's "(V) 7E A0 77 CF  02 23 13 BB  45 E6 E7": the last
# group read as a text column of 8 characters for the 8 bytes before it.
SHORT_LAST_LINES = {
    "xxd cut": (3, lambda r: " ".join(r[j:j + 2].hex() for j in range(0, len(r), 2)), 2),
    "amsreader": (11, lambda r: "(V) " + "  ".join(" ".join("%02X" % b for b in r[j:j + 4])
                                                    for j in range(0, len(r), 4)), 12),
}


@pytest.mark.parametrize("layout", sorted(SHORT_LAST_LINES))
def test_a_dump_whose_last_line_is_short_keeps_all_its_bytes(capture, layout):
    last, row, words = SHORT_LAST_LINES[layout]
    _, data = capture
    data = bytes((last - len(data)) % 16) + data  # idle bytes first: so many on the last line
    text = "\n".join(row(r) for _, r in _rows(data))
    assert len(text.splitlines()[-1].split()) == words
    r = run(["--key", KEY, "--auth-key", AUTH, "--hex", "-"], text.encode())
    assert r.returncode == 0 and not r.stderr, r.stderr
    assert [d["frame_counter"] for d in lines(r.stdout)] == [100, 101, 102]


def test_a_logs_own_lines_that_hold_hex_are_passed_over_with_a_note(capture):
    # A banner's "Free Heap RAM: 177096" and a "TX:" line were read as the meter's bytes.
    _, data = capture
    text = "* Free Heap RAM: 177096\n" + DUMPS["terminal log"](data) + "\n[12:35:00.000] TX: 7E A0 07\n"
    r = run(["--key", KEY, "--auth-key", AUTH, "--hex", "-"], text.encode())
    assert r.returncode == 0, r.stderr
    assert [d["frame_counter"] for d in lines(r.stdout)] == [100, 101, 102]
    assert r.stderr.decode().startswith("note: passed over 2 lines of the log's own text")


@pytest.mark.parametrize("stamps", [
    ["[12:00:00.123] RX: ", "", "", ""],  # a chunk stamped on its first line only
    ["9:59:59.900 RX: ", "10:00:00.010 RX: ", "10:00:00.020 RX: ", "10:00:00.030 RX: "],
    ["9:59:59 AM RX: ", "10:00:00 AM RX: ", "10:00:00 AM RX: ", "10:00:01 AM RX: "],
    ["2024-05-10 09:59:59 RX: ", "2024-05-10T10:00:00Z RX: ", "10:00:00.1 RX: ", "[10:00:01] RX: "],
])
def test_a_logs_time_stamps_may_vary_in_form_or_stamp_only_a_chunks_first_line(capture, stamps):
    # Tags are compared by their letters: "9:59:59.900 RX:" and "10:00:00.010 RX:" were
    # two tags, and the smaller group of lines was passed over (a review).
    _, data = capture
    rows = [r for _, r in _rows(data)]
    text = "\n".join(stamps[min(i, 3) if stamps[1] else (0 if i == 0 else 1)] + " ".join("%02X" % b for b in r)
                     for i, r in enumerate(rows))
    r = run(["--key", KEY, "--auth-key", AUTH, "--hex", "-"], text.encode())
    assert r.returncode == 0 and not r.stderr, r.stderr
    assert [d["frame_counter"] for d in lines(r.stdout)] == [100, 101, 102]


def test_an_xxd_line_whose_text_column_reads_like_bytes_keeps_it_a_column(tmp_path):
    # "00000020: 41 42 20 43 44 20 45 46 20 31 32   AB CD EF 12": only bytes grouped two
    # spaces apart, as amsreader writes them, are no text column.
    data = bytes(range(32)) + b"AB CD EF 12"
    text = "\n".join("%08x: %s  %s" % (i, " ".join("%02x" % b for b in r).ljust(47), _text_column(r))
                     for i, r in _rows(data))
    path = tmp_path / "dump.txt"
    path.write_text(text)
    assert _hextext().parse(text) == data


def test_an_xxd_dump_whose_rows_end_in_blanks_an_editor_cut_keeps_its_columns():
    # A row ending in byte 0x20 has a column one blank short once trailing blanks are cut:
    # it read as bytes, or as "no hex" (a second fuzz; a Wiener Netze IM350 row).
    data = b"0123456789ABCDE " * 2 + bytes.fromhex("9b15f9fd20d9fe147f5ad3a0432a6520")
    text = "\n".join(("%08x: %s  %s" % (i, " ".join(r[j:j + 2].hex() for j in range(0, len(r), 2)).ljust(39),
                                        _text_column(r))).rstrip() for i, r in _rows(data))
    assert _hextext().parse(text) == data


def test_one_long_line_of_bytes_two_spaces_apart_keeps_every_byte_and_a_wide_column_is_found():
    # Each double space was tried as the start of a text column, each try reading the whole
    # head again: 8,000 bytes written "7E  7E  ..." took 33 s (10,240 here took 48 s, now
    # about 1; not timed here). A column is tried only as wide as xxd -c 256's.
    data = bytes(range(256)) * 40
    assert _hextext().parse("  ".join("%02X" % b for b in data)) == data
    row = bytes(range(256))
    xxd = "00000000: %s  %s" % (" ".join(row[j:j + 2].hex() for j in range(0, 256, 2)), _text_column(row))
    assert _hextext().parse(xxd) == row  # xxd -c 256: its column still found


def test_esphomes_sent_lines_are_not_read_as_the_meters_bytes():
    # uart_debug logs both directions by default: ">>>" lines are the dongle's own.
    text = ("[11:39:00][D][uart_debug:158]: <<< 7E:A0:A4:CF:02:23:03:99:96:E6:E7:00\n"
            "[11:39:01][D][uart_debug:158]: >>> 7E:A0:07:03:23:93:1C:B6:7E")
    notes = []
    assert _hextext().parse(text, notes) == bytes.fromhex("7ea0a4cf0223039996e6e700")
    assert notes and "line 2" in notes[0]


def test_esphomes_received_bytes_in_chunks_of_two_or_three_are_read_as_bytes():
    # No run of four bytes anywhere: "7E:A0" stayed one word, and the log read as no bytes.
    text = ("[C][uart.arduino_esp32:155]:   Baud Rate: 115200 baud\n"
            "[11:39:00][D][uart_debug:158]: <<< 7E:A0:A4\n"
            "[11:39:00][D][uart_debug:158]: <<< CF:02\n"
            "[11:39:00][D][uart_debug:158]: <<< 23:03:99\n")
    assert _hextext().parse(text) == bytes.fromhex("7ea0a4cf02230399")


@pytest.mark.parametrize("log", [
    "RX len: 41\nData:\n%s",  # a short received tag, the bytes untagged below it
    "* Free Heap RAM: 177096\n%s",  # tags that say both ways, and a banner's number
])
def test_a_received_tag_with_few_bytes_does_not_win_over_the_lines_of_bytes(log):
    rows = ("7E A0 27 01 02 01 10 5A 87 E6 E7 00 0F 40 00 00 00 09 0C 07 E1 09 0C 02",
            "17 12 2A FF 80 00 00 02 01 06 00 00 05 28 B8 0C 7E")
    body = "\n".join(rows) if log.startswith("RX") else "\n".join("I (1234) uart_rx_tx: " + r for r in rows)
    assert _hextext().parse(log % body) == bytes.fromhex("".join(rows).replace(" ", ""))


def test_a_log_whose_requests_outweigh_the_replies_reads_the_received_lines():
    # The tag with the most hex won: a reader that polls sent more than the meter answered.
    text = "TX: " + "7E A0 19 03 21 93 " * 10 + "\nRX: 7E A0 07 21 03 73 AA 7E\n"
    notes = []
    assert _hextext().parse(text, notes) == bytes.fromhex("7ea007210373aa7e")
    assert notes and "line 1" in notes[0]


def test_a_terminal_log_whose_read_headers_hold_a_byte_count_is_read():
    # amsreader-firmware's Debugging/Samples (2017 Kaifa and Kamstrup logs) head each read
    # "[... - Received 41 (0x29) bytes]": a line of the log's own, passed over. Midway
    # through pass 31 a rule that preferred tags saying "received" chose it, bytes-less,
    # and the file was refused for its "(0x29)".
    text = ("[2017-09-12 23.18.43.731 - Received 41 (0x29) bytes]\n"
            "7E A0 27 01 02 01 10 5A  87 E6 E7 00 0F 40 00 00  00 09 0C 07 E1 09 0C 02\n"
            "17 12 2A FF 80 00 00 02  01 06 00 00 05 28 B8 0C  7E\n")
    frame = _hextext().parse(text)
    assert frame[:3] == b"\x7e\xa0\x27" and len(frame) == 41
    r = run(["--hex", "-"], text.encode())
    assert r.returncode == 0 and json.loads(r.stdout)["readings"] == {"1-0:1.7.0": {"value": 1320, "unit": "W"}}
    with pytest.raises(_hextext().HexTextError, match="line 1"):
        _hextext().parse("7E A0 27 01 02 0G\n")  # a typo in a dump is still refused
    with pytest.raises(_hextext().HexTextError, match="line 1: 'AO'"):
        # Early in its line too: the bytes after it are no prose (a review of this pass).
        _hextext().parse("7E AO 27 01 02 01 10 5A 87 E6 E7 00 0F 40 00 00 00 09 0C 07 E1 09 0C 02\n")


def _hextext():
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    try:
        import hextext
    finally:
        sys.path.pop(0)
    return hextext


def test_quoted_strings_take_esphomes_escape_and_pass_over_a_cut_one():
    # ESPHome writes ESC as \e (a review: 98 ESC bytes of 40 pushes, none decoded); a line
    # the logger cut (no closing quote) ran into the next and lost the whole log.
    notes = []
    text = '<<< "a\\eb\\\\e"\n<<< "cut\\x\n<<< "\\x7e"\n'
    assert _hextext().quoted(text, notes) == b"a\x1bb\\e~"
    assert notes == ["passed over 1 quoted string that read as no bytes"]


def _esphome_string(chunk):
    # ESPHome's uart_debug in string mode (UARTDebug::log_string): printable ASCII and 0x7F
    # as they are, C's escapes and \e (ESC, which Python does not know), the rest \xNN.
    named = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 27: "\\e",
             34: '\\"', 39: "\\'", 92: "\\\\"}
    return "".join(named.get(b) or (chr(b) if 32 <= b <= 127 else "\\x%02X" % b) for b in chunk)


@pytest.mark.parametrize("shape", ["esphome", "python"])
@pytest.mark.parametrize("as_file", [True, False])
def test_a_log_that_quotes_the_ports_bytes_is_read_as_those_bytes(capture, tmp_path, shape, as_file):
    # ESPHome's uart_debug in string mode (<<< "/ISK5\\2M550T...\r\n", how DSMR users log)
    # and Python's bytes reprs (dlms-cosem, dsmr_parser): "no hex bytes" before.
    _, data = capture
    if shape == "esphome":
        text = "[21:41:27][V][dsmr:142]: Header of telegram found\n" + "\n".join(
            '[21:41:27][D][uart_debug:158]: <<< "%s"' % _esphome_string(r) for _, r in _rows(data, 30))
    else:
        text = "\n".join("DEBUG:dsmr_parser.clients.protocol:received data: %r" % r for _, r in _rows(data, 30))
    path = tmp_path / "log.txt"
    path.write_text(text)
    r = run(["--key", KEY, "--auth-key", AUTH] + ([str(path)] if as_file else ["--hex", "-"]),
            None if as_file else text.encode())
    assert r.returncode == 0, r.stderr
    assert [d["frame_counter"] for d in lines(r.stdout)] == [100, 101, 102]
    assert r.stderr.decode() == "note: the input is a log that quotes the port's bytes: read as those bytes\n"


def test_hexdumps_swapped_words_are_refused_with_a_hint():
    r = run(["--hex", "-"], b"0000000 a87e cfa4 2302 9903 e696 00e7 000f 0400\n")
    assert r.returncode == 2 and b"hexdump -C" in r.stderr


def test_keys_are_taken_as_the_configuration_takes_them(capture):
    path, _ = capture
    colons = ":".join(KEY[i:i + 2] for i in range(0, 32, 2)).upper()
    r = run(["--key", colons, "--auth-key", "0x" + AUTH, str(path)])
    assert r.returncode == 0, r.stderr
    assert run(["--auth-key", "", str(path)]).returncode == 1  # no key: nothing decrypts, no usage error


def test_hex_text_given_without_hex_is_read_as_hex_with_a_note(capture, tmp_path):
    # It used to say "add --hex" and exit 1: what the user meant was plain (session 30).
    _, data = capture
    path = tmp_path / "capture.txt"
    path.write_text(data.hex())
    keys = ["--key", KEY, "--auth-key", AUTH]
    with_hex = run(keys + ["--hex", str(path)])
    assert len(lines(with_hex.stdout)) == 3
    for args in (keys + [str(path)], keys + ["--", str(path)]):
        r = run(args)
        assert r.returncode == 0 and r.stdout == with_hex.stdout, r.stderr
        assert r.stderr == b"note: the input is hex text, not the meter port's bytes: read as hex (--hex)\n"
    # A stream may start inside a DSMR text message (hex digits for up to 2 kB), and a
    # live one must not wait for 4 kB: stdin gets the hint.
    r = run(keys + ["-"], data.hex().encode())
    assert r.returncode == 1 and b"it looks like hex text: add --hex" in r.stderr


def test_a_dsmr_file_whose_line_ends_lost_their_cr_is_read_as_cr_lf(tmp_path):
    # Text copied from a web page or saved by an editor: every CRC failed, and the file
    # only got a hint. A stream still gets the hint (it is decoded as it arrives).
    telegram = ds.dsmr_telegram(["1-3:0.2.8(50)", "1-0:1.8.1(001234.567*kWh)"])
    path = tmp_path / "telegram.txt"
    path.write_bytes(telegram.replace(b"\r\n", b"\n") * 2)
    r = run([str(path)])
    assert r.returncode == 0 and lines(r.stdout) == lines(run(["-"], telegram * 2).stdout)
    assert len(lines(r.stdout)) == 2
    assert r.stderr == b"note: the input's lines end in LF alone: read as CR LF, as a meter sends them\n"
    r = run(["-"], path.read_bytes())
    assert r.returncode == 1 and b"CRC mismatch" in r.stderr and b"CR LF" in r.stderr


@pytest.mark.parametrize("message", ["", "0-0:96.13.0(Tisztelt Ugyfelunk! Figyelem)\n"])
def test_a_dsmr_file_whose_crc_covers_its_lf_line_ends_is_read_as_it_is(tmp_path, message):
    # A meter (or simulator) that sends LF alone, its CRC over those bytes: turning the
    # lines into CR LF made every telegram fail, where the gateway decodes them. The CRC
    # is the one after the "!" that opens its line, not one in a text message.
    from decoder import crc

    text = "/ISK5\\2M550T-1012\n\n1-3:0.2.8(50)\n1-0:1.8.1(001234.567*kWh)\n" + message + "!"
    telegram = (text + "%04X\n" % crc.arc(text.encode())).encode()
    path = tmp_path / "telegram.txt"
    path.write_bytes(telegram * 2)
    r = run([str(path)])
    assert r.returncode == 0 and len(lines(r.stdout)) == 2 and r.stderr == b""
    assert lines(r.stdout) == lines(run(["-"], telegram * 2).stdout)


def test_a_dsmr_file_whose_message_wraps_over_lines_of_hex_is_no_hex_dump(tmp_path):
    # The DSMR 4.0 specification's example (and esphome's dsmr_parser test) wraps its text
    # message over lines of hex digits alone: the file was read as a hex dump of them.
    hexed = "30313233343536373839" * 6
    body = ["1-3:0.2.8(40)", "1-0:1.8.1(123456.789*kWh)", "0-0:96.13.0(" + hexed, hexed, hexed + ")"]
    text = ("/ISk5\\2MT382-1000\r\n\r\n" + "".join(line + "\r\n" for line in body) + "!\r\n").encode()
    path = tmp_path / "telegram.txt"
    path.write_bytes(text)
    r = run([str(path)])
    assert r.returncode == 0 and b"hex" not in r.stderr, r.stderr
    assert lines(r.stdout)[0]["readings"]["1-0:1.8.1"] == {"value": 123456.789, "unit": "kWh"}


def test_a_7e1_meter_captured_at_8n1_is_read_as_its_7_bits(tmp_path):
    # A DSMR 2.2/3 meter's 7E1 read at 8N1: the parity bit lands in bit 7, every "/" is
    # 0xAF, and the file was "no frame found". make capture says BITS=7 PARITY=E; a file
    # recorded without it is still read, with a note naming meter.format.
    telegram = ds.dsmr_telegram(["1-3:0.2.8(50)", "1-0:1.8.1(001234.567*kWh)"])
    wire = bytes(b | 0x80 if bin(b).count("1") & 1 else b for b in telegram * 2)
    assert b"/" not in wire
    path = tmp_path / "capture.bin"
    path.write_bytes(wire)
    r = run([str(path)])
    assert r.returncode == 0 and lines(r.stdout) == lines(run(["-"], telegram * 2).stdout)
    assert b"7E1" in r.stderr and b"meter.format" in r.stderr
    r = run(["-"], wire)  # a stream gets a hint (it is decoded as it arrives)
    assert r.returncode == 1 and b"7E1" in r.stderr and b"meter.format" in r.stderr
    path.write_bytes(b"\x01" + wire)  # a capture started mid-character: one odd byte first
    r = run([str(path)])
    assert r.returncode == 0 and len(lines(r.stdout)) == 2 and b"7E1" in r.stderr


def test_a_binary_capture_with_lf_bytes_is_not_read_as_text(capture):
    # An HDLC capture holds 0A bytes and maybe no 0D: it is no text, and stays as it is.
    path, _ = capture
    r = run(["--key", KEY, "--auth-key", AUTH, str(path)])
    assert r.returncode == 0 and b"LF alone" not in r.stderr and b"7E1" not in r.stderr


def test_a_reader_that_goes_away_ends_it_quietly(capture):
    path, _ = capture
    proc = subprocess.Popen([sys.executable, CLI, "--key", KEY, "--auth-key", AUTH, str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    proc.stdout.close()  # as "| head -0" does
    assert b"Traceback" not in proc.communicate(timeout=60)[1]


def test_bad_hex_text_is_a_bad_argument():
    r = run(["--hex", "-"], b"7e a0 zz")
    assert r.returncode == 2
    assert "--hex" in r.stderr.decode()


def test_help_documents_meter_and_profile():
    r = run(["--help"])
    assert r.returncode == 0
    text = r.stdout.decode()
    assert "--meter NAME" in text and "meter profile" in text
    assert "--profile LIST" in text and "sil-consumer-info-1" in text
    from decoder import lists, profiles

    for name in list(profiles.PROFILES) + lists.list_names():  # every name, not a few and "..."
        assert name + "," in text or name + "\n" in text, name


def test_a_capture_that_ends_inside_a_frame_says_so(capture):
    _, data = capture
    done = run(["--key", KEY, "--auth-key", AUTH, "-"], data[:-100])
    assert len(lines(done.stdout)) == 2
    assert done.stderr.decode().splitlines()[-1].startswith("error: the input ends inside a frame: ")


def test_a_capture_that_ends_between_gbt_blocks_says_so():
    # Blocks 1-2 of a push whose block 3 never came (the SiL push is HDLC + GBT).
    frames = ds.sil_push(seed=1)[0]
    cut = frames.index(b"\x7e\x7e", frames.index(b"\x7e\x7e") + 2) + 1  # after frame 2
    done = run(["--key", KEY, "--auth-key", AUTH, "-"], frames[:cut])
    assert done.returncode == 1
    assert done.stderr.decode().strip().startswith("error: the input ends inside a General Block Transfer: ")


@pytest.mark.parametrize("inside", [b"\x7e\xa8\xff\x03", b"\x68\xf0\xf0\x68", b"/ABC5"])
@pytest.mark.parametrize("ciphered", [False, True])
def test_a_capture_of_one_bare_apdu_that_holds_a_frame_head_still_decodes(inside, ciphered):
    # Bytes inside a bare APDU that open a frame (7E A8 .., 68 L L 68, "/" + letters) made
    # the framer wait for that frame's end; in a capture of one APDU it never comes, and
    # the CLI printed nothing but "the input ends inside a frame". Random ciphertext holds
    # such bytes in about one APDU in twelve.
    body = ds.tagged_body([("1-0:1.8.0", ds.uint32(1234), (0, 30)), ("0-0:96.1.0", ds.octets(inside + b"xyz"), None)])
    apdu = ds.data_notification(body)
    args = ["--hex", "-"]
    if ciphered:
        apdu = ds.cipher(apdu, ds.SIL_KEY, ds.SIL_TITLE, 7, ds.SIL_AUTH_KEY)
        apdu = apdu[:-24] + inside + apdu[-24 + len(inside):]  # in the ciphertext: the plaintext garbles
        args = ["--key", KEY, "--hex", "-"]  # no GAK: the tag is not checked, the plaintext is garbled
    done = run(args, apdu.hex().encode())
    assert "the input ends inside a frame" not in done.stderr.decode(), done.stderr
    if not ciphered:
        assert done.returncode == 0 and lines(done.stdout)[0]["readings"]["1-0:1.8.0"]["value"] == 1234


@pytest.mark.parametrize("crc", ["", "!"])
def test_a_dsmr_telegram_that_ends_the_file_at_its_last_character_decodes(tmp_path, crc):
    # "!" (DSMR 2.2, no CRC) or "!61BC" as the file's last bytes, no line end after them.
    text = "/ISk5\\2MT382-1000\r\n\r\n1-0:1.8.1(001234.567*kWh)\r\n!"
    if crc:
        text += "%04X" % ds.crc16_arc(text.encode())
    path = tmp_path / "telegram.txt"
    path.write_bytes(text.encode())
    done = run([str(path)])
    assert done.returncode == 0 and done.stderr == b"", done.stderr
    assert lines(done.stdout)[0]["readings"]["1-0:1.8.1"] == {"value": 1234.567, "unit": "kWh"}



def test_the_last_telegram_of_a_meter_that_ends_its_last_line_with_the_bang_decodes(tmp_path):
    # "...(01.193*kW)!" (an IEC 62056-21 readout's way), the file's last byte a line end.
    text = b"/ISk5\\2MT382-1000\r\n\r\n1-0:1.8.1(001234.567*kWh)\r\n1-0:1.7.0(01.193*kW)!\r\n"
    path = tmp_path / "glued.txt"
    path.write_bytes(text * 3)
    r = run([str(path)])
    assert r.returncode == 0 and not r.stderr, r.stderr
    assert [d["readings"]["1-0:1.7.0"]["value"] for d in lines(r.stdout)] == [1.193] * 3


@pytest.mark.parametrize("cut", [1, 2, 3, 4])
def test_telegrams_back_to_back_cut_in_the_next_header_print_the_whole_one(tmp_path, cut):
    # "…!/ISk" at the end of a capture of DSMR 2.2 telegrams with no line end between
    # them: the framer waits for the header's fourth byte, and the whole telegram before
    # it was not printed (found by a review).
    text = "/ISk5\\2MT382-1000\r\n\r\n1-0:1.8.1(001234.567*kWh)\r\n!"
    path = tmp_path / "telegrams.txt"
    path.write_bytes((text + text[:cut]).encode())
    done = run([str(path)])
    assert done.returncode == 0
    assert [t["readings"]["1-0:1.8.1"]["value"] for t in lines(done.stdout)] == [1234.567]

def test_a_whole_capture_has_no_such_line(capture):
    _, data = capture
    done = run(["--key", KEY, "--auth-key", AUTH, "-"], data + b"\x7e")
    assert done.stderr == b""


def test_value_lists_that_fit_no_push_are_named_once_on_stderr(tmp_path):
    # An IM350's 10-value push (public capture at-im350-kn-list-short-gurux) with the
    # 12-value kn-list chosen: the values stay positional, and the CLI says why, once.
    from test_public_captures import CAPTURES

    entry = CAPTURES["at-im350-kn-list-short-gurux"]
    path = tmp_path / "im350.hex"
    path.write_text(entry["hex"] + " " + entry["hex"])
    r = run(["--hex", "--key", entry["key_hex"], "--profile", "kn-list", str(path)])
    assert r.returncode == 0
    assert all("#5" in d["readings"] for d in lines(r.stdout))
    assert r.stderr.decode().splitlines() == [
        "warning: no value list given with --profile fits this push (kn-list has 12 values; a list names"
        " a push of as many values whose slots take them), so its values stay #1, #2, ..."
    ]
    fitting = run(["--hex", "--key", entry["key_hex"], "--profile", "kn-list,kn-list-short", str(path)])
    assert fitting.stderr == b"" and "1-0:1.8.0" in lines(fitting.stdout)[0]["readings"]


def test_a_value_list_can_be_defined_on_the_command_line(tmp_path, corpus):
    # A Thurgau E450 pushes two values and no OBIS codes (ch-e450-tg-3apdus-one-frame): a
    # list typed as "name profile codes..." names them, as meter.lists does on the dongle.
    entry = corpus["ch-e450-tg-3apdus-one-frame"]
    path = tmp_path / "tg.hex"
    path.write_text(entry["hex"])
    plain = lines(run(["--hex", str(path)]).stdout)
    assert [d["readings"]["#1"]["value"] for d in plain] == [21040168, 21040186, 21040203]
    named = run(["--hex", "--profile", "tg-e450 e450 1-0:1.8.0 1-0:2.8.0", str(path)])
    assert named.returncode == 0 and named.stderr == b""
    assert [d["readings"] for d in lines(named.stdout)][0] == {
        "1-0:1.8.0": {"value": 21040168, "unit": "Wh"}, "1-0:2.8.0": {"value": 0, "unit": "Wh"}}
    bad = run(["--hex", "--profile", "tg-e450 e450 1-0:1.8.0 1.8.1", str(path)])
    assert bad.returncode == 2
    assert b"argument --profile: tg-e450: '1.8.1' is not an OBIS code A-B:C.D.E" in bad.stderr


def test_a_hex_dump_given_without_hex_is_read_as_hex(tmp_path, corpus):
    # Only plain hex digits were told; an xxd, hexdump -C or C-array file said "is this a
    # capture of the meter's port?", then "add --hex".
    data = bytes.fromhex(corpus["ch-e450-tg-3apdus-one-frame"]["hex"])
    rows = [data[i : i + 16] for i in range(0, len(data), 16)]
    dumps = {
        "xxd": "".join("%08x: %s  %s\n" % (16 * n, " ".join(r[i : i + 2].hex() for i in range(0, len(r), 2)),
                                           "." * len(r)) for n, r in enumerate(rows)),
        "hexdump-C": "".join("%08x  %s  |%s|\n" % (16 * n, " ".join("%02x" % b for b in r), "." * len(r))
                             for n, r in enumerate(rows)),
        "c-array": "unsigned char e450[] = {\n%s\n};\n" % ",\n".join(", ".join("0x%02x" % b for b in r) for r in rows),
    }
    for name, text in dumps.items():
        path = tmp_path / (name + ".txt")
        path.write_text(text)
        plain = run([str(path)])
        assert plain.returncode == 0 and plain.stderr.startswith(b"note: the input is hex text"), name
        assert len(lines(plain.stdout)) == 3, name
        assert lines(run(["--hex", str(path)]).stdout) == lines(plain.stdout), name


def test_help_fits_a_terminal_of_80_columns():
    # The help is laid out by hand (RawDescriptionHelpFormatter): the description ran to 118
    # characters and a paragraph that grew with the value lists to 130, wrapped mid-word by
    # an 80-column terminal.
    text = run(["--help"]).stdout.decode()
    assert [line for line in text.splitlines() if len(line) > 80] == []


# The line that says an input is text and no capture (in part: the bytes vary).
_TEXT_LINE = "the input is text, not a capture of the meter's port"


def _flooding(stderr):
    # Lines said more than three times.
    lines_ = stderr.decode().splitlines()
    return sorted({line for line in lines_ if lines_.count(line) > 3})


@pytest.mark.parametrize("as_file", [True, False])
def test_a_text_that_is_no_capture_is_said_to_be_text_once_and_does_not_flood(tmp_path, as_file):
    # README.md given by mistake: 173 lines "error: overflow: frame longer than the 4096-byte
    # buffer" (each "/dev", "/lib" read as a DSMR header) and nothing that said the file is no
    # capture (found by a user-facing review, session 42).
    with open(os.path.join(ROOT, "README.md"), "rb") as f:
        text = f.read()
    path = tmp_path / "README.md"
    path.write_bytes(text)
    r = run([str(path)] if as_file else ["-"], None if as_file else text)
    assert r.returncode == 1 and r.stdout == b""
    said = r.stderr.decode().splitlines()
    assert _flooding(r.stderr) == [], said
    assert said.count("error: overflow: frame longer than the 4096-byte buffer") == 3  # the first few, not none
    assert [line for line in said if "overflow" in line and line.startswith("note: ")], said  # and a count
    assert len([line for line in said if _TEXT_LINE in line]) == 1 and _TEXT_LINE in said[-1], said
    assert said[-1].startswith("error: no telegram in %d bytes: " % len(text)), said[-1]
    assert "LF alone" not in r.stderr.decode()  # a "/dev" is no DSMR header: not read as CR LF


@pytest.mark.parametrize("text,before", [
    (b"hello world\n", ["error: malformed: M-Bus start 68 L L 68 malformed"]),  # "h" is 0x68
    (b"hi\n", ["error: the input ends inside a frame: 3 bytes wait for the rest"]),
    (b"The quick brown fox\r\n", []),  # it said "no frame found ...: is this a capture ...?"
    ("Grüße, Zähler\n".encode(), []),
])
@pytest.mark.parametrize("as_file", [True, False])
def test_a_line_of_text_is_said_to_be_text(tmp_path, text, before, as_file):
    path = tmp_path / "note.txt"
    path.write_bytes(text)
    r = run([str(path)] if as_file else ["-"], None if as_file else text)
    assert r.returncode == 1 and r.stdout == b""
    said = r.stderr.decode().splitlines()
    assert said[:-1] == before and _TEXT_LINE in said[-1], said  # the errors it had are still said


def test_a_text_whose_read_ends_inside_a_line_before_a_path_is_still_said_to_be_text(tmp_path):
    # The file is read 4,096 bytes at a time; the second read starts inside a line, at
    # "/abcd", which read as a readout's header line ("/" and three letters) as if it began
    # its line: the text was no longer said to be text (README.md itself, after an edit
    # moved where its reads ended).
    prose = b"A line of prose, and nothing else.\n" * 100
    cut = prose + b"x" * (4096 - len(prose) - 4) + b"see "
    data = cut + b"/abcd for the port\n" + prose
    assert len(cut) == 4096
    path = tmp_path / "notes.md"
    path.write_bytes(data)
    r = run([str(path)])
    said = r.stderr.decode().splitlines()
    assert r.returncode == 1 and _TEXT_LINE in said[-1], said


@pytest.mark.parametrize("name,data,as_file", [
    # A DSMR telegram whose CRC fails, whose lines lost their CR, of DSMR 2.2 without a CRC
    # but cut, an IEC 62056-21 readout's data lines without the header: readouts, not text.
    ("crc", ds.dsmr_telegram(["1-0:1.8.1(001234.567*kWh)"])[:-4] + b"0\r\n", True),
    ("lf", ds.dsmr_telegram(["1-0:1.8.1(001234.567*kWh)"]).replace(b"\r\n", b"\n"), False),
    ("cut", b"/ISk5\\2MT382-1000\r\n\r\n1-0:1.8.1(001234.567*kWh)\r\n", True),
    ("iec", b"0.0.0(12345678)\r\n1.8.0(001234.5*kWh)\r\nF.F(00)\r\n", True),
    # Hex without --hex on stdin gets its own hint; a log that quotes the port's bytes too.
    ("hex", b"7e a0 84 ce ff 03 13 12 8b\n", False),
    ("quoted", b"[D][uart_debug:158]: <<< \"/ISK5\\\\2M\"\n" * 4, False),
])
def test_a_readout_or_hex_that_yields_nothing_is_not_called_text(tmp_path, name, data, as_file):
    path = tmp_path / (name + ".txt")
    path.write_bytes(data)
    r = run([str(path)] if as_file else ["-"], None if as_file else data)
    assert r.returncode == 1 and r.stderr and _TEXT_LINE not in r.stderr.decode(), (name, r.stderr)


def test_an_error_said_again_and_again_is_said_three_times_then_counted():
    # A capture of ten pushes with the wrong GAK (or none): ten identical lines, 120 for a
    # two-minute capture of a push every second. A distinct error between them is still said.
    pushes = [ds.sil_push(seed=s, frame_counter=100 + s)[0] for s in range(10)]
    bad = bytearray(pushes[5])
    bad[30] ^= 0xFF  # push 6's first HDLC frame: its FCS fails
    data = b"".join(pushes[:5]) + bytes(bad) + b"".join(pushes[6:])
    r = run(["--key", KEY, "--auth-key", "00" * 16, "-"], data)
    assert r.returncode == 1 and r.stdout == b""
    auth = ("error: authentication: authentication failed — check the encryption key (GUEK) and "
            "authentication key (GAK)")
    assert r.stderr.decode().splitlines() == [auth] * 3 + [
        "error: checksum: HDLC FCS mismatch",
        'note: "%s" came 9 times: only the first 3 are shown' % auth,
    ]


def _ctrl_c_as_in_a_terminal():
    # A test run started in the background of a shell without job control inherits SIGINT
    # ignored, and Python keeps it so: the Ctrl-C these tests send then did nothing, the
    # decoder read on to the end of its input and exited 0 or 1 (a local CI run so started).
    # A user's terminal delivers it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_on_a_live_stream_ends_with_what_was_read_summed_up():
    # `nc meter 2000 | decode.py -` ends by Ctrl-C: a traceback ended it, and the note of
    # the errors only counted after the third was lost with it.
    pushes = b"".join(ds.sil_push(seed=s, frame_counter=100 + s)[0] for s in range(5))
    proc = subprocess.Popen([sys.executable, CLI, "--key", KEY, "--auth-key", "00" * 16, "-"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                            preexec_fn=_ctrl_c_as_in_a_terminal)
    proc.stdin.write(pushes)
    proc.stdin.flush()
    err = b""
    while err.count(b"\n") < 3:  # three said: the rest are counted, not said
        err += proc.stderr.read1(4096)
    time.sleep(1)  # the last two read too: it waits for more, as on a quiet line
    proc.send_signal(signal.SIGINT)
    out, rest = proc.communicate(timeout=30)
    err = (err + rest).decode()
    assert proc.returncode == 130 and out == b""
    assert "Traceback" not in err
    assert err.splitlines()[-1] == ('note: "error: authentication: authentication failed — check the encryption '
                                    'key (GUEK) and authentication key (GAK)" came 5 times: only the first 3 are shown')


def test_a_closed_standard_input_is_a_bad_argument():
    # `decode.py - <&-` (a cron job, a service without stdin): a traceback, exit status 1.
    r = subprocess.run([sys.executable, CLI, "-"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60, cwd=ROOT,
                       preexec_fn=lambda: os.close(0))
    assert r.returncode == 2 and b"Traceback" not in r.stderr, r.stderr
    assert b"standard input is closed" in r.stderr, r.stderr


def _hex_rows(data):
    words = ["%02X" % b for b in data]
    return [" ".join(words[i : i + 16]) for i in range(0, len(words), 16)]


def test_ctrl_c_on_hex_pasted_into_stdin_decodes_what_was_read(capture):
    # `decode.py --hex -`, a capture pasted into the terminal and ended by Ctrl-C (not Ctrl-D):
    # the hex was read whole before any was parsed, and Ctrl-C lost it: "no frame found in 0
    # bytes", where the stream without --hex decodes what came (a tools review).
    proc = subprocess.Popen([sys.executable, CLI, "--key", KEY, "--auth-key", AUTH, "--hex", "-"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                            preexec_fn=_ctrl_c_as_in_a_terminal)
    proc.stdin.write(("\n".join(_hex_rows(capture[1])) + "\n").encode())
    proc.stdin.flush()
    time.sleep(3)  # started and read: it waits for more, as a terminal does
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and b"Traceback" not in err, err
    assert len(lines(out)) == 3, err


@pytest.mark.parametrize("shape", ["cut-line", "after-4k-of-prose"])
def test_a_text_holding_hex_it_did_not_read_is_not_said_to_hold_none(capture, tmp_path, shape):
    # A serial-terminal log with one line cut short (an odd count of digits), and a forum post
    # whose hex follows 4 kB of prose: --hex names the cut line, or reads the post; without it
    # the line said "the input is text, not a capture ... and no hex" (a tools review).
    rows = _hex_rows(capture[1])
    if shape == "cut-line":
        rows[3] = rows[3][:-1]
        text = "".join("2024-03-01 12:00:%02d.123 RX: %s\n" % (i % 60, row) for i, row in enumerate(rows))
    else:
        text = "My meter sends this and the dongle shows nothing, what is wrong with it?\n" * 60
        text += "\n".join(rows) + "\n"
    path = tmp_path / "log.txt"
    path.write_text(text)
    r = run([str(path)])
    assert r.returncode == 1 and r.stdout == b""
    said = r.stderr.decode()
    assert "and no hex" not in said and "give --hex" in said.splitlines()[-1], said
