"""The latest-readings store between the meter reader and the publishers.

Every telegram is merged into one snapshot: each OBIS code the meter has sent
since boot, with its latest value. The snapshot has the attributes of a
``decoder.Telegram`` (``meter_time``, ``system_title``, ``frame_counter``,
``readings``), so ``decoder.telegram_json(store)`` prints it in exactly the
shape of the decoder CLI and the MQTT state topic.

The reader writes, the publishers read; both run on one asyncio loop, so no
lock is needed. ``seq`` grows with every merge (publishers compare it with the
last one they sent) and ``codes`` grows when an OBIS code appears for the
first time (Home Assistant discovery configs are sent for new codes).
"""

# Most codes any meter in the corpus or the SiL lists pushes is about 60; a
# meter (or a corrupt-but-authentic body) inventing ever new codes must not
# grow the heap without bound, so codes past this are dropped and counted.
MAX_CODES = 96


class Store:
    """Merged snapshot of all telegrams; cheap to update, cheap to read."""

    def __init__(self, clock=None):
        self.meter_time = None  # the last clock any telegram carried: merged, like the rest
        self.latest_time = None  # the last telegram's own clock, None when it carried none
        self.system_title = None
        self.frame_counter = None
        self.readings = {}
        self.seq = 0
        self.codes = 0
        self.dropped_codes = 0
        self.updated = None  # clock() at the last merge
        self._clock = clock

    def update(self, telegram):
        """Merge one telegram; returns True when it brought a new OBIS code."""
        readings = self.readings
        new = False
        for code, pair in telegram.readings.items():
            if code not in readings:
                if len(readings) >= MAX_CODES:
                    self.dropped_codes += 1
                    continue
                new = True
            readings[code] = pair
        self.latest_time = telegram.meter_time
        if telegram.meter_time is not None:
            self.meter_time = telegram.meter_time
        if telegram.system_title is not None:
            self.system_title = telegram.system_title
        if telegram.frame_counter is not None:
            self.frame_counter = telegram.frame_counter
        if new:
            self.codes += 1
        self.seq += 1
        if self._clock is not None:
            self.updated = self._clock()
        return new

    def value(self, code):
        """The latest value of ``code`` or None."""
        pair = self.readings.get(code)
        return None if pair is None else pair[0]
