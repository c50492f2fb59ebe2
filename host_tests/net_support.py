"""Servers on 127.0.0.1 for the tests of net/: real UDP sockets that answer as a home
router's name server (RFC 1035 A questions) or a time server (RFC 5905) would, or slowly,
or not at all; and a TCP port that never answers a handshake (``silent_host``).

The answer names the host by a CNAME first and gives the address under a compression
pointer to that name, as answers from the field often do; a reply with the wrong ID
goes out before each real one (a late answer to an earlier query looks like that).
"""

import socket
import struct
import threading

import pytest

NTP_TO_UNIX = 2208988800
NOW = 1795651200  # 2026-11-26T00:00:00Z, what FakeTimeServer says by default


def encode_name(name):
    return b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\x00"


def read_question(msg):
    """(name, qtype, qclass, end) of the question of ``msg``."""
    pos, labels = 12, []
    while msg[pos]:
        labels.append(msg[pos + 1:pos + 1 + msg[pos]].decode())
        pos += 1 + msg[pos]
    qtype, qclass = struct.unpack_from(">HH", msg, pos + 1)
    return ".".join(labels), qtype, qclass, pos + 5


class FakeNameServer:
    """``hosts``: name -> IPv4 address; others get NXDOMAIN. ``delay`` s before each
    answer; ``silent``: never answers. ``queries`` keeps (name, qtype, qclass, flags)."""

    def __init__(self, hosts, delay=0.0, silent=False):
        self.hosts = hosts
        self.delay = delay
        self.silent = silent
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._timers = []
        threading.Thread(target=self._serve, daemon=True).start()

    def address(self):
        return "127.0.0.1:%d" % self.port

    def _serve(self):
        while True:
            try:
                msg, peer = self.sock.recvfrom(512)
            except OSError:
                return  # closed
            name, qtype, qclass, end = read_question(msg)
            self.queries.append((name, qtype, qclass, struct.unpack_from(">H", msg, 2)[0]))
            if self.silent:
                continue
            timer = threading.Timer(self.delay, self._answer, (msg[:end], name, peer))
            self._timers.append(timer)
            timer.start()

    def _answer(self, question, name, peer):
        ident = question[:2]
        if name not in self.hosts:
            reply = ident + struct.pack(">HHHHH", 0x8183, 1, 0, 0, 0) + question[12:]
        else:
            target = "edge." + name
            cname = b"\xc0\x0c" + struct.pack(">HHIH", 5, 1, 300, len(encode_name(target))) + encode_name(target)
            at = len(question) + 12  # the CNAME's target name, pointed at by the A record
            a = struct.pack(">HHHIH", 0xC000 | at, 1, 1, 300, 4) + socket.inet_aton(self.hosts[name])
            reply = ident + struct.pack(">HHHHH", 0x8180, 1, 2, 0, 0) + question[12:] + cname + a
        try:
            wrong = bytes([ident[0] ^ 0x55, ident[1]]) + reply[2:-4] + socket.inet_aton("10.9.9.9")
            self.sock.sendto(wrong, peer)
            self.sock.sendto(reply, peer)
        except OSError:
            pass  # closed meanwhile

    def close(self):
        for timer in self._timers:
            timer.cancel()
        self.sock.close()


class FakeTimeServer:
    """Answers each request after ``delay`` s as a stratum-2 server at Unix time ``now``;
    ``silent`` never answers. Before each real reply goes one that does not echo the
    request's transmit time (a forged or stale one), carrying a time an hour off."""

    def __init__(self, now=NOW, delay=0.0, silent=False, stratum=2):
        self.now, self.delay, self.silent, self.stratum = now, delay, silent, stratum
        self.requests = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                packet, peer = self.sock.recvfrom(512)
            except OSError:
                return
            self.requests.append(packet)
            if not self.silent:
                threading.Timer(self.delay, self._answer, (packet, peer)).start()

    def reply(self, originate, unix_seconds):
        ntp = (unix_seconds + NTP_TO_UNIX) & 0xFFFFFFFF
        return (bytes([0x24, self.stratum, 6, 0xEC]) + bytes(12) + struct.pack(">II", ntp, 0)
                + originate + struct.pack(">II", ntp, 0) + struct.pack(">II", ntp, 0x80000000))

    def _answer(self, packet, peer):
        try:
            self.sock.sendto(self.reply(bytes(8), self.now + 3600), peer)
            self.sock.sendto(self.reply(packet[40:48], self.now), peer)
        except OSError:
            pass

    def close(self):
        self.sock.close()


def silent_host():
    """(a port whose handshakes are never answered, what keeps it so): a listener whose
    backlog is full drops every further SYN, as a switched-off host answers nothing."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    probe = socket.socket()
    probe.settimeout(0.5)
    with pytest.raises(socket.timeout):  # the premise: a connect there hangs
        probe.connect(("127.0.0.1", port))
    probe.close()
    return port, [listener] + fillers
