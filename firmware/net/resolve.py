"""A host name (mqtt.host, the time server) to an IPv4 address while the event loop
runs: one DNS query
over UDP (RFC 1035 4.1) to the name server the network gave, or for a name under
``.local`` a one-shot multicast DNS query (RFC 6762 5.1: sent from a port other than
5353, the responder answers by unicast to that port, with the query's ID).

Why not socket.getaddrinfo(): on the ESP32 it holds the whole program until lwIP has
its answer, seconds to tens of seconds when the name server is slow or gone, and the
meter port is not read meanwhile. Loaded by app/mqtt_connect.py and net/ntp.py for a
host name when the board knows a name server, and dropped with them after.

Query and answer (big-endian 16-bit fields)::

    ID | flags (RD 0x0100) | QDCOUNT 1 | ANCOUNT | NSCOUNT | ARCOUNT
    question:  labels (len, bytes ...) 00 | TYPE A 0001 | CLASS IN 0001
    answer:    name (labels or a C0xx pointer) | TYPE | CLASS | TTL (4) | RDLENGTH | RDATA

The first A record of the answer section is taken (a CNAME before it is passed over).
"""

import os
import socket

from decoder.compat import const
from net import exchange

_DNS_PORT = const(53)
_MDNS_GROUP = "224.0.0.251"
_MDNS_PORT = const(5353)
_TYPE_A = const(1)
_CLASS_IN = const(1)
_RCODE_NAME_ERROR = const(3)
_ANSWER_MAX = const(512)  # an answer over UDP without EDNS is at most 512 bytes (RFC 1035 4.2.1)


def is_address(host):
    """True for an IPv4 or IPv6 literal, which getaddrinfo() takes without a lookup."""
    return ":" in host or host.replace(".", "").isdigit()


def query(name, ident, recursion):
    """The question ``name``, type A, as a DNS message with ID ``ident``."""
    msg = bytearray(12)  # header: ID, flags, one question, no records
    msg[0] = ident >> 8
    msg[1] = ident & 0xFF
    msg[2] = 1 if recursion else 0  # RD: a home router's server looks the name up for us
    msg[5] = 1
    for label in name.rstrip(".").split("."):
        label = label.encode()
        if not 0 < len(label) < 64:  # a DNS label is 1 to 63 bytes
            raise OSError("%r is not a host name" % name)
        msg.append(len(label))
        msg += label
    msg += b"\x00\x00\x01\x00\x01"
    return msg


def _after_name(msg, pos):
    # The position after the (possibly compressed) name at ``pos``.
    while msg[pos]:
        if msg[pos] >= 0xC0:  # a pointer ends the name
            return pos + 2
        pos += 1 + msg[pos]
    return pos + 1


def _word(msg, pos):
    return msg[pos] << 8 | msg[pos + 1]


def first_address(msg, ident):
    """The first A record's address in the answer ``msg`` as "a.b.c.d"; None when the
    message is not the answer to query ``ident`` (or is cut short); OSError when it says
    there is none."""
    if len(msg) < 12 or _word(msg, 0) != ident or not msg[2] & 0x80:
        return None
    try:
        return _read_answer(msg)
    except IndexError:  # cut short: wait for a whole one
        return None


def _read_answer(msg):
    rcode = msg[3] & 0x0F
    if rcode == _RCODE_NAME_ERROR:
        raise OSError("no such host (DNS)")
    if rcode:
        raise OSError("the name server failed (DNS error %d)" % rcode)
    pos = 12
    for _ in range(_word(msg, 4)):
        pos = _after_name(msg, pos) + 4
    for _ in range(_word(msg, 6)):
        pos = _after_name(msg, pos) + 10
        # The top bit of an mDNS record's class is cache-flush, not part of the class.
        if _word(msg, pos - 10) == _TYPE_A and _word(msg, pos - 8) & 0x7FFF == _CLASS_IN and _word(msg, pos - 2) == 4:
            return "%d.%d.%d.%d" % (msg[pos], msg[pos + 1], msg[pos + 2], msg[pos + 3])
        pos += _word(msg, pos - 2)
    raise OSError("no address for this host (DNS)")


async def lookup(name, server, timeout):
    """The IPv4 address of ``name`` as a string, asked of ``server`` ("ip" or "ip:port";
    names under .local are asked of the mDNS group), within ``timeout`` s."""
    if name.rstrip(".").endswith(".local"):
        where = (_MDNS_GROUP, _MDNS_PORT)
    else:
        host, _, port = server.partition(":")
        where = (host, int(port) if port else _DNS_PORT)
    ident = int.from_bytes(os.urandom(2), "big")  # unguessable: an answer must match it
    ask = query(name, ident, where[1] != _MDNS_PORT)
    found = await exchange(socket.getaddrinfo(where[0], where[1])[0][-1], ask,
                           lambda msg: first_address(msg, ident), _ANSWER_MAX, timeout)
    if found is None:
        raise OSError("no answer from the name server %s" % where[0])
    return found
