"""Unix time from an NTP server while the event loop runs: one client request over UDP
(RFC 5905, 7.3 packet format), for the ESP32 board's clock.

micropython-lib's ntptime holds the whole program: its getaddrinfo() of the server for
as long as the name server takes, its recv() up to a second. The meter port is not read
meanwhile. Loaded for each sync (daily) and dropped after, with net/resolve.py.

Request and reply, 48 bytes, big-endian::

    LI VN Mode | stratum | poll | precision | root delay (4) | root dispersion (4) | ref id (4)
    reference (8) | originate (8) | receive (8) | transmit (8)     timestamps: seconds since
                                                                  1900 (32 bits), fraction (32)

The request is version 4, mode 3 (client) with 8 random bytes as its transmit time; a
server's reply carries them back as its originate time (RFC 5905 8), so a late answer to
an earlier request or a forged one is passed over. Taken: mode 4 (server), stratum 1-15
(0 is a kiss-o'-death), and the seconds of its transmit time.
"""

import os
import socket

from decoder.compat import const
from net import exchange, resolve

_PORT = const(123)
_PACKET = const(48)
_VERSION_4_CLIENT = const(0x23)  # LI 0, VN 4, mode 3
_MODE_SERVER = const(4)
_ORIGINATE = const(24)
_TRANSMIT = const(40)
_TO_UNIX = 2208988800  # seconds from 1900-01-01 (NTP's era 0) to 1970-01-01
_ERA = 1 << 32  # NTP seconds wrap in 2036: a value below 1968's is of era 1
_ERA_SPLIT = 0x80000000


def request(nonce):
    """The 48-byte client request carrying ``nonce`` (8 bytes) as its transmit time."""
    packet = bytearray(_PACKET)
    packet[0] = _VERSION_4_CLIENT
    packet[_TRANSMIT:] = nonce
    return packet


def reply_time(packet, nonce):
    """Unix seconds from the server's ``packet``; None when it is no valid reply to ``nonce``."""
    if len(packet) < _PACKET or packet[0] & 7 != _MODE_SERVER or not 0 < packet[1] < 16:
        return None
    if packet[_ORIGINATE:_ORIGINATE + 8] != nonce:
        return None
    seconds = int.from_bytes(packet[_TRANSMIT:_TRANSMIT + 4], "big")
    if not seconds:
        return None
    if seconds < _ERA_SPLIT:
        seconds += _ERA
    return seconds - _TO_UNIX


async def unix_time(host, name_server, timeout, port=_PORT):
    """Unix seconds from the NTP server ``host`` within ``timeout`` s; a name is asked of
    ``name_server`` (see net/resolve.py), or of getaddrinfo() without one. OSError when
    no valid reply came."""
    if name_server and not resolve.is_address(host):
        host = await resolve.lookup(host, name_server, timeout)
    nonce = os.urandom(8)
    seconds = await exchange(socket.getaddrinfo(host, port)[0][-1], request(nonce),
                             lambda packet: reply_time(packet, nonce), _PACKET, timeout)
    if seconds is None:
        raise OSError("no answer from the time server %s" % host)
    return seconds
