"""Hex text as people paste it -> bytes, for ``tools/decode.py --hex``.

Captures reach a user as hex in many shapes: ``xxd -p`` and Wireshark's "copy as hex
stream" (digits only), but as often the dumps of ``xxd``, ``hexdump -C``, ``od -A x -t x1``
and ``tshark -x`` (an offset column, then the bytes, then the bytes as text), serial
terminal logs (a time stamp or "RX:" before the bytes), C arrays (``0x7E, 0xA0``) and bytes
joined by colons or dashes. Each line is read so:

1. a byte-order mark, a ``|...|`` text column and ``0x`` prefixes go; commas, braces and
   semicolons are spaces; bytes joined by ":" or "-" are split (a run of four at least, so
   that a time stamp "12:34:56" stays one, unless another line has such a run or ESPHome's
   "<<<" marks a run of two or three as the port's);
2. leading words that are no hex (a time stamp, "RX:") go, and so does a first word that
   ends in ":" (xxd's offset) or that is longer than the word after it (an offset column:
   told by the first line of three words, and then taken off every line or none);
3. the bytes are the words of hex digits that follow, up to a run of two spaces after
   which the line holds as many characters as bytes were read (the text column: not when
   its words are single bytes as those before it, as amsreader writes groups of four), or
   up to the first word that is no hex, if two spaces set it off (one space: a typo,
   refused).

A log (amsreader's telnet, ESPHome's, Python's logging, syslog) puts its time stamp first,
taken off whole ("21:11:30,928" gave the byte 928), and tags each line with its source: the
bytes are read from the lines whose tag (the letters of the words before the bytes) carries
the most hex, leaving out tags that say sent ("TX", "send", ESPHome's ">>>") and not
received ("RX", "recv", "<<<"); an untagged line of hex continues the tag of the line of hex above it (a
chunk stamped on its first line only). Other lines that hold hex (a banner's "Free Heap RAM:
177096", a "TX:" line, prose) are passed over and counted (``notes``).

Words may be single bytes ("7E"), groups ("7ea0 8ace", as xxd writes them), or one long run.
When most words that look like hex are written ``0x..`` (a C array, ``xxd -i``), only those
are read: the declaration around them holds "= 751;" too.
``hexdump`` without ``-C`` writes 16-bit words with their bytes swapped: refused with a
hint, as is anything that leaves an odd number of digits. Errors name the line.
"""

import ast
import re

_HEX = "0123456789abcdefABCDEF"
# A leading time stamp with its date, fraction, zone or syslog's "Jan 30": followed by more
# text, and not by ":" ("12:34:56:78" is bytes joined by colons).
_TIME_STAMP = re.compile(r"^\s*\[?(?:[A-Z][a-z]{2} +\d{1,2} +)?(?:\d{4}-\d\d-\d\d[ T])?\d{1,2}:\d\d:\d\d"
                         r"(?:[.,]\d+)?(?: ?[AP]M)?(?:Z|[+-]\d\d:?\d\d)?\]?(?=\s+\S)")
# The port's bytes as a log quotes them: ESPHome's uart_debug in string mode, <<< "/ISK5\\2M5\r\n"
# (received; >>> is sent), and Python's bytes, b'~\xa8\xa4'.
_QUOTED = re.compile(r"""<<<\s*("(?:[^"\\\n]|\\.)*")|\bb('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")""")
_OPENED = re.compile(r'<<<\s*"')
_ESPHOME_RX = re.compile(r"<<<\s+[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+(?![0-9A-Za-z:])")
# ESPHome writes ESC as \e, which a Python literal does not know (an odd count of
# backslashes before the e: "\\e" is a backslash and an e).
_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\e")


class HexTextError(ValueError):
    """The text is no hex this module reads; the message names the line."""


def _is_hex(word):
    return word != "" and all(c in _HEX for c in word)


def _split_bytes(word, fewest):
    # "7E:A0:8A:CE" or "7E-A0-8A-CE": bytes joined by a separator; ``fewest`` of them (four
    # unless the text has such runs elsewhere, so that a time stamp "12:34:56" stays one).
    for sep in ":-":
        parts = word.split(sep)
        if len(parts) >= fewest and all(len(p) == 2 and _is_hex(p) for p in parts):
            return parts
    return [word]


def _without_text_column(line):
    # hexdump -C ends a line with "|text|"; xxd and tshark with the text after two spaces
    # or more, one character per byte.
    bar = line.find("  |")
    if bar >= 0 and line.rstrip().endswith("|"):
        return line[:bar]
    cut = line.rfind("  ")
    end = len(line.rstrip())
    while cut > 0 and end - cut <= _LONGEST_COLUMN:
        head = line[:cut]
        hexes = "".join(w.rstrip(":") for w in _hex_words(head) if _is_hex(w.rstrip(":")))
        digits = len(hexes) - _offset_digits(head)
        # The column as written, or as an editor left it (trailing spaces cut, also the
        # blanks of bytes 0x20 at the row's end). Not bytes written as those before them:
        # amsreader groups 16 bytes by four, two spaces apart, and a last line of 11 bytes
        # ("45 E6 E7" after 8) or a trailing blank read as a column of text lost bytes
        # without a word.
        column = len(line[cut:].strip())
        if digits and (digits == 2 * len(line[cut + 2 :]) or digits == 2 * column or digits > 2 * column
                       and hexes.endswith("20" * (digits // 2 - column))) and not (
                _single_bytes(line[cut:]) and _GROUPS.search(head)):
            return head
        cut = line.rfind("  ", 0, cut + 1)  # overlapping: a column that opens with a space
    return line


# A text column's width: xxd -c 256 writes the longest; tried further left, a line of
# thousands of bytes set off by double spaces took half a minute (each try reads the head).
_LONGEST_COLUMN = 260
# Tags that say which way a log line's bytes went.
_RECEIVED = re.compile(r"(?i)\b(?:rx|recv|received)\b|<<<")
_SENT = re.compile(r"(?i)\b(?:tx|sent|send)\b|>>>")
_GROUPS = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{2}  [0-9A-Fa-f]{2}(?![0-9A-Fa-f])")  # "CF  02": bytes in groups


def _single_bytes(text):
    words = text.split()
    return bool(words) and all(len(w) == 2 and _is_hex(w) for w in words)


def _offset_digits(head):
    # Digits of an offset column at the start of a dump line (counted apart from the bytes).
    words = head.split()
    if len(words) < 2 or not _is_hex(words[0].rstrip(":")):
        return 0
    return len(words[0].rstrip(":")) if words[0].endswith(":") or len(words[0]) > len(words[1]) else 0


def _words(text):
    # Quotes too: Tasmota's serial bridge sends {"SerialReceived":"7EA8A4..."}.
    return text.replace(",", " ").replace("{", " ").replace("}", " ").replace(";", " ").replace('"', " ").split()


def _hex_words(text, fewest=4):
    words = []
    for word in _words(text):
        if word[:2] in ("0x", "0X"):
            word = word[2:]
        words.extend(_split_bytes(word, fewest))
    return words


def _line_bytes(line, number, fewest, column):
    """(tag, hex digits, error or None) of one line. The tag: the letters and arrows of the
    words before the bytes ("RX", "D uart debug <<<" of "[D][uart_debug:158]: <<<")."""
    words = _hex_words(_without_text_column(_TIME_STAMP.sub("", line)), fewest)
    tag = []
    while words and not _is_hex(words[0].rstrip(":")):
        tag.append(words.pop(0))  # a time stamp, "RX:", a line number
    # Its words and arrows: time stamps vary in form; ESPHome's >>> (sent) is not <<<.
    tag = " ".join(re.findall(r"[A-Za-z]+|<<<|>>>", " ".join(tag)))
    try:
        return tag, _bytes_after_tag(line, number, words, column), None
    except HexTextError as e:
        return tag, "", e


def _bytes_after_tag(line, number, words, column):
    # ``column``: [whether the dump has an offset column], None until a line told.
    if len(words) > 1 and len(words[0]) == 7 and len(words[1]) == 4 and not words[0].endswith(":"):
        raise HexTextError("line %d looks like hexdump's or od -x's default output, whose 16-bit words "
                           "swap their bytes: use hexdump -C, xxd or xxd -p" % number)
    if words and words[0].endswith(":"):
        words.pop(0)  # xxd's offset
    elif len(words) > 1:
        # An offset column (hexdump -C, od -A x -t x1, tshark -x) runs down every line: the
        # first line of three words or more tells (decided per line, the last line of grouped
        # bytes, "1366 7e", lost its first word); a shorter line before it decides for itself.
        here = len(words[0]) > len(words[1]) and len(words[1]) in (2, 4)
        if column[0] is None and len(words) > 2:
            column[0] = here
        if here if column[0] is None else column[0]:
            words.pop(0)
    digits = []
    for word in words:
        if not _is_hex(word):
            break
        digits.append(word)
    rest = words[len(digits):]
    if digits and rest and not line[: line.rfind(rest[0])].endswith("  "):
        # Past the bytes, a text column stands two spaces off; one space off, it is a typo.
        raise HexTextError("line %d: %r is no hex" % (number, rest[0]))
    return "".join(digits)


def _logged_bytes(lines, notes):
    # The digits of the lines whose tag carries the most of them (parse gave an untagged
    # line the tag of the line of hex above it); the others are a log's own lines.
    weight = {}
    for tag, digits, _, _ in lines:
        weight[tag] = weight.get(tag, 0) + len(digits)
    # The heaviest tag with bytes, less one that says sent and not received (the dongle's
    # own: a log whose requests (TX) outweigh the replies read the requests) unless no
    # other has bytes. A short "RX len: 41" is no reason to pass over the lines of bytes.
    tags = [t for t in weight if weight[t]]
    theirs = [t for t in tags if _RECEIVED.search(t) or not _SENT.search(t)]
    main = max(theirs or tags, key=weight.get) if tags else ""
    kept, passed = [], []
    for tag, digits, error, number in lines:
        if tag == main:
            if error is not None:
                raise error
            kept.append(digits)
        elif digits or error is not None:
            passed.append(number)
    if passed and notes is not None:
        notes.append("passed over %d line%s of the log's own text, tagged unlike the lines of bytes (line %s)"
                     % (len(passed), "s" if len(passed) > 1 else "",
                        ", ".join(str(n) for n in passed[:3]) + (", ..." if len(passed) > 3 else "")))
    return kept


def _c_array_bytes(line):
    # Only the words written 0x..: the declaration around them ("unsigned char x[] = {",
    # "x_len = 751;") holds words that would read as hex too.
    return "".join(w[2:] for w in _words(line) if w[:2] in ("0x", "0X") and _is_hex(w[2:]))


def quoted(text, notes=None):
    """The bytes the strings of a log quote (ESPHome's ``<<< "..."``, Python's ``b'...'``)
    joined, or None when it quotes none. A string that is no bytes literal (a line the
    logger cut, a character beyond ASCII) is passed over, with a line in ``notes``."""
    pieces = []
    bad = len(_OPENED.findall(text))  # ESPHome's strings: less those that close on their line
    for match in _QUOTED.finditer(text):
        bad -= match.group(1) is not None
        literal = _ESCAPE.sub(r"\1\\x1b", match.group(1) or match.group(2))
        try:
            pieces.append(ast.literal_eval("b" + literal))
        except (SyntaxError, ValueError):
            bad += 1
    if bad and notes is not None:
        notes.append("passed over %d quoted string%s that read as no bytes" % (bad, "s" if bad > 1 else ""))
    return b"".join(pieces) if pieces else None


def parse(text, notes=None):
    """Bytes of hex ``text`` (str) in any of the shapes above; raises HexTextError.
    ``notes``: a list that gets a line on lines of a log passed over."""
    if text.startswith("\ufeff"):
        text = text[1:]
    # C-array mode when words written 0x.. are most of those that look like hex: a dump's
    # text column may hold "0x" once or twice, a C declaration holds "= 751;" too.
    prefixed = sum(1 for w in _words(text) if w[:2] in ("0x", "0X"))
    c_array = prefixed > 1 and 2 * prefixed >= sum(1 for w in _hex_words(text) if _is_hex(w))
    # Bytes joined by colons: once a line has a run of four, a shorter one (the last line's)
    # is such a run too.
    # ESPHome's uart_debug marks the port's bytes itself ("<<< 7E:A0"): there a run of two is one.
    fewest = 2 if _ESPHOME_RX.search(text) or any(len(_split_bytes(w, 4)) > 1 for w in text.split()) else 4
    lines = []
    offsets = None
    column = [None]
    above = ""  # the tag of the last line that held hex: an untagged line of hex continues it
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if len(words) == 1 and offsets is not None and len(words[0]) == offsets and _is_hex(words[0]):
            continue  # od's and hexdump's last line: the offset after the last byte, alone
        if len(words) > 1 and _is_hex(words[0].rstrip(":")) and len(words[0]) > 4:
            offsets = len(words[0].rstrip(":"))
        if c_array:
            lines.append(("", _c_array_bytes(line), None, number))
            continue
        tag, digits, error = _line_bytes(line, number, fewest, column)
        if tag == "" and error is None:
            tag = above  # a chunk's time stamp and "RX:" on its first line only
        elif digits == "" and error is None:
            above = ""  # a line of text between: what follows does not continue the one before
        if digits:
            above = tag
        lines.append((tag, digits, error, number))
    text = "".join(_logged_bytes(lines, notes))
    if len(text) % 2:
        raise HexTextError("an odd number of hex digits (%d): is one missing? (xxd -p writes the "
                           "plain form)" % len(text))
    return bytes.fromhex(text)
