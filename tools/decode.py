#!/usr/bin/env python3
"""Decode a meter capture on the host: bytes in, one JSON object per telegram out.

    .venv/bin/python tools/decode.py [--key HEX32] [--auth-key HEX32]
        [--meter NAME] [--profile LIST] [--hex] FILE|-

The same ``decoder`` package as on the ESP32 does the work (firmware/ is put
on sys.path, and tools/shims supplies ``cryptolib`` on CPython).

Contract other tools rely on:
- stdout: JSON Lines, one object per decoded telegram:
  {"meter_time": ISO 8601 | null, "system_title": hex | null,
   "frame_counter": int | null, "readings": {OBIS: {"value": v, "unit": u}}}
  ("unit" is left out when a reading has none)
- stderr: one line per problem, beginning with ``error:``; decoding goes on. A line
  that comes again and again is said three times, then counted: one ``note:`` at the
  end says how often it came.
- exit status: 0 when at least one telegram was decoded, 1 when none,
  2 for bad arguments (a key that is not 32 hex digits names its option), 130
  for Ctrl-C (a live stream, ``nc … | decode.py -``), after what was read is
  printed and summed up as at the input's end.
"""

import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _path in (os.path.join(ROOT, "firmware"), os.path.join(HERE, "shims")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import decoder  # noqa: E402
from decoder.errors import ErrorLog  # noqa: E402

EXIT_OK = 0
EXIT_NOTHING = 1
EXIT_USAGE = 2
EXIT_STOPPED = 130  # Ctrl-C, as a shell reports SIGINT (128 + 2)

# Captures are read and fed in pieces of this size: the decoder is a stream
# decoder, so a capture of any length never has to be held twice.
READ_SIZE = 4096
# Bytes of hex text: a capture given without --hex that holds only these is hex.
_HEX_TEXT = b"0123456789abcdefABCDEF \t\r\n"
# Bytes of text (tab, LF, printable ASCII, UTF-8): a file of nothing else is no port's binary
# capture, whose frames hold control bytes.
_TEXT_BYTES = b"\t\n" + bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))
# A readout's lines (IEC 62056-21, DSMR P1) at a line's start: the identification, "/" and
# three letters with no "/" after them on its line ("/dev/ttyUSB0" in a README is none), or
# a data line "1-0:1.8.1(", "1.8.0(", "F.F(". Text without them is no readout.
_READOUT = re.compile(rb"(?m)^[ \t]*(?:/[A-Za-z]{3}[^/\r\n]*\r?$|(?:\d{1,3}-\d{1,3}:)?[0-9A-Z]{1,3}\.[0-9A-Z]{1,3}"
                      rb"(?:\.[0-9A-Z]{1,3})?(?:[*&]\d{1,3})?\()")
# 16 bytes written as hex in a text ("7E A0 8B ...", "7e:a0:...", or 64 digits in a row): a log
# or a post that holds a capture, which a line that is no hex (a cut one) kept from being read.
_HEX_RUN = re.compile(rb"(?:[0-9A-Fa-f]{2}[ :-]){15}[0-9A-Fa-f]{2}|[0-9A-Fa-f]{64}")
# Times one error line is said: a capture whose pushes all fail alike (no key, a wrong key)
# said it once a push, 120 times for two minutes of a push a second; the rest are counted,
# and the count said at the end.
REPEATS_SHOWN = 3
# Distinct error lines counted so: a stream whose lines all differ is not remembered whole.
_LINES_KEPT = 1000

EPILOG = """\
--meter NAME picks the meter profile: the scalers and units applied to values
that travel without them. The default "auto" picks by the manufacturer code in
the system title or the logical device name. Profiles:
%s

--profile LIST names the value list(s) for fully untagged bodies (values only,
no OBIS codes): sil-consumer-info-1 (24 values, every 5 s) and
sil-consumer-message (15 values, every minute) of the SiL notice, and the
Kaifa, Slovenian E450 and Iskraemeco, Croatian IE.5, Wiener Netze, Kaernten
Netz, Upper Austrian IM350, Netz Burgenland E450 and Czech ZPA AM375 lists
(decoder/lists.py). Give several separated by commas or by repeating the
option; the first that fits (its length, and the mark some lists put on the
first value) is used; when none fits a push, one "warning: ..." line says so
and its values stay "#1", "#2", ... Without it every list is tried, the SiL
ones first. A list of your own (a utility's push list) is given whole, in
quotes: "NAME PROFILE CODE CODE ...", the OBIS codes in push order ("-" for a
value to leave out), PROFILE the meter profile whose units apply, e.g.
--profile "tg-e450 e450 1-0:1.8.0 1-0:2.8.0"; the same line works in the
dongle's meter.lists. Lists:
%s

Problems go to stderr as "error: ..." lines; exit 0 when at least one
telegram was decoded, 1 when none, 2 for bad arguments, 130 for Ctrl-C.
"""


def epilog():
    """EPILOG with every profile and list name, from the decoder's own tables."""
    import textwrap

    from decoder import lists, profiles

    def names(items):
        return textwrap.fill(", ".join(items), 79, initial_indent="  ", subsequent_indent="  ",
                             break_on_hyphens=False)

    return EPILOG % (names(sorted(profiles.PROFILES)), names(lists.list_names()))


class PrintingErrorLog(ErrorLog):
    """Counts like the firmware's ErrorLog and also reports each problem: a line said
    REPEATS_SHOWN times is counted from then on, and ``repeats`` says how often."""

    def __init__(self, stream):
        ErrorLog.__init__(self)
        self._stream = stream
        self.dsmr_crc = False  # whether a DSMR telegram failed its CRC
        self._said = {}  # error line -> times it came

    def count(self, kind, message):
        ErrorLog.count(self, kind, message)
        self.dsmr_crc = self.dsmr_crc or "DSMR CRC" in message
        line = "error: %s: %s" % (kind, message)
        times = self._said.get(line, 0)
        if times or len(self._said) < _LINES_KEPT:
            self._said[line] = times + 1
        if times < REPEATS_SHOWN:
            self._stream.write(line + "\n")
            self._stream.flush()

    def repeats(self):
        """One note for each line that came more often than it was said."""
        for line, times in self._said.items():
            if times > REPEATS_SHOWN:
                self._stream.write('note: "%s" came %d times: only the first %d are shown\n'
                                   % (line, times, REPEATS_SHOWN))


def build_parser():
    p = argparse.ArgumentParser(
        prog="decode.py",
        description="Decode a smart-meter capture (DLMS/COSEM over HDLC, M-Bus or bare\n"
        "APDUs, or DSMR P1) into JSON Lines of OBIS readings.",
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--key", metavar="HEX32", help="encryption key (GUEK), 32 hex digits (spaces, colons, "
                   "dashes or 0x as the utility writes it)")
    p.add_argument("--auth-key", metavar="HEX32", help="authentication key (GAK), 32 hex digits; empty: none")
    p.add_argument("--meter", metavar="NAME", default="auto", help="meter profile (default: auto)")
    p.add_argument(
        "--profile", metavar="LIST", action="append", default=None, help="untagged value list name(s)"
    )
    p.add_argument("--hex", action="store_true", help="the input is hex text: plain, or as xxd, hexdump -C, "
                   "od -t x1, tshark -x, a terminal log or a C array writes it")
    p.add_argument("file", metavar="FILE", help="capture file, or - for stdin")
    return p


def _lists(values):
    if not values:
        return None
    out = []
    for value in values:
        out.extend(name.strip() for name in value.split(",") if name.strip())
    return out or None


def _check_names(parser, meter, lists):
    # Unknown names are argument errors (exit 2), caught before any decoding; the lines that
    # define lists are only checked here, and added by the Decoder. -> the lists' names.
    from decoder import lists as value_lists, profiles

    known = getattr(profiles, "PROFILES", None)
    if known is not None and meter != "auto" and meter not in known:
        parser.error("argument --meter: unknown meter profile %r (known: auto, %s)" % (meter, ", ".join(sorted(known))))
    try:
        return value_lists.names(lists, False) if lists else lists
    except ValueError as e:
        parser.error("argument --profile: %s" % str(e)[len("lists: "):])


def _chunks(parser, path, as_hex):
    """Yield the capture's bytes in pieces; bad files and bad hex are usage errors.

    Without --hex, a file whose first 4 kB are hex text or a hex dump (no port's bytes
    are) is read as hex, with a note: it said "add --hex" and exited 1. Only a file: a
    stream (stdin, a pipe, a serial device) may start inside a DSMR text message, which
    is hex digits for up to 2 kB, and a live one must not wait for 4 kB to be decoded."""
    if path == "-" and sys.stdin is None:  # started with no standard input (<&-, a service)
        parser.error("argument FILE: standard input is closed: give a file, or pipe the capture in")
    try:
        f = sys.stdin.buffer if path == "-" else open(path, "rb")
    except OSError as e:
        parser.error("argument FILE: cannot open %s: %s" % (path, e.strerror))
    with f:
        # read1: what has arrived, up to READ_SIZE. read() waits for all of it, so a live
        # stream piped in (a serial port, nc) came out in bursts of six pushes.
        read = getattr(f, "read1", f.read)
        if as_hex:
            yield from _hex_read(parser, read)
            return
        regular = path != "-" and os.path.isfile(path)
        block = f.read(READ_SIZE) if regular else read(READ_SIZE)
        if regular and hex_text_file(block):
            if _quoting_log(block):
                # A log that quotes what the port sent (ESPHome's uart_debug in string mode,
                # Python's bytes): the quoted bytes, unescaped and joined.
                yield _quoted_bytes((block + f.read()).decode("utf-8", "replace"))
                return
            sys.stderr.write("note: the input is hex text, not the meter port's bytes: read as hex (--hex)\n")
            yield _hex_bytes(parser, block + f.read(), "the input, read as hex")
            return
        if regular and _seven_bits_even_parity(block):
            # A DSMR 2.2/3 meter sends 7E1; read as 8N1, each byte carries its parity bit in
            # bit 7, every "/" came as 0xAF, and nothing was found.
            sys.stderr.write("note: the bytes carry an even-parity bit in bit 7 (a 7E1 meter read as 8N1): "
                             "read as 7 bits; on the dongle set meter.format to \"7E1\"\n")
            block = (block + f.read()).translate(_CLEAR_BIT_7)
            yield block  # (a file that lost its CRs as well is not mended)
            return
        if regular and _READOUT.search(block) and b"\n" in block and b"\r" not in block and not block.translate(None, _TEXT_BYTES):
            # DSMR text whose CR LF line ends lost their CR (an editor, a copy from a web page,
            # git): the CRC covers the CRs, and every telegram failed it. Read as the meter
            # sends it. Only a file of text: a binary capture has LF bytes that are no line end.
            # Unless the first CRC holds over the LF lines as they are (a meter that sends them).
            text = block + f.read()
            if not _crc_holds_as_is(text):
                sys.stderr.write("note: the input's lines end in LF alone: read as CR LF, as a meter sends them\n")
                text = re.sub(rb"(?<!\r)\n", b"\r\n", text)
            yield text
            return
        while block:
            yield block
            block = read(READ_SIZE)


_CLEAR_BIT_7 = bytes(b & 0x7F for b in range(256))


def hex_text_file(block):
    """Whether a capture file that opens with ``block`` is hex text, a hex dump or a log
    that quotes the port's bytes (read so here, with a note), not the port's bytes."""
    if not block.strip() or _dsmr_text(block):
        return False
    return not block.translate(None, _HEX_TEXT) or _hex_dump(block) or _quoting_log(block)


def _hex_read(parser, read):
    # --hex: all of the text, then its bytes. Ctrl-C (hex pasted into a terminal and ended so,
    # not by Ctrl-D) read it whole and lost it: "no frame found in 0 bytes". Its whole lines
    # are read then, and the interrupt goes on to main, which sums up.
    pieces = []
    try:
        piece = read(READ_SIZE)
        while piece:
            pieces.append(piece)
            piece = read(READ_SIZE)
    except KeyboardInterrupt:
        text = b"".join(pieces)
        if text[:2] not in (b"\xff\xfe", b"\xfe\xff"):  # (UTF-16 is not cut: a half character)
            text = text[: text.rfind(b"\n") + 1]
        if text.strip():
            yield _hex_bytes(parser, text)
        raise
    yield _hex_bytes(parser, b"".join(pieces))


def _quoted_bytes(text):
    import hextext

    notes = ["the input is a log that quotes the port's bytes: read as those bytes"]
    data = hextext.quoted(text, notes)
    for note in notes:
        sys.stderr.write("note: %s\n" % note)
    return data or b""


def _quoting_log(block):
    # Whether ``block`` (its first 4 kB) is a log whose lines quote the port's bytes: most
    # of its lines that hold a quote, and 8 bytes at least.
    import hextext

    text = block[:READ_SIZE].decode("utf-8", "replace")
    head = text[: text.rfind("\n") + 1] or text
    lines = [line for line in head.splitlines() if line.strip()]
    found = [q for q in (hextext.quoted(line) for line in lines) if q is not None]  # (a string ends with its line)
    return sum(len(q) for q in found) >= 8 and 2 * len(found) >= len(lines)


def _dsmr_text(block):
    # A DSMR telegram's header first ("/" and three letters): a text message wrapped over
    # lines of hex digits alone (the DSMR 4.0 specification's example) made it a hex dump.
    head = block.lstrip()
    return head[:1] == b"/" and head[1:4].isalpha()


def _seven_bits_even_parity(block):
    # Whether ``block`` is 7E1 text read as 8N1: a "/" with its parity bit (0xAF), and all
    # bytes but a few (a capture started mid-character, a glitch) of even parity, which
    # random bytes are one in two.
    if len(block) < 32 or b"\xaf" not in block:
        return False
    odd = len([b for b in block if bin(b).count("1") & 1])
    return odd <= len(block) // 50


def _crc_holds_as_is(text):
    # Whether the first telegram's 4-digit CRC ("/" through the "!" that opens its line,
    # not one in a message) matches the text unchanged.
    start = text.find(b"/")
    match = re.compile(rb"\n!([0-9A-Fa-f]{4})").search(text, max(start, 0))
    if start < 0 or match is None:
        return False
    from decoder import crc

    return crc.arc(text, start, match.start(1)) == int(match.group(1), 16)


def _hex_bytes(parser, raw, what="argument --hex"):
    import hextext

    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = raw.decode("utf-16")  # PowerShell's ">" writes UTF-16
    else:
        text = raw.decode("utf-8-sig", "replace")
    if _quoting_log(raw):
        return _quoted_bytes(text)
    notes = []
    try:
        data = hextext.parse(text, notes)
    except hextext.HexTextError as e:
        parser.error("%s: %s" % (what, e))
    for note in notes:
        sys.stderr.write("note: %s\n" % note)
    if not data and raw.strip():
        parser.error("%s: the input holds no hex bytes (a binary capture? leave out --hex)" % what)
    return data


def _key(parser, text, option):
    # Written as the configuration takes it (config.key_hex); "" is no key.
    import config

    if text is None:
        return None
    try:
        return decoder.parse_key(config.key_hex(option, text) or None, option)
    except config.ConfigError as e:
        parser.error("argument %s: %s" % (option, e.message))


class _UnfittedLists:
    """Says once when the lists given with --profile fit no untagged push: without
    a word, a misspelt choice looked the same as no choice (values "#1", "#2", ...)."""

    def __init__(self, names):
        self.names = names
        self.said = False

    def check(self, telegram):
        if self.said or not self.names or not any(code.startswith("#") for code in telegram.readings):
            return
        from decoder import lists as value_lists

        sizes = ", ".join("%s has %d values" % (name, value_lists.LISTS[name]["count"]) for name in self.names)
        sys.stderr.write("warning: no value list given with --profile fits this push (%s; a list names a "
                         "push of as many values whose slots take them), so its values stay #1, #2, ...\n" % sizes)
        self.said = True


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    key = _key(parser, args.key, "--key")
    auth_key = _key(parser, args.auth_key, "--auth-key")
    lists = _lists(args.profile)
    names = _check_names(parser, args.meter, lists)
    dec = decoder.Decoder(key, auth_key, args.meter, lists, PrintingErrorLog(sys.stderr))  # adds the lines
    out = sys.stdout
    size = 0
    unfitted = _UnfittedLists(names)
    carriage_return = False  # whether the input holds a CR at all (DSMR lines end in CR LF)
    hex_text = True  # whether it is all hex digits and white space (given without --hex)
    head = b""  # the input's first 4 kB: a hex dump given without --hex is told by them
    text = True  # whether it is all text: no control bytes but tab, CR and LF
    readout = False  # whether that text holds a readout's lines
    line_start = True  # whether the next chunk starts a line (or continues one a chunk cut)
    hex_run = False  # ... and a run of 16 bytes written as hex
    stopped = False  # Ctrl-C: a live stream (nc … | decode.py -) ends so
    try:
        for chunk in _chunks(parser, args.file, args.hex):
            if len(head) < 4096:
                head += chunk[: 4096 - len(head)]
            size += len(chunk)
            carriage_return = carriage_return or b"\r" in chunk
            hex_text = hex_text and not chunk.translate(None, _HEX_TEXT)
            text = text and not chunk.translate(None, _TEXT_BYTES + b"\r")
            readout = readout or text and _holds_readout(chunk, line_start)
            line_start = chunk.endswith(b"\n")
            hex_run = hex_run or text and _HEX_RUN.search(chunk) is not None
            for telegram in dec.feed(chunk):
                out.write(decoder.telegram_json(telegram) + "\n")
                unfitted.check(telegram)
            out.flush()
    except KeyboardInterrupt:
        stopped = True  # what was read is finished and summed up below, as at the input's end
    from decoder.leftover import ended, unfinished

    for telegram in ended(dec):
        out.write(decoder.telegram_json(telegram) + "\n")
    dec.errors.repeats()
    if dec.errors.dsmr_crc and not carriage_return:
        sys.stderr.write("hint: a DSMR CRC covers the meter's CR LF line ends, and this input has no CR: "
                         "were they changed (an editor, a copy from a web page, git)? Given as a file, "
                         "such text is read as CR LF\n")
    # Prose: text that yielded nothing and is no readout, no hex and no log of bytes (README.md
    # given by mistake): said so once, after what its bytes read as frames said.
    prose = (text and not readout and not dec.telegrams and not args.hex and not hex_text
             and _utf8(head) and not _hex_dump(head) and not _quoting_log(head))
    left = unfinished(dec)
    if left is not None:
        sys.stderr.write("error: %s\n" % left)
    elif not dec.telegrams and not dec.errors.total() and dec._framer._lock:
        # Good frames, all of them the rest of a push whose start the capture missed
        # (passed over without a count, as a dongle joining the line mid-push does).
        sys.stderr.write("error: no whole push in %d bytes: the frames found are the end of one "
                         "whose first segments or blocks the capture does not hold\n" % size)
    elif not dec.telegrams and not dec.errors.total() and not prose:
        # Nothing counted either: without a word the exit status alone said it.
        looks_hex = size and not args.hex and (hex_text or _hex_dump(head))
        if looks_hex:
            hint = "it looks like hex text: add --hex"
        elif size and not args.hex and _quoting_log(head):
            hint = "it looks like a log that quotes the port's bytes: add --hex"
        elif _seven_bits_even_parity(head):
            hint = "the bytes have even parity, bit 7 set on some: a 7E1 meter read as 8N1 (meter.format)"
        else:
            hint = "is this a capture of the meter's port?"
        sys.stderr.write("error: no frame found in %d bytes (HDLC 7E, M-Bus 68, DSMR \"/\", or a bare "
                         "APDU 0F/DB/DC/DD/E0): %s\n" % (size, hint))
    if prose and hex_run:
        # A log of hex with a line that is none (a cut one), or hex after 4 kB of prose: said "no
        # hex", where --hex names the line it cannot read, or reads it.
        sys.stderr.write("error: no telegram in %d bytes: the input is text that holds hex, not read as "
                         "such (no hex dump in its first 4 kB, or a line of it that is none): give --hex, "
                         "which reads it or names the line it cannot read\n" % size)
    elif prose:
        sys.stderr.write("error: no telegram in %d bytes: the input is text, not a capture of the meter's "
                         "port (no DSMR or IEC 62056-21 readout, whose lines read \"/XXX5...\" and "
                         "\"1.8.0(...)\", and no hex)\n" % size)
    if stopped:
        return EXIT_STOPPED
    return EXIT_OK if dec.telegrams else EXIT_NOTHING


def _holds_readout(chunk, line_start):
    # _READOUT's ^ takes a chunk's first byte for a line's: a chunk that starts inside a line
    # ("see /abcd for the port" cut before its "/") read as a readout's header, and README.md
    # given by mistake was no longer said to be text once an edit moved where its reads ended.
    start = 0 if line_start else chunk.find(b"\n") + 1
    return (line_start or start > 0) and _READOUT.search(chunk, start) is not None


def _utf8(head):
    # Whether ``head`` is UTF-8 text with something in it (its last character may be cut).
    import codecs

    try:
        return bool(codecs.getincrementaldecoder("utf-8")().decode(head).strip())
    except UnicodeError:
        return False


def _hex_dump(head):
    # Whether the input's start reads as one of the hex dumps --hex takes (xxd, hexdump -C,
    # od, a C array): only plain hex digits were told before. Its last line may be cut.
    import hextext

    try:
        text = head.decode()
        return len(hextext.parse(text[: text.rfind("\n") + 1] or text)) >= 8
    except (UnicodeError, ValueError):
        return False


def run():
    """main() as a command: a reader that goes away (``| head``) ends it quietly, as it
    ends other Unix tools; an output that cannot be written is one error line."""
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return EXIT_NOTHING
    except OSError as e:
        if e.filename is not None:
            raise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.stderr.write("error: cannot write the output: %s\n" % (e.strerror or e))
        return EXIT_USAGE
    return status


if __name__ == "__main__":
    sys.exit(run())
