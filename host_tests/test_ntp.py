"""net/ntp.py, the ESP32's clock from an NTP server (RFC 5905) without holding the event
loop, under MicroPython against a real UDP time server on 127.0.0.1.

micropython-lib's ntptime, which the board used before, blocked the whole gateway for
its DNS lookup and up to a second for the reply."""

from mp import run_micropython
from net_support import NOW, FakeNameServer, FakeTimeServer

# The time, then the longest stall of the event loop while it was asked for.
TICKER = """
import asyncio, time
from net import ntp
async def tick(state):
    last = time.ticks_ms()
    while True:
        await asyncio.sleep(0.05)
        now = time.ticks_ms()
        state[0] = max(state[0], time.ticks_diff(now, last))
        last = now
async def main():
    state = [0]
    ticker = asyncio.create_task(tick(state))
    try:
        got = await ntp.unix_time(%r, %r, %r, %d)
    except OSError as e:
        got = e.args[0]
    print(state[0], "|", got)
asyncio.run(main())
"""


def _ask(host, timeout, name_server=None, **server_options):
    """(longest loop stall in ms, the time or the error, the server) of one ask of a
    FakeTimeServer made with ``server_options``."""
    server = FakeTimeServer(**server_options)
    try:
        out = run_micropython(["-c", TICKER % (host, name_server, timeout, server.port)])
    finally:
        server.close()
    assert out.returncode == 0, out.stderr.decode()
    worst, got = out.stdout.decode().strip().split(" | ")
    return int(worst), got, server


def test_the_time_comes_while_the_loop_runs():
    worst, got, server = _ask("127.0.0.1", 5, delay=1.5)
    assert got == str(NOW)  # not the reply that did not echo the request
    assert worst < 500, worst
    request = server.requests[0]
    assert len(request) == 48 and request[0] == 0x23  # version 4, client
    assert request[40:48] != bytes(8)  # the nonce the reply must carry back


def test_a_server_that_never_answers_is_named_without_stalling_the_loop():
    worst, got, server = _ask("127.0.0.1", 3, silent=True)
    assert got == "no answer from the time server 127.0.0.1"
    assert worst < 500, worst
    assert len(server.requests) >= 3  # sent again each second


def test_a_kiss_of_death_is_no_time():
    assert _ask("127.0.0.1", 1.5, stratum=0)[1] == "no answer from the time server 127.0.0.1"


def test_the_server_is_named_by_host_name_through_the_name_server():
    name_server = FakeNameServer({"time.meterlink.test": "127.0.0.1"}, delay=0.5)
    try:
        worst, got, _ = _ask("time.meterlink.test", 5, name_server.address())
    finally:
        name_server.close()
    assert got == str(NOW) and worst < 500
    assert name_server.queries[0][:2] == ("time.meterlink.test", 1)


def test_seconds_past_2036_are_of_the_next_era():
    # NTP seconds wrap on 2036-02-07; a small value then means era 1, not 1900.
    server = FakeTimeServer(now=2208988800)  # 2040-01-01
    script = ("from net import ntp\nprint(ntp.reply_time(bytes.fromhex(%r), bytes(8)))"
              % server.reply(bytes(8), 2208988800).hex())
    server.close()
    out = run_micropython(["-c", script])
    assert out.stdout.decode().strip() == "2208988800", out.stderr.decode()
