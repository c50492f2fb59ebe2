"""Serial ports on the host: find the dongle, and record raw meter bytes for tools/decode.py.

Used by tools/deploy.py (``console``, ``deploy``, ``flash``, ``capture``). pyserial comes with
mpremote. Nothing here runs on the device.
"""

import os
import sys
import time

# USB vendor ids of the USB-serial bridges found on ESP32 boards: only these count when no
# port is given, so a phone or a 3D printer on another port is never picked by mistake.
KNOWN_VIDS = {
    0x10C4: "Silicon Labs CP210x",
    0x1A86: "WCH CH340/CH9102",
    0x0403: "FTDI",
    0x303A: "Espressif native USB (C3/S3)",
}
# Those of the USB-serial adapters wired to a meter's port (P1 cables, M-Bus slave adapters,
# TTL cables): the same bridges and Prolific's PL2303 (cheap P1 cables), but not Espressif's
# own USB, which is an ESP32 (the dongle: its port carries no meter byte).
ADAPTER_VIDS = {vid: name for vid, name in KNOWN_VIDS.items() if vid != 0x303A}
ADAPTER_VIDS[0x067B] = "Prolific PL2303"

# How often `capture` tells the user it is still recording: often enough to see bytes flow.
PROGRESS_EVERY_S = 1.0
# Read size per call: above the longest burst one UART read returns at 115200 baud in 50 ms.
READ_CHUNK = 4096
# Serial read timeout: short, so the capture notices its deadline within a tenth of a second.
READ_TIMEOUT_S = 0.1


# What a command looks for, in its words: deploy, console and flash talk to the ESP32 board;
# capture records the meter's port, through a USB-serial adapter wired to it (the ESP32 only
# sends on what it decoded, so a capture of its USB port holds no meter byte).
BOARD = {
    "vids": KNOWN_VIDS,
    "none": "no ESP32 USB-serial port is plugged in",
    "plug": "plug the board in with a USB data cable (charge-only cables are common)",
    "only": "using the only ESP32 serial port found: %s [%s]",
}
METER_ADAPTER = {
    "vids": ADAPTER_VIDS,
    "none": "no USB-serial adapter is plugged in",
    "plug": "a capture records the meter's port through a USB-serial adapter wired to it (a P1 "
            "cable, an M-Bus slave adapter, a TTL adapter on the customer interface), not the ESP32: "
            "plug the adapter in",
    "only": "using the only USB-serial port found: %s [%s]; it must be the adapter on the meter's "
            "port (the ESP32's holds no meter byte): else pass PORT=…",
}


class PortError(Exception):
    """No usable serial port: nothing plugged in, several candidates, or a path that is absent."""


def candidates(vids=KNOWN_VIDS):
    """[(device, description)] of ports whose USB bridge is one of ``vids`` (by default
    those an ESP32 board uses)."""
    from serial.tools import list_ports

    found = []
    for info in list_ports.comports():
        if info.vid in vids:
            found.append((info.device, "%s (%s)" % (info.description, vids[info.vid])))
    return sorted(found)


def _listing(found, wanted):
    if not found:
        return wanted["none"]
    return "ports found: " + ", ".join("%s [%s]" % pair for pair in found)


def resolve(port, found=None, wanted=BOARD):
    """The port to use: the one given (checked to exist), else the only candidate plugged in.
    ``wanted``: BOARD or METER_ADAPTER, the words for what the command looks for."""
    if found is None:
        found = candidates(wanted["vids"])
    if port:
        if port.startswith("/dev/") and not os.path.exists(port):
            raise PortError("serial port %s does not exist; %s" % (port, _listing(found, wanted)))
        return port
    if len(found) == 1:
        print(wanted["only"] % found[0])
        return found[0][0]
    if not found:
        raise PortError(
            "no serial port found: %s and check `ls /dev/ttyUSB* /dev/ttyACM*`, or pass "
            "PORT=/dev/…" % wanted["plug"]
        )
    raise PortError("several serial ports found, pass PORT=… to pick one; " + _listing(found, wanted))


def capture(port, out, baud, parity, seconds, max_bytes=None, opener=None, bits=8):
    """Copy raw bytes from ``port`` to the file ``out`` for ``seconds`` (or until Ctrl-C).

    The file holds the bytes exactly as received, nothing added: tools/decode.py reads it as a
    binary capture. Returns the number of bytes written.
    """
    extra = {}
    if opener is None:
        import serial

        opener = serial.serial_for_url
        # Sole use, as mpremote asks for it: two readers of one port split its bytes
        # between them, and each capture then holds half of every push.
        extra["exclusive"] = True
    try:
        f = open(out, "wb")
    except OSError as e:
        raise PortError("cannot write the capture to %s: %s" % (out, e.strerror or e))
    try:
        link = opener(port, baudrate=baud, parity=parity, bytesize=bits, stopbits=1,
                      timeout=READ_TIMEOUT_S, **extra)
    except (OSError, ValueError) as e:  # serial.SerialException is an OSError
        f.close()
        os.remove(out)
        raise PortError("cannot open %s: %s (another program using it, or not a serial port?)"
                        % (port, e))
    total = 0
    deadline = time.monotonic() + seconds
    next_report = time.monotonic() + PROGRESS_EVERY_S
    try:
        with f:
            while time.monotonic() < deadline and (max_bytes is None or total < max_bytes):
                chunk = link.read(READ_CHUNK)
                if chunk:
                    f.write(chunk)
                    f.flush()
                    total += len(chunk)
                if time.monotonic() >= next_report:
                    next_report += PROGRESS_EVERY_S
                    sys.stdout.write("\r%d bytes recorded" % total)
                    sys.stdout.flush()
    except KeyboardInterrupt:
        print("\nstopped by Ctrl-C")
    except OSError as e:  # the adapter pulled out, the port taken away
        print("\nthe port stopped: %s" % e)
    finally:
        link.close()
    print("\n%d bytes written to %s" % (total, out))
    return total
