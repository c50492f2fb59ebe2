"""The one place where CPython and MicroPython differ for the decoder.

Everything else imports ``const``, ``viper`` and ``IS_MICROPYTHON`` from here
so that the same files run on the ESP32, the unix port and CPython.
"""

import sys

IS_MICROPYTHON = sys.implementation.name == "micropython"

if IS_MICROPYTHON:
    from micropython import const  # noqa: F401
else:

    def const(value):
        """CPython stand-in for micropython.const: the value itself."""
        return value
