"""Install umqtt.simple for the MicroPython unix port into .venv/mplib (filled in by the gateway work)."""
