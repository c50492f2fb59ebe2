"""meterlink entry point: the ESP32 runs this at boot; on unix run
``micropython firmware/main.py --config FILE``."""

import sys

from app.app import main

status = main()
if status:
    sys.exit(status)
