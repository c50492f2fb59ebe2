"""What a capture left unfinished when it ends: for the decode CLI (tools/decode.py).

A meter's stream never ends, so the gateway never asks; a capture file does, and one
cut after GBT blocks 1-2, or inside a frame, would otherwise exit with no error line
at all. Reads the layers' state directly (a method on each would cost the device
heap for a question only the host asks); loaded by the CLI alone, on CPython: it reads
``stream``'s private ``const()`` names, which MicroPython compiles into the code and does
not keep as module attributes.
"""


def ended(decoder):
    """The input is over: the telegrams of what the framer held back only for bytes that
    cannot come now.

    - A bare APDU inside which a frame (7E A8 .., 68 L L 68, "/" and letters) might
      start: a capture of one ciphered APDU has such bytes in about one in twelve. It
      is taken as the framer takes bare APDUs on a line locked on them.
    - A DSMR telegram whose "!" (and CRC) end the file with no line end after them, or
      that the next one follows at once and the file ends inside that one's header
      ("!/ISk": dsmr.frame waits for the header's fourth byte to tell it from text).
    """
    from decoder import stream

    framer = decoder._framer
    if framer._start >= framer._end or framer._tail is not None:
        return []
    if framer._way == stream._BARE:
        framer._lock = stream._BARE
        return decoder.feed(b"")
    if framer._way == stream._DSMR:
        cut = framer._buf.rfind(b"!/", framer._start, framer._end)
        if cut > framer._start and framer._end - cut <= 5 and framer._buf[cut - 1] in b"\r\n":
            framer._end = cut + 1  # the header cut short goes; the telegram before it is whole
        out = decoder.feed(b"\r\n")
        if not out and framer._end - framer._start >= 2:
            framer._end -= 2  # still no whole telegram: the line end was ours, not the input's
        return out
    return []


def unfinished(decoder):
    """What ``decoder``'s input left waiting for its rest, as text, or None."""
    framer, reader = decoder._framer, decoder._reader
    held = framer._end - framer._start + (0 if framer._tail is None else len(framer._tail))
    if held > 1:  # one byte is a flag shared with the next frame, a line end, noise
        return "the input ends inside a frame: %d bytes wait for the rest" % held
    if framer._segments._len > 0:
        return "the input ends inside a segmented message: %d bytes wait for the rest" % framer._segments._len
    if reader._gbt_next > 1:  # the next block expected: a push under way
        return ("the input ends inside a General Block Transfer: %d bytes of blocks wait for block %d"
                % (reader._gbt_len, reader._gbt_next))
    return None
