"""The captive portal: first-boot provisioning over the dongle's own access point.

mode.py decides portal or station, dns.py answers every name with the AP address, page.py
renders the one HTML page, form.py turns the posted form into a validated configuration,
auth.py guards /config on the LAN, app.py wires them onto the HTTP server, boot.py runs
the portal mode, and lan.py mounts /config on the gateway's server, loading the rest lazily.
"""

# const for the portal's modules: not decoder.compat's, since importing that loads the whole
# decoder, which portal mode never uses. On MicroPython mpy-cross folds every _NAME = const(n)
# into the code, so only the name "const" itself stays in this package's globals.
try:
    from micropython import const  # noqa: F401
except ImportError:  # CPython (host tests, tools/)

    def const(value):
        """CPython stand-in for micropython.const: the value itself."""
        return value
