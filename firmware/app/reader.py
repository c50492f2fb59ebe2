"""The meter reader: bytes from the meter port into the decoder, telegrams into the store.

It never waits on the network: it only awaits the meter port itself, hands
each chunk to the decoder, merges the telegrams into the store and pokes the
publishers (``on_update``), which run as their own tasks. When the port goes
away (TCP source dropped, device unplugged) it reopens it with a growing
backoff and keeps the decoder, so counters and the snapshot survive.
"""

import gc

from app import os_error_name

try:
    import asyncio
except ImportError:  # pragma: no cover
    import uasyncio as asyncio

# One read takes at most this many bytes: the decoder's feed step and about a
# quarter second at 9600 baud, so one read never holds the loop long.
READ_SIZE = 256
# Reconnect backoff (seconds): quick first retry, then at most once a minute
# so a meter without power does not fill a log.
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 60
# Chunks in a row that found no heap to be decoded in: a heap that fragmented beyond
# recovering by itself (a soak at the floor decoded nothing more after such a run, though
# it had 18 kB free). The gateway then calls itself unhealthy: the ESP32's watchdog
# restarts it with a whole heap.
STUCK_AFTER = 50


class MeterReader:
    """Runs forever as a task: ``asyncio.create_task(reader.run())``."""

    def __init__(self, board, source, baud, decoder, store, on_update=None, log=print, line="8N1"):
        self.board = board
        self.source = source
        self.baud = baud
        self.line = line  # character format, config.LINE_FORMATS
        self.decoder = decoder
        self.store = store
        self.on_update = on_update
        self.log = log
        self.connected = False
        self.connects = 0
        self.bytes_read = 0
        self.memory_errors = 0
        self.memory_streak = 0  # chunks in a row lost for lack of heap
        self._tell_at = 1  # the decoder's error count at which the log hears of them next
        self._buf = bytearray(READ_SIZE)
        self._view = memoryview(self._buf)

    async def run(self):
        # A MemoryError anywhere here (opening the port, a read on a fragmented heap)
        # costs one session at most: the task must outlive it, or the gateway stops
        # reading until the watchdog resets the dongle (and on unix, for good).
        delay = BACKOFF_FIRST
        while True:
            try:
                meter = await self.board.open_meter(self.source, self.baud, self.line)
            except (OSError, MemoryError) as e:
                self._failed(e)
                self.log("meter: cannot open %s (%s), retry in %ss" % (self.source, os_error_name(e), delay))
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            self.connected = True
            self.connects += 1
            before = self.bytes_read
            try:
                await self._pump(meter)
            except (OSError, MemoryError) as e:
                self._failed(e)
                self.log("meter: read failed (%s)" % os_error_name(e))
            finally:
                self.connected = False
                meter.close()
            if self.bytes_read != before:
                # The port worked. A session without a byte did not (a meter server that
                # accepts and closes at once, one that takes a client only): it keeps the
                # backoff growing, and does not count as a connect (mqtt.connects counts
                # only those that worked).
                delay = BACKOFF_FIRST
            else:
                self.connects -= 1
            self.log("meter: %s closed, reopening in %ss" % (self.source, delay))
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    def _failed(self, error):
        if isinstance(error, MemoryError):
            self.memory_errors += 1
            gc.collect()  # before the log line, which needs a little heap itself

    async def _pump(self, meter):
        view = self._view
        while True:
            n = await meter.readinto(self._buf)
            if not n:
                return
            self.bytes_read += n
            try:
                self.handle(view[:n])
                self.memory_streak = 0
            except MemoryError:
                # A fragmented heap loses this chunk (the decoder resyncs on
                # the next frame); the reader itself must keep running.
                self.memory_errors += 1
                self.memory_streak += 1
                gc.collect()
                self.log("meter: out of memory decoding a chunk (%d so far)" % self.memory_errors)
            except Exception as e:
                # A fault of the decoder's own on some input (a fuzz found a KeyError in the
                # DSMR parser) ended this task: the meter was read no more, and the ESP32's
                # watchdog reset the dongle, again at each such telegram. Counted as
                # malformed, named in the log and the status; the next chunk is read.
                self.decoder.errors.count("malformed", "decoder fault on this input: %s %s" % (type(e).__name__, e))
                self.log("meter: decoder fault on a chunk, read on: %s %s" % (type(e).__name__, e))

    def handle(self, chunk):
        """Decode one chunk and merge what it completed (also used by tests)."""
        for telegram in self.decoder.feed(chunk):
            self.store.update(telegram)
            if self.on_update is not None:
                self.on_update()
        errors = self.decoder.errors
        if errors.tally >= self._tell_at:
            # The meter's errors reach the log at the 1st, 2nd, 4th, 8th...: a wrong key
            # says so at once (the log stayed silent, only /api/v1/status told), and a
            # line that is noise day and night writes a few lines, not one per frame.
            self._tell_at = errors.tally * 2
            self.log("meter: %s (%d so far)" % (errors.last_error, errors.tally))
