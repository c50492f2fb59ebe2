"""The captive portal: first-boot provisioning over the dongle's own access point.

mode.py decides portal or station, dns.py answers every name with the AP address, page.py
renders the one HTML page, form.py turns the posted form into a validated configuration,
auth.py guards /config on the LAN, app.py wires them onto the HTTP server, boot.py runs
the portal mode, and lan.py mounts /config on the gateway's server, loading the rest lazily.
"""
