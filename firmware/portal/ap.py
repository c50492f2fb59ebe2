"""The setup access point's name and WPA2 passphrase (issue 4), in a module of their own so
the status API and the page footer can show them without loading the portal.

    SSID        meterlink-XXXX   XXXX = the last 4 hex digits of the device id
    passphrase  meterlink-setup  the same on every dongle, printed in README

The passphrase is public on purpose: it only keeps passers-by off the setup page. What
proves ownership is the button after a restart (or the admin password for /config on the LAN).
"""

AP_PREFIX = "meterlink-"
AP_PASSWORD = "meterlink-setup"
AP_ID_DIGITS = 4  # "meterlink-3FA2": enough to tell two dongles in one house apart


def ap_ssid(device_id):
    """``meterlink-XXXX`` from the last hex digits of the device id."""
    digits = [c for c in device_id.upper() if c in "0123456789ABCDEF"]
    tail = "".join(digits[-AP_ID_DIGITS:])
    return AP_PREFIX + (tail or "0000")


def public_info(device_id):
    """What the status API and the page footer show: the AP a user joins for setup."""
    return {"ssid": ap_ssid(device_id), "password": AP_PASSWORD}
