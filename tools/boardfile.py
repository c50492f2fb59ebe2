"""Board files (``boards/<name>.json``): load, check against the chip's pin facts.

The format is fixed in docs/design.md ("Board files"); the firmware reads the chosen file as
``/board.json`` on the device. This module is host-side only (deploy, tests): it refuses a board
file that would put the meter's RX on a flash pin or a strapping pin before anything is copied.

Chip facts, from the Espressif datasheets and board guides:

    chip     march      image at  flash pins     strapping        USB     GPIO numbers
    esp32    xtensawin  0x1000    6-11           0 2 5 12 15      -       0-39 (34-39 input only)
    esp32c3  rv32imc    0x0       12-17          2 8 9            18 19   0-21
    esp32s3  xtensawin  0x0       26-32 (+33-37  0 3 45 46        19 20   0-21, 26-48
                                   octal PSRAM)

``image_chip_id`` is the chip id that esptool writes into the extended header of a firmware
image (bytes 12-13, little endian): it lets ``make flash`` refuse a release built for another chip.
"""

import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOARDS_DIR = os.path.join(ROOT, "boards")

CHIPS = {
    "esp32": {
        "march": "xtensawin",
        "flash_offset": 0x1000,
        "image_chip_id": 0,
        "uart_ids": (1, 2),
        "gpios": tuple(range(0, 40)),
        "flash_pins": tuple(range(6, 12)),
        "strapping": (0, 2, 5, 12, 15),
        "input_only": (34, 35, 36, 37, 38, 39),
        "usb": (),
    },
    "esp32c3": {
        "march": "rv32imc",
        "flash_offset": 0x0,
        "image_chip_id": 5,
        "uart_ids": (1,),
        "gpios": tuple(range(0, 22)),
        "flash_pins": tuple(range(12, 18)),
        "strapping": (2, 8, 9),
        "input_only": (),
        "usb": (18, 19),
    },
    "esp32s3": {
        "march": "xtensawin",
        "flash_offset": 0x0,
        "image_chip_id": 9,
        "uart_ids": (1, 2),
        "gpios": tuple(range(0, 22)) + tuple(range(26, 49)),
        "flash_pins": tuple(range(26, 38)),
        "strapping": (0, 3, 45, 46),
        "input_only": (),
        "usb": (19, 20),
    },
}

LED_KINDS = ("gpio", "ws2812")
PIN_FIELDS = (("uart", "rx"), ("uart", "tx"), ("led", "pin"), ("button", "pin"),
              ("p1_request", "pin"))


class BoardError(Exception):
    """A board name that does not exist or a board file that breaks the format or the chip."""


def known_boards(boards_dir=BOARDS_DIR):
    """Names of the board files present, sorted."""
    names = []
    for entry in os.listdir(boards_dir):
        if entry.endswith(".json"):
            names.append(entry[: -len(".json")])
    return sorted(names)


def board_path(name, boards_dir=BOARDS_DIR):
    """Path of ``boards/<name>.json``; BoardError listing the known boards if there is none."""
    path = os.path.join(boards_dir, name + ".json")
    if not name or os.sep in name or not os.path.isfile(path):
        raise BoardError(
            "unknown board %r; known boards: %s" % (name, ", ".join(known_boards(boards_dir)))
        )
    return path


def load(name, boards_dir=BOARDS_DIR):
    """Read and check one board file; returns the dict."""
    path = board_path(name, boards_dir)
    with open(path) as f:
        try:
            board = json.load(f)
        except ValueError as e:
            raise BoardError("%s: not valid JSON: %s" % (path, e))
    check(board, name)
    return board


def _require(cond, name, message):
    if not cond:
        raise BoardError("board %s: %s" % (name, message))


def _pin(board, name, section, key="pin"):
    value = (board.get(section) or {}).get(key)
    _require(
        isinstance(value, int) and not isinstance(value, bool),
        name,
        "%s.%s must be a GPIO number" % (section, key),
    )
    chip = CHIPS[board["chip"]]
    _require(value in chip["gpios"], name, "%s.%s: GPIO%d does not exist on %s" % (
        section, key, value, board["chip"]))
    _require(value not in chip["flash_pins"], name, "%s.%s: GPIO%d is a flash/PSRAM pin" % (
        section, key, value))
    return value


def _flag(board, name, section, key):
    _require(isinstance(board[section].get(key), bool), name, "%s.%s must be true or false" % (
        section, key))


def check(board, name):
    """Raise BoardError unless ``board`` follows the format and its chip's pin rules."""
    _require(isinstance(board, dict), name, "the file must hold a JSON object")
    _require(board.get("name") == name, name, "\"name\" must be %r (the file name)" % name)
    _require(board.get("chip") in CHIPS, name, "\"chip\" must be one of %s" % ", ".join(
        sorted(CHIPS)))
    chip = CHIPS[board["chip"]]
    _require(board.get("march") == chip["march"], name, "\"march\" for %s is %s" % (
        board["chip"], chip["march"]))
    _check_uart(board, name, chip)
    _pin(board, name, "led")
    _require(board["led"].get("kind") in LED_KINDS, name, "led.kind must be gpio or ws2812")
    _flag(board, name, "led", "active_low")
    _pin(board, name, "button")
    _flag(board, name, "button", "active_low")
    if board.get("p1_request") is not None:
        pin = _pin(board, name, "p1_request")
        _require(pin not in chip["strapping"] and pin not in chip["input_only"], name,
                 "p1_request: GPIO%d is a strapping or input-only pin" % pin)
        _flag(board, name, "p1_request", "active_high")
    if board.get("wifi_txpower") is not None:
        # The same bounds as the configuration's wifi.txpower, which overrides it.
        cap = board["wifi_txpower"]
        _require(isinstance(cap, (int, float)) and not isinstance(cap, bool) and 2 <= cap <= 21, name,
                 "wifi_txpower must be a number of dBm from 2 to 21 (or absent)")
    _require(isinstance(board.get("notes"), str) and board["notes"], name,
             "\"notes\" must say why these pins")
    _check_distinct(board, name)


def _check_distinct(board, name):
    seen = {}
    for section, key in PIN_FIELDS:
        part = board.get(section)
        if part is None:
            continue
        pin = part[key]
        _require(pin not in seen, name, "GPIO%d used twice (%s and %s.%s)" % (
            pin, seen.get(pin), section, key))
        seen[pin] = "%s.%s" % (section, key)


def _check_uart(board, name, chip):
    uart = board.get("uart") or {}
    _require(uart.get("id") in chip["uart_ids"], name, "uart.id must be one of %s (UART0 is the REPL)"
             % (chip["uart_ids"],))
    rx = _pin(board, name, "uart", "rx")
    tx = _pin(board, name, "uart", "tx")
    # A meter line pulled up or down at reset would change how the chip boots.
    _require(rx not in chip["strapping"], name, "uart.rx: GPIO%d is a strapping pin" % rx)
    _require(rx not in chip["usb"] and tx not in chip["usb"], name, "uart pins must not be USB pins")
    _require(tx not in chip["input_only"], name, "uart.tx: GPIO%d is input only" % tx)
    _require(rx != tx, name, "uart.rx and uart.tx must differ")
    _flag(board, name, "uart", "invert_rx")
