"""net/resolve.py's DNS messages (RFC 1035 4.1, RFC 6762 for .local), read and written
under MicroPython, and any reply at all (DNS or NTP) fed to the parsers on CPython. The
lookups themselves, against a real name server on 127.0.0.1, are in
test_mqtt_supervisor.py and test_ntp.py."""

import socket
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from net_support import encode_name
from mp import run_micropython


def _header(ident, flags, answers):
    return struct.pack(">HHHHHH", ident, flags, 0, answers, 0, 0)


def _record(name, rtype, rclass, rdata):
    return encode_name(name) + struct.pack(">HHIH", rtype, rclass, 120, len(rdata)) + rdata


ADDRESS = socket.inet_aton("192.168.1.10")
SIX = socket.inet_aton("192.168.1.10") * 4  # an AAAA record's 16 bytes
CASES = [
    # An mDNS responder's unicast answer: authoritative, the class's top bit is cache-flush.
    ("mdns", _header(0x1234, 0x8400, 1) + _record("hass.local", 1, 0x8001, ADDRESS)),
    ("aaaa first", _header(0x1234, 0x8180, 2) + _record("mqtt.lan", 28, 1, SIX) + _record("mqtt.lan", 1, 1, ADDRESS)),
    ("a query", _header(0x1234, 0x0100, 1) + _record("mqtt.lan", 1, 1, ADDRESS)),
    ("other id", _header(0x4321, 0x8180, 1) + _record("mqtt.lan", 1, 1, ADDRESS)),
    ("only aaaa", _header(0x1234, 0x8180, 1) + _record("mqtt.lan", 28, 1, SIX)),
    ("servfail", _header(0x1234, 0x8182, 0)),
    ("cut short", (_header(0x1234, 0x8180, 1) + _record("mqtt.lan", 1, 1, ADDRESS))[:-8]),
]

READ = """
from net import resolve
for name, hexed in %r:
    try:
        print(name, "=", resolve.first_address(bytes.fromhex(hexed), 0x1234))
    except (OSError, IndexError) as e:
        print(name, "!", type(e).__name__, e.args[0] if type(e) is OSError else "")
"""


def test_answers_are_read_as_the_standard_lays_them_out():
    out = run_micropython(["-c", READ % [(name, msg.hex()) for name, msg in CASES]])
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().splitlines() == [
        "mdns = 192.168.1.10",
        "aaaa first = 192.168.1.10",
        "a query = None",  # not an answer (QR clear)
        "other id = None",  # an answer to another query
        "only aaaa ! OSError no address for this host (DNS)",
        "servfail ! OSError the name server failed (DNS error 2)",
        "cut short = None",  # passed over: lookup() waits for a whole one
    ]


WRITE = """
from net import resolve
print(resolve.query("mqtt.home.arpa.", 0x0102, True).hex())
print(resolve.query("hass.local", 0, False).hex())
for host in ("192.168.1.2", "fd00::2", "mqtt.lan", "mqtt2"):
    print(host, resolve.is_address(host))
try:
    resolve.query("a..b", 1, True)
except OSError as e:
    print(e.args[0])
"""


def test_queries_ask_for_an_a_record_with_recursion_except_of_mdns():
    out = run_micropython(["-c", WRITE])
    assert out.returncode == 0, out.stderr.decode()
    lines = out.stdout.decode().splitlines()
    assert bytes.fromhex(lines[0]) == (struct.pack(">HHHHHH", 0x0102, 0x0100, 1, 0, 0, 0)
                                       + encode_name("mqtt.home.arpa") + b"\x00\x01\x00\x01")
    assert bytes.fromhex(lines[1]) == struct.pack(">HHHHHH", 0, 0, 1, 0, 0, 0) + encode_name("hass.local") + b"\x00\x01\x00\x01"
    assert lines[2:6] == ["192.168.1.2 True", "fd00::2 True", "mqtt.lan False", "mqtt2 False"]
    assert lines[6] == "'a..b' is not a host name"


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=80), st.integers(0, 0xFFFF))
def test_any_reply_is_an_address_none_or_a_named_error(reply, ident):
    # A name server, or anyone on the LAN, may send anything: it must never raise
    # something the connect loop does not expect (IndexError, TypeError...).
    from net import resolve

    message = struct.pack(">H", ident) + reply  # the ID matches: the parse runs
    try:
        found = resolve.first_address(message, ident)
    except OSError as e:
        assert isinstance(e.args[0], str)
        return
    assert found is None or found.count(".") == 3


@settings(max_examples=2000, deadline=None)
@given(st.binary(min_size=48, max_size=68))
def test_any_time_reply_is_a_time_or_none(reply):
    from net import ntp

    nonce = reply[24:32]  # the reply echoes it: the parse runs past the check
    seconds = ntp.reply_time(reply, nonce)
    # 1968-01-20 (era 0's second half begins) to 2104 (era 1's first half ends)
    assert seconds is None or 2 ** 31 - 2208988800 <= seconds < 2 ** 32 + 2 ** 31 - 2208988800


ESP32_IPV6 = """
import asyncio, errno
from app import mqtt_connect

class Esp32Socket:  # what MicroPython's ESP32 port answers for an IPv6 address
    SOCK_STREAM = 1
    def getaddrinfo(self, host, port):
        return [(10, 1, 0, host, None)]
mqtt_connect.socket = Esp32Socket()
try:
    asyncio.run(mqtt_connect.open_socket("fd00::10", 1883, 1))
except OSError as e:
    print("REFUSED", errno.errorcode[e.errno])
"""


def test_an_address_the_esp32_cannot_reach_is_a_connect_failure_not_a_crash():
    # connect(None) raised TypeError, which ended the MQTT task: the watchdog then reset
    # the dongle every 30 s. An OSError is a failed connect, retried with backoff.
    done = run_micropython(["-c", ESP32_IPV6])
    assert done.stdout.decode().strip() == "REFUSED EHOSTUNREACH", done.stdout + done.stderr


def test_a_name_the_unix_resolver_does_not_know_is_said_in_words():
    # The unix port's getaddrinfo raises "[addrinfo error -2]" (EAI_NONAME): README's
    # troubleshooting table promised "no such host (DNS)", which only the ESP32's way said.
    done = run_micropython(["-c", "from app import os_error_name\n"
                            "for text in ('[addrinfo error -2]', '[addrinfo error -5]', '[addrinfo error -3]'):\n"
                            "    print(os_error_name(OSError(text)))"])
    assert done.stdout.decode().split("\n")[:3] == ["no such host (DNS)", "no such host (DNS)",
                                                   "[addrinfo error -3]"], done.stdout + done.stderr


def test_a_name_the_esp32_resolver_does_not_know_is_said_in_words_too():
    # The ESP32's getaddrinfo raises lwIP's EAI_ code negated: OSError(-202), or -2; the
    # status said "failed: OSError(-202,)" (a review of the device code).
    done = run_micropython(["-c", "from app import os_error_name\n"
                            "print(os_error_name(OSError(-202)) + '|' + os_error_name(OSError(-2)))"])
    assert done.stdout.decode().strip() == "no such host (DNS)|no such host (DNS)", done.stdout + done.stderr


TWO_ADDRESSES = """
import asyncio, socket, sys
port = int(sys.argv[1])
listener = socket.socket()  # IPv4 only
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
listener.listen(2)  # handshakes complete in the backlog: nothing need accept

class Resolver:  # a name with an IPv6 and an IPv4 address, IPv6 first, as localhost often is
    SOCK_STREAM = socket.SOCK_STREAM
    def getaddrinfo(self, host, port, *args):
        if host == "dual.example":
            return socket.getaddrinfo("::1", port, *args) + socket.getaddrinfo("127.0.0.1", port, *args)
        return socket.getaddrinfo(host, port, *args)
    def socket(self, *args):
        return socket.socket(*args)
sys.modules["socket"] = Resolver()  # what `import socket` finds from here on

from app import mqtt_connect
from board import unix

async def main():
    sock = await mqtt_connect.open_socket("dual.example", port, 2)
    print("MQTT", "connected")
    sock.close()
    stream = await unix._connected("dual.example", port)
    print("METER", "connected")
    stream.close()

asyncio.run(main())
"""


def test_a_name_whose_first_address_refuses_is_connected_on_the_next():
    # "localhost" is ::1 then 127.0.0.1 on Debian's stock /etc/hosts: a broker, simulator
    # or ser2net on 127.0.0.1 only was refused on ::1 for good (a probe with make run).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = run_micropython(["-c", TWO_ADDRESSES, str(port)])
    assert done.stdout.decode().split() == ["MQTT", "connected", "METER", "connected"], done.stdout + done.stderr


NO_ADDRESS = """
import asyncio, errno, socket, sys

class Resolver:  # a resolver that answers a name with no address at all
    SOCK_STREAM = socket.SOCK_STREAM
    def getaddrinfo(self, host, port, *args):
        return []
sys.modules["socket"] = Resolver()

from app import mqtt_connect
from board import unix

async def main():
    for who, connect in (("MQTT", mqtt_connect.open_socket("empty.example", 1883, 1)),
                         ("METER", unix._connected("empty.example", 2000))):
        try:
            await connect
        except OSError as e:
            print(who, errno.errorcode[e.errno])

asyncio.run(main())
"""


def test_a_name_with_no_address_is_a_host_not_reached_not_a_name_error():
    # Both connect loops raised the last address's error, which a resolver answering an
    # empty list left unset: a NameError that ended the task instead of a failed connect.
    done = run_micropython(["-c", NO_ADDRESS])
    assert done.stdout.decode().split() == ["MQTT", "EHOSTUNREACH", "METER", "EHOSTUNREACH"], \
        done.stdout + done.stderr


def test_a_write_to_a_broker_that_hung_up_is_named_epipe():
    # MicroPython's errno table has no EPIPE: status said "connection lost: OSError(32,)"
    # when a broker dropped the gateway mid-publish (a probe with max_packet_size).
    done = run_micropython(["-c", "from app import os_error_name\n"
                            "print(os_error_name(OSError(32)), os_error_name(OSError(111)))"])
    assert done.stdout.decode().split() == ["EPIPE", "ECONNREFUSED"], done.stdout + done.stderr
