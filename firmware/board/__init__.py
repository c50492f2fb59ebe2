"""The hardware boundary: the only package that imports machine, network or esp32.

``board.Board`` is the ESP32 implementation on the device and the unix twin
everywhere else; both offer the same methods (see board/unix.py for the list),
so app/ never asks which one it runs on.
"""

import sys

if sys.platform == "esp32":
    from board.esp32 import Board  # noqa: F401
else:
    from board.unix import Board  # noqa: F401
