"""`make flash`, `make console`, `make capture`: the esptool commands, the image checks, the
port choice, and a capture recorded through a pseudo-terminal standing in for the meter port."""

import os
import subprocess
import sys
import threading
import time

import pytest

import boardfile
import deploy
import serialports
from mp import ROOT

pytest.importorskip("serial")


def image(path, chip_id, magic=0xE9):
    """The first bytes of an ESP image: magic, segments, flash mode/size, entry, then the
    extended header whose chip id sits at offset 12."""
    head = bytes([magic, 3, 2, 0x20, 0, 0, 0, 0, 0xEE, 0, 0, 0, chip_id & 0xFF, chip_id >> 8])
    path.write_bytes(head + bytes(64))
    return str(path)


@pytest.mark.parametrize("name,chip_id,offset", [
    ("esp32-devkit", 0, "0x1000"),
    ("esp32c3-supermini", 5, "0x0"),
    ("esp32s3-devkitc", 9, "0x0"),
])
def test_flash_erases_then_writes_the_image_at_the_chips_offset(tmp_path, name, chip_id, offset):
    board = boardfile.load(name)
    fw = image(tmp_path / "micropython.bin", chip_id)
    steps = [argv for _what, argv in deploy.flash_steps(board, "/dev/ttyUSB0", fw)]
    assert steps[0][1:3] == ["-m", "esptool"]
    assert steps[0][-1] == "erase-flash"  # esptool v5 spelling
    assert steps[1][-3:] == ["write-flash", offset, fw]
    assert ["--chip", board["chip"]] == steps[1][3:5]


def test_flash_refuses_a_file_that_is_not_an_esp_image(tmp_path):
    fw = image(tmp_path / "micropython.uf2", 0, magic=0x55)
    with pytest.raises(deploy.FlashError, match="not an ESP firmware image"):
        deploy.flash_steps(boardfile.load("esp32-devkit"), "/dev/ttyUSB0", fw)


def test_flash_refuses_an_image_built_for_another_chip(tmp_path):
    fw = image(tmp_path / "ESP32_GENERIC_C3.bin", 5)
    with pytest.raises(deploy.FlashError, match="built for esp32c3.*esp32-devkit has an esp32"):
        deploy.flash_steps(boardfile.load("esp32-devkit"), "/dev/ttyUSB0", fw)


def test_flash_without_a_firmware_file_says_what_to_download():
    done = subprocess.run([sys.executable, "tools/deploy.py", "flash", "--port", "/dev/null",
                           "--board", "esp32c3-supermini"], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 2
    assert "MicroPython release for esp32c3" in done.stderr


def test_esptool_is_installed_and_knows_the_v5_command_names():
    done = subprocess.run([sys.executable, "-m", "esptool", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0
    assert "erase-flash" in done.stdout and "write-flash" in done.stdout


def test_no_port_plugged_in_is_a_clear_error():
    with pytest.raises(serialports.PortError, match="no serial port found"):
        serialports.resolve("", found=[])


@pytest.mark.parametrize("command", ["console", "capture"])
def test_no_port_found_says_what_the_command_needs(monkeypatch, capsys, command):
    # make capture said "plug the board in", with deploy's and console's words: a capture
    # records the meter's port, through a USB-serial adapter wired to it, not the ESP32
    # (found by a user-facing review, session 42).
    monkeypatch.setattr(serialports, "candidates", lambda *vids: [])
    assert deploy.main([command, "--seconds", "1"] if command == "capture" else [command]) == 2
    said = capsys.readouterr().err
    assert said.startswith("error: no serial port found: ") and "PORT=" in said
    if command == "capture":
        assert "plug the board in" not in said and "ESP32 USB-serial" not in said, said
        assert "adapter" in said and "meter's port" in said and "not the ESP32" in said, said
    else:
        assert "plug the board in with a USB data cable" in said, said


@pytest.mark.parametrize("wanted", ["BOARD", "METER_ADAPTER"])
def test_a_port_that_does_not_exist_names_what_is_plugged_in_in_the_commands_words(wanted):
    with pytest.raises(serialports.PortError) as caught:
        serialports.resolve("/dev/ttyUSB97", found=[], wanted=getattr(serialports, wanted))
    said = str(caught.value)
    assert said.startswith("serial port /dev/ttyUSB97 does not exist; ")
    if wanted == "BOARD":
        assert said.endswith("no ESP32 USB-serial port is plugged in")
    else:
        assert "ESP32" not in said and "adapter" in said, said


def test_a_capture_says_the_only_port_found_must_be_the_meters(capsys):
    found = [("/dev/ttyUSB0", "FT232R USB UART (FTDI)")]
    assert serialports.resolve("", found=found, wanted=serialports.METER_ADAPTER) == "/dev/ttyUSB0"
    said = capsys.readouterr().out
    assert "/dev/ttyUSB0" in said and "meter's port" in said and "ESP32 serial port" not in said, said
    serialports.resolve("", found=found)
    assert capsys.readouterr().out.startswith("using the only ESP32 serial port found: /dev/ttyUSB0")


def test_a_capture_looks_for_the_adapters_of_meter_ports_and_not_an_esp32s_own_usb(monkeypatch):
    # A P1 cable with a Prolific PL2303 was "no serial port found", and an ESP32-C3's own USB
    # the one port a capture would record (its log, no meter byte).
    from serial.tools import list_ports

    class Info:
        def __init__(self, device, vid):
            self.device, self.vid, self.description = device, vid, "USB serial"

    ports = []
    monkeypatch.setattr(list_ports, "comports", lambda: ports)
    ports[:] = [Info("/dev/ttyUSB0", 0x067B)]  # Prolific PL2303
    assert serialports.resolve("", wanted=serialports.METER_ADAPTER) == "/dev/ttyUSB0"
    with pytest.raises(serialports.PortError, match="plug the board in"):
        serialports.resolve("")  # no ESP32 board has a PL2303
    ports[:] = [Info("/dev/ttyACM0", 0x303A)]  # Espressif native USB (C3/S3)
    assert serialports.resolve("") == "/dev/ttyACM0"
    with pytest.raises(serialports.PortError, match="adapter wired to it"):
        serialports.resolve("", wanted=serialports.METER_ADAPTER)
    ports[:] = [Info("/dev/ttyACM0", 0x303A), Info("/dev/ttyUSB0", 0x0403)]  # the dongle and an FTDI cable
    assert serialports.resolve("", wanted=serialports.METER_ADAPTER) == "/dev/ttyUSB0"


def test_the_only_plugged_in_board_is_used():
    assert serialports.resolve("", found=[("/dev/ttyUSB0", "CP2102")]) == "/dev/ttyUSB0"


def test_several_boards_plugged_in_are_listed_not_guessed():
    found = [("/dev/ttyACM0", "Espressif"), ("/dev/ttyUSB0", "CP2102")]
    with pytest.raises(serialports.PortError, match="several.*ttyACM0.*ttyUSB0"):
        serialports.resolve("", found=found)


def test_a_given_port_is_used_as_given():
    assert serialports.resolve("/dev/null", found=[]) == "/dev/null"
    assert serialports.resolve("socket://127.0.0.1:1", found=[]) == "socket://127.0.0.1:1"


def test_capture_writes_the_meter_bytes_exactly_as_received(tmp_path):
    master, slave = os.openpty()
    sent = bytes(range(256)) * 8 + b"\x7e\xa0\x84\xce\xff\x03\x13\x12\x8b"
    out = str(tmp_path / "capture.bin")

    def meter():
        time.sleep(0.3)
        for i in range(0, len(sent), 100):
            os.write(master, sent[i:i + 100])
            time.sleep(0.01)

    thread = threading.Thread(target=meter)
    thread.start()
    try:
        total = serialports.capture(os.ttyname(slave), out, 9600, "N", seconds=30,
                                    max_bytes=len(sent))
    finally:
        thread.join()
        os.close(master)
        os.close(slave)
    assert total == len(sent)
    with open(out, "rb") as f:
        assert f.read() == sent


def test_capture_refusals_are_error_lines_not_tracebacks(tmp_path):
    # A port another program holds (two readers split the bytes), no port at all, an
    # output file that cannot be written, a pointless duration.
    import serial

    def capture(*args):
        return subprocess.run([sys.executable, "tools/deploy.py", "capture", "--seconds", "1"] + list(args),
                              capture_output=True, text=True, cwd=ROOT, timeout=60)

    master, slave = os.openpty()
    holder = serial.Serial(os.ttyname(slave), exclusive=True)
    try:
        done = capture("--port", os.ttyname(slave), "--out", str(tmp_path / "c.bin"))
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert "cannot open %s" % os.ttyname(slave) in done.stderr and "another program" in done.stderr
        assert not (tmp_path / "c.bin").exists()
    finally:
        holder.close()
        os.close(master)
        os.close(slave)
    for args, said in ((["--port", str(tmp_path)], "cannot open"),
                       (["--port", "/dev/null", "--out", str(tmp_path / "no" / "c.bin")], "cannot write the capture"),
                       (["--port", "/dev/null", "--seconds", "0"], "must be a number above 0"),
                       (["--port", "/dev/null", "--baud", "0"], "must be a number above 0")):
        done = capture(*args)
        assert done.returncode == 2 and said in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)


def test_capture_opens_a_dsmr_2_2_line_as_7e1(tmp_path):
    # 8 data bits were fixed: a 7E1 meter's telegram came out with its parity bits as bit 7,
    # which nothing decodes (found by a black-box test of the tools).
    opened = []

    class Link:
        def read(self, n):
            return b""

        def close(self):
            pass

    def opener(port, **settings):
        opened.append(settings)
        return Link()

    serialports.capture("/dev/null", str(tmp_path / "c.bin"), 9600, "E", seconds=0.01, opener=opener, bits=7)
    assert (opened[0]["bytesize"], opened[0]["parity"], opened[0]["stopbits"]) == (7, "E", 1)


def test_a_capture_file_is_what_tools_decode_reads(tmp_path, corpus):
    """The file format is plain bytes: a capture of a real E450 push (EKZ) decodes."""
    entry = corpus["ch-e450-ekz-2021-gbt"]
    path = tmp_path / "capture.bin"
    path.write_bytes(bytes.fromhex(entry["hex"]))
    done = subprocess.run([sys.executable, "tools/decode.py", str(path)], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert '"readings"' in done.stdout
