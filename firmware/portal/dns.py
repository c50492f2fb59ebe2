"""Captive-portal DNS responder (RFC 1035 sections 4.1 and 4.2.1): every A query for any
name is answered with the access point's own address, so a phone's connectivity check and
any URL typed into the browser land on the portal.

Query (only what we read)::

    0      2      4        6        8        10       12
    | ID   | flags| QDCOUNT| ANCOUNT| NSCOUNT| ARCOUNT| QNAME (labels, 0-terminated) QTYPE QCLASS

Answer: the header (QR=1, AA=1, RD copied, RA=0, RCODE=0, QDCOUNT=1, ANCOUNT=1 or 0), the
question copied back, and for QTYPE A (or ANY) class IN one record::

    C0 0C | 00 01 (A) | 00 01 (IN) | TTL (4) | 00 04 | a.b.c.d

Other types (AAAA above all) get an empty NOERROR answer, so clients fall back to IPv4.
Anything that is not a well-formed standard query is dropped without a reply.

asyncio has no UDP API: a non-blocking socket is polled from a task.
"""

import socket
import struct

try:
    import asyncio
except ImportError:  # MicroPython before 1.21
    import uasyncio as asyncio

from portal import const

MAX_PACKET = const(512)  # RFC 1035 4.2.1: plain UDP DNS messages are at most 512 bytes
MAX_NAME = const(255)  # RFC 1035 2.3.4: a domain name is at most 255 octets on the wire
MAX_LABEL = const(63)  # RFC 1035 2.3.4: a label is at most 63 octets
TTL = const(60)  # seconds: short, so phones forget the fake answers soon after setup
POLL_MS = const(50)  # queue check interval: DNS retries after ~1 s, 50 ms costs nothing
MAX_BURST = const(16)  # packets answered per wake-up, so a flood cannot starve other tasks

_HEADER = const(12)
_QR = const(0x8000)
_OPCODE = const(0x7800)
_RD = const(0x0100)
_AA = const(0x0400)
_TYPE_A = const(1)
_TYPE_ANY = const(255)
_CLASS_IN = const(1)
_ANSWER_LEN = const(16)  # pointer 2 + type 2 + class 2 + ttl 4 + rdlength 2 + address 4


def question_end(packet):
    """Offset just past the single question of a standard query, or None if malformed."""
    n = len(packet)
    if n < _HEADER + 5 or n > MAX_PACKET:
        return None
    flags, qdcount = struct.unpack_from(">HH", packet, 2)
    if flags & (_QR | _OPCODE) or qdcount != 1:
        return None  # a response, a non-QUERY opcode, or not exactly one question
    pos = _HEADER
    while True:
        if pos >= n:
            return None
        length = packet[pos]
        if length == 0:
            break
        if length > MAX_LABEL:
            return None  # a compression pointer or reserved label type: not in a query
        pos += 1 + length
        if pos - _HEADER > MAX_NAME:
            return None
    pos += 5  # the zero octet, QTYPE, QCLASS
    return pos if pos <= n else None


def answer(packet, address, out):
    """Write the reply to ``packet`` into ``out`` (bytearray); returns its length or 0."""
    qend = question_end(packet)
    if qend is None:
        return 0
    qtype, qclass = struct.unpack_from(">HH", packet, qend - 4)
    hit = qclass == _CLASS_IN and qtype in (_TYPE_A, _TYPE_ANY)
    flags = struct.unpack_from(">H", packet, 2)[0]
    out[0:2] = packet[0:2]
    struct.pack_into(">HHHHH", out, 2, _QR | _AA | (flags & _RD), 1, 1 if hit else 0, 0, 0)
    out[_HEADER:qend] = packet[_HEADER:qend]
    if not hit:
        return qend
    struct.pack_into(">HHHIH", out, qend, 0xC000 | _HEADER, _TYPE_A, _CLASS_IN, TTL, 4)
    out[qend + 12 : qend + _ANSWER_LEN] = address
    return qend + _ANSWER_LEN


def address_bytes(ip):
    """'192.168.4.1' -> b'\\xc0\\xa8\\x04\\x01'; raises ValueError on anything else."""
    parts = ip.split(".")
    if len(parts) != 4:
        raise ValueError("not an IPv4 address: %s" % ip)
    values = [int(p) for p in parts]
    for v in values:
        if v < 0 or v > 255:
            raise ValueError("not an IPv4 address: %s" % ip)
    return bytes(values)


class DnsResponder:
    """Answers every A query with ``ip``; ``await run()`` until ``close()``."""

    def __init__(self, ip, port=53, host="0.0.0.0"):
        self.address = address_bytes(ip)
        self.port = port
        self.host = host
        self.answered = 0
        self.dropped = 0
        self._out = bytearray(MAX_PACKET + _ANSWER_LEN)
        self._sock = None

    def open(self):
        """Bind the UDP socket (separate from run() so a bind error surfaces at once)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(socket.getaddrinfo(self.host, self.port)[0][-1])
        sock.setblocking(False)
        self._sock = sock

    def close(self):
        """Stop answering and release the port."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def poll(self):
        """Answer what is queued (at most MAX_BURST); returns how many packets were read."""
        for count in range(MAX_BURST):
            try:
                packet, peer = self._sock.recvfrom(MAX_PACKET + 1)
            except OSError:
                return count  # EAGAIN: the queue is empty
            length = answer(packet, self.address, self._out)
            if length == 0:
                self.dropped += 1
                continue
            try:
                self._sock.sendto(memoryview(self._out)[:length], peer)
                self.answered += 1
            except OSError:
                self.dropped += 1  # the client vanished; the next query will do
        return MAX_BURST

    async def run(self):
        """Poll the socket until close(); opens it first if needed."""
        if self._sock is None:
            self.open()
        while self._sock is not None:
            if self.poll() < MAX_BURST:
                await asyncio.sleep(POLL_MS / 1000)
            else:
                await asyncio.sleep(0)
