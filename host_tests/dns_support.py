"""A name server on 127.0.0.1 for the tests of app/resolve.py: a real UDP socket that
answers A questions (RFC 1035) as a home router's would, or slowly, or not at all.

The answer names the host by a CNAME first and gives the address under a compression
pointer to that name, as answers from the field often do; a reply with the wrong ID
goes out before each real one (a late answer to an earlier query looks like that).
"""

import socket
import struct
import threading


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
