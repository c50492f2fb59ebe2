"""Board files (boards/*.json, format in docs/design.md): every one is complete and puts the meter
on pins that are really free on its chip; the checker refuses the classic wiring mistakes."""

import copy
import json
import os

import pytest

import boardfile
from mp import ROOT

REQUIRED = ("esp32-devkit", "esp32c3-supermini", "esp32s3-devkitc")


def a_board(**changes):
    board = copy.deepcopy(boardfile.load("esp32-devkit"))
    for dotted, value in changes.items():
        section, _, key = dotted.partition("__")
        if key:
            board[section][key] = value
        else:
            board[section] = value
    return board


def test_the_three_supported_boards_exist_one_per_chip_family():
    names = boardfile.known_boards()
    for name in REQUIRED:
        assert name in names
    assert set(boardfile.load(n)["chip"] for n in REQUIRED) == {"esp32", "esp32c3", "esp32s3"}


@pytest.mark.parametrize("name", boardfile.known_boards())
def test_every_board_file_follows_the_format_and_its_chip(name):
    board = boardfile.load(name)
    assert set(board) - {"wifi_txpower"} == {"name", "chip", "march", "uart", "led", "button",
                                             "p1_request", "notes"}
    chip = boardfile.CHIPS[board["chip"]]
    assert board["march"] == chip["march"]
    assert board["uart"]["rx"] not in chip["strapping"] + chip["flash_pins"] + chip["usb"]


@pytest.mark.parametrize("name", boardfile.known_boards())
def test_every_board_is_documented_in_the_wiring_guide(name):
    with open(os.path.join(ROOT, "boards", "README.md")) as f:
        assert "`%s`" % name in f.read()


def test_p1_boards_invert_rx_and_mbus_boards_do_not():
    # P1's data line is open collector and inverted (idle low at the meter's side of the
    # pull-up); a TSS721A's RX output is plain logic, idle high.
    assert boardfile.load("esp32-devkit")["uart"]["invert_rx"] is True
    mbus = boardfile.load("esp32-devkit-mbus")
    assert mbus["uart"]["invert_rx"] is False and mbus["p1_request"] is None


def test_the_s3_led_is_a_ws2812_whose_pin_depends_on_the_revision():
    assert boardfile.load("esp32s3-devkitc")["led"] == {"pin": 38, "kind": "ws2812",
                                                        "active_low": False}
    assert boardfile.load("esp32s3-devkitc-v1.0")["led"]["pin"] == 48


@pytest.mark.parametrize("changes,message", [
    ({"uart__rx": 6}, "flash"),                    # ESP32 GPIO6-11 drive the SPI flash
    ({"uart__rx": 12}, "strapping"),               # MTDI picks the flash voltage at reset
    ({"uart__rx": 40}, "does not exist"),
    ({"uart__tx": 34}, "input only"),
    ({"uart__id": 0}, "REPL"),
    ({"uart__invert_rx": "yes"}, "true or false"),
    ({"led__kind": "neopixel"}, "gpio or ws2812"),
    ({"led__pin": 16}, "used twice"),
    ({"p1_request__pin": 0}, "strapping"),
    ({"march": "rv32imc"}, "xtensawin"),
    ({"chip": "esp8266"}, "chip"),
    ({"name": "other"}, "file name"),
    ({"notes": ""}, "notes"),
    ({"wifi_txpower": 30}, "wifi_txpower"),         # the radio's range is 2-21 dBm
    ({"wifi_txpower": "8.5"}, "wifi_txpower"),
    ({"wifi_txpower": True}, "wifi_txpower"),
])
def test_the_checker_refuses_wiring_mistakes(changes, message):
    with pytest.raises(boardfile.BoardError, match=message):
        boardfile.check(a_board(**changes), "esp32-devkit")


def test_the_c3_supermini_caps_its_radio_and_the_others_keep_the_default():
    # Many C3 SuperMinis neither join nor show their setup AP at full power; the cap is
    # the board file's, since the first boot's access point has no configuration yet.
    assert boardfile.load("esp32c3-supermini")["wifi_txpower"] == 8.5
    for name in ("esp32-devkit", "esp32-devkit-mbus", "esp32s3-devkitc"):
        assert "wifi_txpower" not in boardfile.load(name)


def test_an_unknown_board_lists_the_known_ones():
    with pytest.raises(boardfile.BoardError) as e:
        boardfile.load("esp32-wroom")
    for name in REQUIRED:
        assert name in str(e.value)


def test_a_board_file_that_is_not_json_is_named(tmp_path):
    (tmp_path / "broken.json").write_text("{ not json")
    with pytest.raises(boardfile.BoardError, match="broken.json: not valid JSON"):
        boardfile.load("broken", boards_dir=str(tmp_path))


def test_board_files_are_plain_json_the_device_can_read():
    """The device parses /board.json with MicroPython's json: no comments, no trailing commas."""
    for name in boardfile.known_boards():
        with open(os.path.join(ROOT, "boards", name + ".json")) as f:
            json.loads(f.read())
