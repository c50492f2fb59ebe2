"""Small network clients over UDP that never block the event loop: DNS (resolve.py) for
mqtt.host and the time server, NTP (ntp.py) for the ESP32's clock. Used by app/ and
board/ alike; each is loaded for one use and dropped after.

``exchange`` is their one request/reply step: a datagram sent, sent again each second
(UDP may lose either), the first reply the caller accepts returned, the loop running
meanwhile.
"""

import select
import socket

try:
    import asyncio
except ImportError:  # pragma: no cover
    import uasyncio as asyncio

from app.clock import since_ms, ticks_ms

_LOOK_EVERY = 0.02  # s between looks for a reply
_ASK_EVERY_MS = 1000


async def exchange(to, request, accept, size, timeout):
    """The first ``accept(reply)`` that is not None, for ``request`` sent to the socket
    address ``to``; replies up to ``size`` bytes; None after ``timeout`` s."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        start = asked = ticks_ms()
        sock.sendto(request, to)
        while since_ms(start) < timeout * 1000:
            if poller.poll(0):
                found = accept(sock.recv(size))
                if found is not None:
                    return found
            elif since_ms(asked) >= _ASK_EVERY_MS:
                asked = ticks_ms()
                sock.sendto(request, to)
            await asyncio.sleep(_LOOK_EVERY)
    finally:
        sock.close()
    return None
