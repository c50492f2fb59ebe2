"""A connect timeout for umqtt.simple before 1.4, which takes none (MQTT 3.1.1 CONNECT
and CONNACK are still umqtt's own).

PyPI's umqtt.simple for the unix port is 1.3.4: its ``connect()`` opens a socket
through its module's ``socket`` name and waits for CONNACK without a timeout, so a
broker that accepts the TCP connection and never answers (a frozen broker) blocked
the whole gateway, meter reader and HTTP included. ESP32 builds freeze a newer
umqtt that takes ``timeout``: app/mqtt.py loads this module only when that fails,
and drops it once connected.
"""

import sys


class _TimedSockets:
    """Stands in for umqtt.simple's ``socket`` module: the sockets it makes time out."""

    def __init__(self, real, timeout):
        self.real = real
        self.timeout = timeout

    def socket(self, *args):
        sock = self.real.socket(*args)
        sock.settimeout(self.timeout)
        return sock

    def getaddrinfo(self, *args):
        return self.real.getaddrinfo(*args)


def connect(client, timeout):
    """``client.connect()`` with every socket call timing out after ``timeout`` s."""
    module = sys.modules[type(client).__module__]
    real = module.socket
    module.socket = _TimedSockets(real, timeout)
    try:
        client.connect()
    finally:
        module.socket = real
