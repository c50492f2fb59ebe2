"""Untagged value lists: the OBIS codes of pushes that carry values only.

Some meters push a structure of bare values, no OBIS codes, no scalers (the SiL
notice's lists, Kaifa's Norwegian lists, Austrian and Slovenian utilities'). The
order of the values is fixed per list; the list is told by its number of values,
where two lists have as many by a mark on the first value, and by the kind of
value each slot takes (``slot_kind``: a power is a number, a clock a date-time).
``find_list`` is the entry point; ``LISTS`` (every list's spec) is for the CLI
and the tests.

Loaded by the first push of values only (obis_untagged.py): a meter that sends
push-setup or OBIS-tagged bodies never holds this table.
"""

import sys

from decoder.compat import const
from decoder.obis import is_clock

# One list a line: its name, "sil" (the SiL exponents) or the profile it implies
# (":mark" on the first value, see _spec), then its OBIS codes in push order.
# find_list() tries them in this order (the Swiss ones first) and reads the text
# in place; LISTS (every spec) is built on first access. As dicts of tuples of
# strs they held ~6 kB of heap on the 64-bit port.
_LIST_TEXT = (
    # SiL customer-interface notice, "Consumer information 1" (every 5 s).
    "sil-consumer-info-1 sil 0-0:96.1.1 1-0:1.7.0 1-0:2.7.0 1-0:3.7.0 1-0:4.7.0"
    " 1-0:32.7.0 1-0:52.7.0 1-0:72.7.0 1-0:31.7.0 1-0:51.7.0 1-0:71.7.0 1-0:91.7.0"
    " 1-0:21.7.0 1-0:41.7.0 1-0:61.7.0 1-0:22.7.0 1-0:42.7.0 1-0:62.7.0 1-0:23.7.0"
    " 1-0:43.7.0 1-0:63.7.0 1-0:24.7.0 1-0:44.7.0 1-0:64.7.0\n"
    # SiL notice, "Consumer Message" (every minute, at second 00).
    "sil-consumer-message sil 0-0:96.1.1 0-0:1.0.0 0-0:96.13.0 1-0:1.8.1 1-0:1.8.2"
    " 1-0:2.8.1 1-0:2.8.2 1-0:3.8.1 1-0:3.8.2 1-0:4.8.1 1-0:4.8.2 1-0:1.8.0"
    " 1-0:2.8.0 1-0:3.8.0 1-0:4.8.0\n"
    # Norwegian HAN (NVE/NEK) Kaifa lists (public Kaifa HAN port description).
    # List 1 is P+ alone (every 2 s); list 2 (every 10 s) is list version,
    # meter id, meter type, P+ P- Q+ Q-, I1-3, U1-3; list 3 (every hour) is
    # list 2, the clock and the four energy totals. Single-phase meters (MA105)
    # send one current and one voltage. "kaifa:KFM": profile kaifa, and the
    # first value must start with "KFM" (the list version "KFM_001"): a 14-value
    # push of another meter (an E450 in Slovenia) must not take these names.
    # no-kaifa-ma304-list1/-list2 and MA105H2E/MA304T4 list 3 pushes from
    # Sweden (amsreader-firmware issue 242) match them.
    "kaifa-ma304-list1 kaifa 1-0:1.7.0\n"
    "kaifa-ma304-list2 kaifa:KFM 1-1:0.2.129 0-0:96.1.0 0-0:96.1.7 1-0:1.7.0 1-0:2.7.0"
    " 1-0:3.7.0 1-0:4.7.0 1-0:31.7.0 1-0:51.7.0 1-0:71.7.0 1-0:32.7.0 1-0:52.7.0"
    " 1-0:72.7.0\n"
    "kaifa-ma304-list3 kaifa:KFM 1-1:0.2.129 0-0:96.1.0 0-0:96.1.7 1-0:1.7.0 1-0:2.7.0"
    " 1-0:3.7.0 1-0:4.7.0 1-0:31.7.0 1-0:51.7.0 1-0:71.7.0 1-0:32.7.0 1-0:52.7.0"
    " 1-0:72.7.0 0-0:1.0.0 1-0:1.8.0 1-0:2.8.0 1-0:3.8.0 1-0:4.8.0\n"
    "kaifa-ma105-list2 kaifa:KFM 1-1:0.2.129 0-0:96.1.0 0-0:96.1.7 1-0:1.7.0 1-0:2.7.0"
    " 1-0:3.7.0 1-0:4.7.0 1-0:31.7.0 1-0:32.7.0\n"
    "kaifa-ma105-list3 kaifa:KFM 1-1:0.2.129 0-0:96.1.0 0-0:96.1.7 1-0:1.7.0 1-0:2.7.0"
    " 1-0:3.7.0 1-0:4.7.0 1-0:31.7.0 1-0:32.7.0 0-0:1.0.0 1-0:1.8.0 1-0:2.8.0"
    " 1-0:3.8.0 1-0:4.8.0\n"
    # Slovenian E450 (ZMXi3, IDIS 2DLM): two pushes that alternate every ~2 s, the
    # order from the DSO's push object list (amsreader-firmware test payloads
    # em-si2026-1/-2). Whole volts, 0.01 A, as the E450 profile has it. "e450:#":
    # the first value must be text of digits only (the serial number): Netz
    # Burgenland's E450 also pushes 14 values, led by a voltage
    # (at-e450-burgenland-1), a Slovenian AM550 9 led by "ISK…" (si-am550-untagged-1s).
    "e450-si-list1 e450:# 0-0:96.1.0 1-0:1.7.0 1-0:2.7.0 1-0:3.7.0 1-0:4.7.0 1-0:1.8.0"
    " 1-0:2.8.0 1-0:3.8.0 1-0:4.8.0\n"
    # Slovenian Iskraemeco meters (the ECE lists): list 1 is the logical device name,
    # the serial, P+ P- Q+ Q-, U1-3, I1-3, P+ and P- per phase; list 2 the name, an
    # empty text, the breaker state, the tariff, A+ (total, T1, T2), A- (the same),
    # R+ and R-. Order from node-dsmr-parser's slovenia-list-1/-2 expectations; an
    # AM550 in amsreader's issue 956 sends list 1 (its phase powers add up to P+).
    "iskra-si-list1 am550:ISK 0-0:42.0.0 0-0:96.1.2 1-0:1.7.0 1-0:2.7.0 1-0:3.7.0 1-0:4.7.0"
    " 1-0:32.7.0 1-0:52.7.0 1-0:72.7.0 1-0:31.7.0 1-0:51.7.0 1-0:71.7.0 1-0:21.7.0"
    " 1-0:41.7.0 1-0:61.7.0 1-0:22.7.0 1-0:42.7.0 1-0:62.7.0\n"
    # The single-phase AM550 of the same utility sends list 1 without L2 and L3 (10 values;
    # amsreader-firmware payload iskraemeco/gh869-8: 233.6 V and 2.78 A carry the 540 W,
    # and P+ L1 equals P+, as on one phase it must).
    "iskra-si-list1-1p am550:ISK 0-0:42.0.0 0-0:96.1.2 1-0:1.7.0 1-0:2.7.0 1-0:3.7.0 1-0:4.7.0"
    " 1-0:32.7.0 1-0:31.7.0 1-0:21.7.0 1-0:22.7.0\n"
    "iskra-si-list2 am550:ISK 0-0:42.0.0 0-0:96.1.3 0-0:96.3.10 0-0:96.14.0 1-0:1.8.0 1-0:1.8.1"
    " 1-0:1.8.2 1-0:2.8.0 1-0:2.8.1 1-0:2.8.2 1-0:3.8.0 1-0:4.8.0\n"
    # Other Slovenian utilities' lists (amsreader-firmware payloads, issues 615 and 869; the
    # orders of its decoder, checked on the values). Elektro Celje's list 1: name, "UP_3f",
    # U1-3, I1-3, P+ P- Q+ Q- (gh615-8/9: the phases' U x I carry the 2.4 kW). After list 2:
    # its third value, a voltage, is no disconnect state.
    "iskra-si-list1-short am550:ISK 0-0:42.0.0 0-0:96.1.2 1-0:32.7.0 1-0:52.7.0 1-0:72.7.0"
    " 1-0:31.7.0 1-0:51.7.0 1-0:71.7.0 1-0:1.7.0 1-0:2.7.0 1-0:3.7.0 1-0:4.7.0\n"
    # Elektro Ljubljana: a 9-value push of powers and energies (gh869-6: T1 + T2 equal the
    # totals, and 1.8.0 is the one its 15-minute push sent a second earlier), and the
    # single-phase meter's 1 s list 1 without its phase powers (gh869-1/2/5: 230 V; amsreader
    # takes its last two values for A- T1 and T2, always 0 there, so nothing bears that
    # out: left out). The energy list goes first:
    # the short list's second slot takes any value, the energy list's only a number.
    "iskra-si-energy am550:ISK 0-0:42.0.0 1-0:1.7.0 1-0:2.7.0 1-0:1.8.0 1-0:1.8.1 1-0:1.8.2"
    " 1-0:2.8.0 1-0:2.8.1 1-0:2.8.2\n"
    "iskra-si-list1-1p-short am550:ISK 0-0:42.0.0 0-0:96.1.2 1-0:1.7.0 1-0:2.7.0 1-0:3.7.0"
    " 1-0:4.7.0 1-0:32.7.0 - -\n"
    # Their 15-minute push: the serial (the digits of 96.1.2), an unsigned 0, A+ and A-
    # (gh869-3/4/7: A+ grew 151 Wh in 15 minutes while the 1 s list said ~600 W).
    "iskra-si-15min am550:# 0-0:96.1.0 - 1-0:1.8.0 1-0:2.8.0\n"
    # Wiener Netze's customer interface (AM550, E450, Siemens IM350): the clock, then
    # +A -A +R -R (Wh, varh) and +P -P +Q -Q (W, var); the Siemens meter puts its
    # serial number first. Kaernten Netz / KELAG (AM550): the push object's own
    # OBIS, the meter number, a time and a date (the header's date-time says the
    # same: skipped, "-"), +A -A +R -R +P -P, the customer message text and code.
    # Layouts from a public Wiener Netze decoder script's annotated plaintexts;
    # at-am550-kelag-enc matches the second.
    "wn-list generic:@ 0-0:1.0.0 1-0:1.8.0 1-0:2.8.0 1-0:3.8.0 1-0:4.8.0 1-0:1.7.0"
    " 1-0:2.7.0 1-0:3.7.0 1-0:4.7.0\n"
    "wn-list-serial generic: 0-0:96.1.0 0-0:1.0.0 1-0:1.8.0 1-0:2.8.0 1-0:3.8.0 1-0:4.8.0"
    " 1-0:1.7.0 1-0:2.7.0 1-0:3.7.0 1-0:4.7.0\n"
    "kn-list generic:=0006190900ff - 0-0:96.1.0 - - 1-0:1.8.0 1-0:2.8.0 1-0:3.8.0"
    " 1-0:4.8.0 1-0:1.7.0 1-0:2.7.0 0-0:96.13.0 0-0:96.13.1\n"
    # The same without the message text and code: Siemens IM350s in Upper Austria
    # (Wels; test frames of Noschvie/shrdzm and a public gurux script, which names
    # the six numbers +A -A +R -R +P -P).
    "kn-list-short generic:=0006190900ff - 0-0:96.1.0 - - 1-0:1.8.0 1-0:2.8.0 1-0:3.8.0"
    " 1-0:4.8.0 1-0:1.7.0 1-0:2.7.0\n"
    "e450-si-list2 e450:# 0-0:96.1.1 1-0:14.7.0 1-0:31.7.0 1-0:51.7.0 1-0:71.7.0"
    " 1-0:32.7.0 1-0:52.7.0 1-0:72.7.0 1-0:21.7.0 1-0:41.7.0 1-0:61.7.0 1-0:22.7.0"
    " 1-0:42.7.0 1-0:62.7.0\n"
    # Croatian Iskraemeco IE.5 (Elektra Zabok; amsreader-firmware issue 1072 and payloads
    # gh1072-3/4, gh1174-1): the serial, a time and a date (the header's again: skipped),
    # A+ and A- (total, T1, T2), the four reactive quadrants, P+ P-, the power factor, P+
    # and P- per phase, U1-3, I1-3, then five values nothing identifies (a limit, arrays, a
    # state). The order is amsreader's decoder's; the values confirm it (T1 + T2 equal the
    # totals, the phases' P+ add up to P+, U x I >= P on every phase). The short list, led
    # the same way, lacks the quadrants and the power factor (gh1174-1: 28 values); no
    # reader found names it, its order is the long one's less those five, and its values
    # bear that out the same way.
    "hr-ie5-list am550:# 0-0:96.1.0 - - 1-0:1.8.0 1-0:1.8.1 1-0:1.8.2 1-0:2.8.0 1-0:2.8.1"
    " 1-0:2.8.2 1-0:5.8.0 1-0:6.8.0 1-0:7.8.0 1-0:8.8.0 1-0:1.7.0 1-0:2.7.0 1-0:13.7.0"
    " 1-0:21.7.0 1-0:41.7.0 1-0:61.7.0 1-0:22.7.0 1-0:42.7.0 1-0:62.7.0 1-0:32.7.0"
    " 1-0:52.7.0 1-0:72.7.0 1-0:31.7.0 1-0:51.7.0 1-0:71.7.0 - - - - -\n"
    "hr-ie5-list-short am550:# 0-0:96.1.0 - - 1-0:1.8.0 1-0:1.8.1 1-0:1.8.2 1-0:2.8.0"
    " 1-0:2.8.1 1-0:2.8.2 1-0:1.7.0 1-0:2.7.0 1-0:21.7.0 1-0:41.7.0 1-0:61.7.0 1-0:22.7.0"
    " 1-0:42.7.0 1-0:62.7.0 1-0:32.7.0 1-0:52.7.0 1-0:72.7.0 1-0:31.7.0 1-0:51.7.0"
    " 1-0:71.7.0 - - - - -\n"
    # Netz Burgenland's E450 (M-Bus): U1-3 in whole volts, I1-3, P+ P-, A+ A-, three values
    # nothing identifies, the meter number; the 11-value form lacks the three (amsreader's
    # decoder and tosog/nbsm's reader agree on the first ten; captures at-e450-burgenland-1/2,
    # and Tasmota issue 23027's decrypted body). No mark: its first value is a voltage.
    "e450-at-bgld e450 1-0:32.7.0 1-0:52.7.0 1-0:72.7.0 1-0:31.7.0 1-0:51.7.0 1-0:71.7.0"
    " 1-0:1.7.0 1-0:2.7.0 1-0:1.8.0 1-0:2.8.0 - - - 0-0:96.1.0\n"
    "e450-at-bgld-short e450 1-0:32.7.0 1-0:52.7.0 1-0:72.7.0 1-0:31.7.0 1-0:51.7.0"
    " 1-0:71.7.0 1-0:1.7.0 1-0:2.7.0 1-0:1.8.0 1-0:2.8.0 0-0:96.1.0\n"
    # ZPA AM375 (Czech, PRE Distribuce): its HAN id "ZPA3HAN00200", the clock, the meter
    # number, the disconnect control's state, the load limit, four relays' states, the
    # tariff, P+ and P+ per phase, P- and P- per phase, A+ (total, T1, T2), A-. The codes
    # are those dlms_parser's two captures (a meter's, the datasheet's) give; the values
    # bear them out (the phases' P+ add up to P+, T1 + T2 equal the total).
    "cz-zpa-am375 zpa:ZPA 0-0:96.1.4 0-0:1.0.0 0-0:96.1.1 0-0:96.3.10 0-0:17.0.0"
    " 0-1:96.3.10 0-2:96.3.10 0-3:96.3.10 0-4:96.3.10 0-0:96.14.0 1-0:1.7.0 1-0:21.7.0"
    " 1-0:41.7.0 1-0:61.7.0 1-0:2.7.0 1-0:22.7.0 1-0:42.7.0 1-0:62.7.0 1-0:1.8.0"
    " 1-0:1.8.1 1-0:1.8.2 1-0:2.8.0"
)
# Lists of the user's (lists_user.py) are appended after this: tried only where a setting
# names them, never in the walk of every list (a setting without them must not read with
# one an earlier setting of this process left behind).
_BUILT_IN = len(_LIST_TEXT)


# The kind of value a slot takes. A list whose slots do not take a push's values
# does not name them, however many there are: a 12-value push of voltages and
# currents must not come out as energies and a disconnect state.
_KIND_ANY = const(0)  # ids, texts, list versions, tariffs, a skipped "-"
_KIND_NUMBER = const(1)  # an electricity quantity (A = 1, C 1..92): power, energy, U, I
_KIND_CLOCK = const(2)  # 0-0:1.0.0: a date-time
_KIND_STATE = const(3)  # 0-0:96.3.10, disconnect control state: an enum 0..2 (or a boolean)
# 0-0:96.1.0 (the meter number) and 0-0:96.14.0 (the tariff): text, no date-time. Only in
# the built-in lists, whose meters send them so: Netz Burgenland's lists have no mark, and
# without it any push of ten numbers and a clock read as volts, amps and a meter number; a
# Celje list 1 whose L1 reads 0 V passed for ECE list 2 (a voltage of 0 is a disconnect
# state, the next one a tariff). A user's list takes what the user's meter sends.
_KIND_TEXT = const(4)


def slot_kind(code, built_in=True):
    """The _KIND_ of the value a list slot with OBIS text ``code`` takes (``built_in``:
    in a list of the decoder's own, not one of the user's)."""
    if code == "0-0:1.0.0":
        return _KIND_CLOCK
    if code == "0-0:96.3.10":
        return _KIND_STATE
    if built_in and (code == "0-0:96.1.0" or code == "0-0:96.14.0"):
        return _KIND_TEXT
    if code.startswith("1-"):
        quantity = int(code[code.find(":") + 1 :].split(".")[0])
        if 0 < quantity < 93:
            return _KIND_NUMBER
    return _KIND_ANY


def _spec(line):
    """One line of _LIST_TEXT -> {"obis": (codes...), "count": n, "exponents" or
    "profile": ..., ["first": mark]}.

    Untagged value lists: the OBIS order of a push that carries values only,
    chosen by value count (and by "first", when the list has it: the first
    value must be text starting with it; "#": text of digits only; "@": a
    12-byte date-time; "=hex": exactly these bytes); "exponents" override the
    profile's. In _LIST_TEXT, "profile:first" sets it ("kaifa:KFM", "e450:#"),
    and a code "-" is a value the list skips."""
    words = line.split()
    spec = {"obis": tuple(words[2:]), "count": len(words) - 2}
    profile, marked, first = words[1].partition(":")
    if profile == "sil":
        spec["exponents"] = {"voltage": -1, "current": -2}
    else:
        spec["profile"] = profile
    if marked:
        spec["first"] = first
    return spec


def _lists():
    # LISTS: every list's spec, for the CLI and the tests. A meter never builds it
    # (~6 kB of heap on the 64-bit port): find_list() reads the text in place.
    out = {}
    for line in _LIST_TEXT.split("\n"):
        out[line.split(None, 1)[0]] = _spec(line)
    return out


def list_names():
    """Every untagged list's name, in the order find_list() tries them."""
    return [line.split(None, 1)[0] for line in _LIST_TEXT.split("\n")]


def names(items, add=True):
    """The list name each of ``items`` stands for: a built-in list's name or one an earlier
    item defines, or a whole line defining a list of the user's (decoder/lists_user.py:
    added to the table, or with ``add`` false only checked). ValueError ("lists: ...") for
    an unknown name, a malformed line, or a line whose name an earlier item stands for
    already: the second would replace the first, and read import as export without a word."""
    out = []
    lines = []
    for item in items:
        name = item.strip()
        if " " in name:
            from decoder.lists_user import define

            lines.append(name)
            name = define(name, False)
            if name in out:
                raise ValueError("lists: %r is defined twice" % name)
        elif name not in out and (_line_of(name) < 0 or _of_the_user(name)):
            known = [n for n in list_names() if not _of_the_user(n)]
            raise ValueError("lists: unknown value list %r (known: %s)" % (name, ", ".join(known)))
        out.append(name)
    if add:
        for line in lines:  # only once every item passed: a refused setting changes nothing
            define(line)
    return out


def _of_the_user(name):
    # A list an earlier setting defined in this process (the unix gateway restarts in its
    # process after a save; the device resets) is no name a setting may rely on: a check
    # that took it would pass a save that the next start refuses.
    user = sys.modules.get("decoder.lists_user")
    return user is not None and name in user._added


_fitted = {}  # line offset -> the spec of a list that fitted a push (a meter uses one or two)
_kinds = {}  # line offset -> its slots' _KIND_s (bytes), for the lists as long as a push


def find_list(items, fits, names=None):
    """The spec of the first untagged list as long as ``items`` whose mark on the first
    value ``fits(mark or None, items[0])`` accepts and whose slots take the values
    (``takes``), or None. ``names``: the lists to try in that order (config
    meter.lists); default every list in table order.

    The table is read where it lies: a push of a meter no list fits allocates nothing
    here but the kinds of the lists as long as it (kept), and only a list that fits is
    turned into a spec (then kept). The helpers are small for the same reason: a
    MicroPython call with more than 11 slots of locals and stack takes its frame from
    the heap."""
    if names is not None:
        return _named(names, items, fits)
    at = 0
    while 0 <= at < _BUILT_IN:
        if _fits_at(at, items, fits):
            return _list_spec(at)
        at = _LIST_TEXT.find("\n", at)
        if at >= 0:
            at += 1
    return None


def _named(names, items, fits):
    for name in names:
        at = _line_of(name)
        if at < 0:
            raise ValueError("unknown value list %r" % name)
        if _fits_at(at, items, fits):
            return _list_spec(at)
    return None


def _fits_at(at, items, fits):
    return _count_at(at) == len(items) and fits(_mark_at(at), items[0]) and takes(_kinds_at(at), items)


def takes(kinds, items):
    """Whether every slot (``kinds``: bytes of _KIND_ per slot) takes its decoded value.
    A null-data is a value the meter does not have: any slot takes it."""
    for i in range(len(items)):
        if not _takes_one(kinds[i], items[i]):
            return False
    return True


def _takes_one(kind, value):
    if kind == _KIND_ANY or value is None:
        return True
    t = type(value)
    if kind == _KIND_NUMBER:
        return t is int or t is float
    if kind == _KIND_CLOCK:  # an empty octet-string: a clock the meter does not tell
        return t is bytes and not value or is_clock(value)
    if kind == _KIND_TEXT:
        return t is str or t is bytes and not is_clock(value)
    return t is bool or t is int and 0 <= value <= 2  # _KIND_STATE


def _kinds_at(at):
    kinds = _kinds.get(at)
    if kinds is None:
        codes = _LIST_TEXT[_codes_at(at) : _end_at(at)].split(" ")
        kinds = _kinds[at] = bytes([slot_kind(code, at < _BUILT_IN) for code in codes])
    return kinds


def _end_at(at):
    end = _LIST_TEXT.find("\n", at)
    return len(_LIST_TEXT) if end < 0 else end


def _codes_at(at):
    # Where the codes of the line at ``at`` start: after its name and its profile.
    return _LIST_TEXT.find(" ", _LIST_TEXT.find(" ", at) + 1) + 1


def _count_at(at):
    return _LIST_TEXT.count(" ", _codes_at(at), _end_at(at)) + 1


def _mark_at(at):
    # The line's mark on the first value ("KFM" of "kaifa:KFM"), or None.
    codes = _codes_at(at)
    colon = _LIST_TEXT.find(":", at, codes)
    return None if colon < 0 else _LIST_TEXT[colon + 1 : codes - 1]


def _list_spec(at):
    spec = _fitted.get(at)
    if spec is None:
        spec = _fitted[at] = _spec(_LIST_TEXT[at : _end_at(at)])
    return spec


def _line_of(name):
    # Where list ``name``'s line starts in _LIST_TEXT, or -1.
    if _LIST_TEXT.startswith(name + " "):
        return 0
    at = _LIST_TEXT.find("\n%s " % name)
    return at + 1 if at >= 0 else -1


def __getattr__(name):
    # PEP 562 (MicroPython: MICROPY_MODULE_GETATTR): LISTS on first access.
    if name == "LISTS":
        value = globals()[name] = _lists()
        return value
    raise AttributeError(name)
