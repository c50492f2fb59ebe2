# Freeze manifest for a custom MicroPython firmware with meterlink's code in flash.
#
# Not built by this repository (that needs ESP-IDF and the MicroPython source tree); see
# README, "First flash", "Code in flash". MicroPython manifest syntax (docs: "MicroPython
# manifest files"): paths here are relative to this file's directory.
#
#   cd micropython/ports/esp32
#   make BOARD=ESP32_GENERIC FROZEN_MANIFEST=/path/to/meterlink/boards/manifest.py
#
# Frozen modules are compiled by the firmware build for the chip's own architecture, so the
# viper kernels (decoder/*_viper.py) come out right for ESP32, S3 (xtensawin) and C3 (rv32imc).
# main.py is not frozen: MicroPython runs main.py from the filesystem, so `make deploy` (or
# `mpremote fs cp firmware/main.py :main.py`) still puts it there, with /board.json and the
# config. On the ESP32 sys.path is ['', '.frozen', '/lib']: the filesystem root comes first,
# so a package an earlier `make deploy` left there would shadow the frozen one. Start from
# an erased flash (`make flash` erases it) and copy only main.py and board.json.

# The port's own frozen modules: asyncio, neopixel, the _boot.py that mounts the filesystem.
include("$(PORT_DIR)/boards/manifest.py")

# The firmware (docs/design.md): every package, and the one top-level module.
for _name in ("decoder", "app", "net", "board", "web", "portal"):
    package(_name, base_path="../firmware")
module("config.py", base_path="../firmware")

# MQTT client from micropython-lib (the same module tools/install_umqtt.py puts in .venv).
require("umqtt.simple")
