"""The captive-portal DNS responder (firmware/portal/dns.py), asked by a real DNS client.

dnspython sends the queries over loopback to the responder running under the MicroPython
unix port and under CPython; the packet functions are also checked in-process.
"""

import socket

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal import dns as responder
from web_support import INTERPRETERS, Child, free_port

AP = "10.1.2.3"

APP = """
import asyncio
from portal.dns import DnsResponder
d = DnsResponder(%r, %d, "127.0.0.1")
d.open()
print("READY")
asyncio.run(d.run())
"""


@pytest.fixture(scope="module", params=INTERPRETERS)
def port(request):
    port = free_port(socket.SOCK_DGRAM)
    child = Child(request.param, APP % (AP, port), heapsize="64k")
    child.wait_for("READY")
    yield port
    assert child.alive(), child.stop()
    output = child.stop()
    assert "Traceback" not in output, output


def ask(port, name, rdtype="A", **kw):
    query = dns.message.make_query(name, rdtype, **kw)
    return query, dns.query.udp(query, "127.0.0.1", port=port, timeout=5)


@pytest.mark.parametrize(
    "name", ["connectivitycheck.gstatic.com", "captive.apple.com", "www.msftconnecttest.com",
             "meterlink.local", "a.b.c.d.e.example", "x"]
)
def test_any_name_gets_the_access_point_address(port, name):
    query, reply = ask(port, name)
    assert reply.id == query.id
    assert reply.rcode() == dns.rcode.NOERROR
    assert reply.flags & dns.flags.QR and reply.flags & dns.flags.AA
    (rrset,) = reply.answer
    assert rrset.name == query.question[0].name
    assert [r.address for r in rrset] == [AP]
    assert rrset.ttl == responder.TTL


def test_a_query_with_edns_is_answered_without_the_opt_record(port):
    _, reply = ask(port, "detectportal.firefox.com", use_edns=0)
    assert [r.address for r in reply.answer[0]] == [AP]
    assert reply.edns < 0


def test_aaaa_gets_an_empty_noerror_so_clients_fall_back_to_ipv4(port):
    _, reply = ask(port, "captive.apple.com", "AAAA")
    assert reply.rcode() == dns.rcode.NOERROR
    assert reply.answer == []


def test_recursion_desired_is_echoed(port):
    _, reply = ask(port, "example.com")
    assert reply.flags & dns.flags.RD
    assert not reply.flags & dns.flags.RA


def malformed_packets():
    good = dns.message.make_query("example.com", "A").to_wire()
    as_response = bytearray(good)
    as_response[2] |= 0x80
    notify = bytearray(good)
    notify[2] |= 4 << 3
    two_questions = bytearray(good)
    two_questions[5] = 2
    pointer = good[:12] + b"\xc0\x0c" + good[-4:]
    long_label = good[:12] + b"\x40" + b"a" * 64 + b"\x00" + good[-4:]
    long_name = good[:12] + b"\x3f" + b"a" * 63 + (b"\x3f" + b"b" * 63) * 4 + b"\x00" + good[-4:]
    return [
        b"",
        b"\x00",
        good[:11],
        good[:-1],
        good[:14],
        bytes(as_response),
        bytes(notify),
        bytes(two_questions),
        pointer,
        long_label,
        long_name,
        good + b"\x00" * 600,
        b"\xff" * 40,
    ]


def test_malformed_packets_get_no_reply_and_do_not_stop_the_responder(port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        for packet in malformed_packets():
            s.sendto(packet, ("127.0.0.1", port))
        query = dns.message.make_query("after.junk", "A")
        s.sendto(query.to_wire(), ("127.0.0.1", port))
        first = dns.message.from_wire(s.recv(1024))  # the first reply is to the good query
    assert first.id == query.id
    assert [r.address for r in first.answer[0]] == [AP]


class TestPacketFunctions:
    def test_answer_matches_what_dnspython_parses(self):
        query = dns.message.make_query("portal.test", "A", id=0x1234)
        out = bytearray(responder.MAX_PACKET + 16)
        length = responder.answer(query.to_wire(), responder.address_bytes("192.168.4.1"), out)
        reply = dns.message.from_wire(bytes(out[:length]))
        assert reply.id == 0x1234
        assert [r.address for r in reply.answer[0]] == ["192.168.4.1"]

    @pytest.mark.parametrize("packet", malformed_packets())
    def test_malformed_packets_produce_no_answer(self, packet):
        assert responder.answer(packet, b"\x01\x02\x03\x04", bytearray(600)) == 0

    @settings(max_examples=500, deadline=None)
    @given(st.binary(max_size=600))
    def test_arbitrary_bytes_never_raise(self, packet):
        out = bytearray(responder.MAX_PACKET + 16)
        length = responder.answer(packet, b"\x01\x02\x03\x04", out)
        assert 0 <= length <= len(out)

    @pytest.mark.parametrize("text", ["1.2.3", "1.2.3.256", "a.b.c.d", "", "1.2.3.4.5"])
    def test_a_bad_ap_address_is_refused_up_front(self, text):
        with pytest.raises(ValueError):
            responder.address_bytes(text)
