"""`make flash`: erase an ESP32 and write a MicroPython release with esptool (v5 command names).

A MicroPython release for the ESP32 family is one ``.bin`` that starts with the bootloader,
so it goes at the bootloader's offset: 0x1000 on the ESP32, 0x0 on the C3 and S3
(boardfile.CHIPS). Before anything is erased the file is checked:

    byte 0        0xE9                 every ESP image starts with this magic
    bytes 12-13   chip id, little end. 0 ESP32, 5 ESP32-C3, 9 ESP32-S3 (extended header)

so a ``.uf2``, an ``.elf`` or a release for another chip is refused with the reason.
"""

import os
import sys

import boardfile

# esptool's write speed: the rate CP210x, CH340 and native USB all sustain; 921600 fails on
# some CH340 clones and long cables.
FLASH_BAUD = 460800
# First byte of every ESP firmware image (esptool's ESP_IMAGE_MAGIC).
IMAGE_MAGIC = 0xE9
# Offset of the chip id in the image: 8-byte header, then the extended header, id at +4.
IMAGE_CHIP_ID_AT = 12
ROOT = boardfile.ROOT


class FlashError(Exception):
    """The firmware file is missing, is not an ESP image, or is built for another chip."""


def _repo_path(path):
    path = os.path.abspath(path)
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


def flash_steps(board, port, firmware):
    """[(what, argv)]: esptool erase, then write the MicroPython image at the chip's offset."""
    chip = boardfile.CHIPS[board["chip"]]
    check_image(firmware, board)
    esptool = [_repo_path(sys.executable), "-m", "esptool", "--chip", board["chip"], "--port", port]
    return [
        ("erase the whole flash (old filesystem included)", esptool + ["erase-flash"]),
        ("write %s at 0x%x" % (os.path.basename(firmware), chip["flash_offset"]),
         esptool + ["--baud", str(FLASH_BAUD), "write-flash", "0x%x" % chip["flash_offset"],
                    firmware]),
    ]


def check_image(path, board):
    """Refuse a file that is not an ESP firmware image, or one built for another chip."""
    if not path or not os.path.isfile(path):
        raise FlashError(
            "firmware image %r not found: download the MicroPython release for %s "
            "(a .bin) and pass FIRMWARE=path" % (path, board["chip"]))
    with open(path, "rb") as f:
        head = f.read(IMAGE_CHIP_ID_AT + 2)
    if len(head) < IMAGE_CHIP_ID_AT + 2 or head[0] != IMAGE_MAGIC:
        raise FlashError("%s is not an ESP firmware image (no 0xE9 header): take the .bin, "
                          "not the .uf2, .elf or .app-bin" % path)
    chip_id = head[IMAGE_CHIP_ID_AT] | head[IMAGE_CHIP_ID_AT + 1] << 8
    wanted = boardfile.CHIPS[board["chip"]]["image_chip_id"]
    if chip_id != wanted:
        names = dict((c["image_chip_id"], n) for n, c in boardfile.CHIPS.items())
        raise FlashError("%s is built for %s, but board %s has an %s" % (
            path, names.get(chip_id, "chip id %d" % chip_id), board["name"], board["chip"]))
