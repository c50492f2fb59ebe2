"""The tree path of obis.readings (IEC 62056-6-2 data, OBIS per IEC 62056-6-1):
bodies neither fast path reads are decoded into a whole A-XDR tree first.
Loaded by the first such body, so meters the fast paths serve never hold it.

tagged, flat or in shapes obis_tagged.py leaves (Kamstrup, Kaifa)::

    02 n  09 06 OBIS  value  [02 02 0F scaler 16 unit]  09 06 OBIS value …

untagged: a structure of bare values; their OBIS order comes from a named
list of lists.py with as many entries (the SiL notice's two lists)::

    02 n  value_1 … value_n

XT211 (Czech push): class id, OBIS and attribute written without tags.
"""

from decoder import axdr, profiles
from decoder.errors import AxdrError, Incomplete
from decoder.obis import (
    VALUE_ATTRIBUTE, _ascii_text, _frame_scale, _loaded, default_scale, is_clock, is_datetime, logical_name,
    obis_text, plain, reading, scaled)


def decoded(body, profile_name, system_title=None, lists=None):
    """Readings of a tagged or untagged body, from its decoded A-XDR tree
    (obis.readings for the bodies its fast paths leave). Raises AxdrError."""
    try:
        tree = axdr.decode(body, 0)[0]
    except AxdrError as e:
        try:
            return xt211(body, profiles.resolve(profile_name, system_title))
        except AxdrError:
            raise e
    items = tree if type(tree) in (tuple, list) else (tree,)
    profile = None
    if profile_name != "auto":
        profile = profiles.resolve(profile_name)
    elif system_title is not None:
        profile = profiles.resolve("auto", system_title)
        if profile["name"] == "generic":
            # A title that names no maker profiles.py knows ("ELS…", binary bytes): the
            # body's list id or logical device name decides, as without a title. A Kaifa
            # list under such a title read its mA currents as 0.01 A, ten times too high.
            profile = system_title = None
    if profile is None:
        guess, _ = tagged(items, profiles.resolve("generic"))
        profile = profiles.resolve("auto", None, logical_name(guess))
    # Tagged when OBIS-labelled entries make up most of the body: the
    # Austrian AM550 leads 11 untagged values with one stray push-object OBIS.
    out, used = tagged(items, profile)
    if used * 2 > len(items):
        return out
    return readings(items, profile_name, profile, system_title, lists)


def _is_obis(item):
    return type(item) is bytes and len(item) == 6


def _emit(out, six, value, su, profile):
    out[obis_text(six)] = scaled(six, value, su, profile)


def _unlabelled(out, item, index, last):
    """Entries without OBIS in a tagged body: the known vendor habits."""
    if item is None:
        return  # null-data: a single-phase Kamstrup fills the L2 and L3 pairs with it
    text = plain(item)
    if is_clock(item) and "0-0:1.0.0" not in out:
        out["0-0:1.0.0"] = (text, None)
    elif index == 0 and type(item) is str and "1-1:0.2.129" not in out:
        out["1-1:0.2.129"] = (text, None)  # list version id (Kamstrup_V0001)
    elif index == last and type(item) is bytes and "0-0:96.1.0" not in out:
        out["0-0:96.1.0"] = (text, None)  # Austrian Kaifa/Sagemcom meter number
    else:
        out["#%d" % (index + 1)] = (text, None)


def tagged(items, profile):
    """Readings of an OBIS-tagged body, and how many items carried an OBIS."""
    out, used, i, n = {}, 0, 0, len(items)
    while i < n:
        item = items[i]
        # A push-setup object's name (0-b:25.9.x) labels no value: it is the push naming
        # itself, first in Wiener Netze's lists and in an alarm push whose meter number came
        # after it. (1-0:25.9.0 is an electricity register.)
        if _is_obis(item) and i + 1 < n and not (item[0] == 0 and item[2] == 25 and item[3] == 9):
            su = items[i + 2] if i + 2 < n and _frame_scale(items[i + 2]) else None
            _emit(out, item, items[i + 1], su, profile)
            step = 3 if su is not None else 2
            if step == 3 and i + 3 < n and is_clock(items[i + 3]) and (i + 4 == n or _is_obis(items[i + 4])):
                step = 4  # an extended register's capture time, not the meter's clock
            i += step
            used += step
            continue
        if type(item) in (tuple, list) and len(item) in (2, 3, 4, 5) and _is_obis(item[0]):
            # 4 or 5: an extended register's status and capture time follow (dropped)
            _emit(out, item[0], item[1], item[2] if len(item) > 2 else None, profile)
            used += 1
        else:
            _unlabelled(out, item, i, n - 1)
        i += 1
    return out, used


def parse_obis(text):
    """"1-0:1.8.0" -> six bytes (inverse of obis_text, for lists)."""
    a, rest = text.split("-")
    b, rest = rest.split(":")
    parts = [int(p) for p in rest.split(".")]
    if len(parts) == 3:
        parts.append(255)
    return bytes([int(a), int(b)] + parts)


def _fits(mark, value):
    # Whether the first value carries the list's mark (lists._spec); None: no mark.
    if mark is None:
        return True
    if mark == "@":
        return is_clock(value)  # 09 0C, or the date-time type 0x19 (IEC 62056-6-2 lets either carry it)
    if mark[:1] == "=":
        return type(value) is bytes and value == bytes.fromhex(mark[1:])
    if type(value) is bytes:  # an octet-string (bytes) or a visible-string (str)
        value = _ascii_text(value) or ""  # text as plain() reads it, NUL padding dropped
    elif type(value) is not str:
        return False
    if mark == "#":
        return value.isdigit()
    return value.startswith(mark)


def readings(items, profile_name, profile, system_title=None, lists=None):
    """Values only: the first list in ``lists`` that fits (as many entries, the
    first value marked as the list says) names them.

    Under "auto" the list's own exponents (SiL: 0.1 V, 0.01 A) and profile
    apply to a push without a system title, or when the user named the lists
    to try (``lists``, the configuration's meter.lists: the user's own lines
    say their meter's profile); else the profile the title's FLAG id gave
    wins (an E450 sends whole volts in the SiL list too). A profile named by
    the user wins over them all. No list of that
    length: the values come out as "#1", "#2", … unscaled, so nothing is lost,
    and a date-time among them as the clock 0-0:1.0.0 (the meter time).
    """
    for item in items:
        if item is not None:
            break
    else:
        # Nothing but null-data (a body 00, or 02 01 00: a segmented message that lost
        # its middle segment, a helper's probe): no value to name. A one-value list took
        # it, and a power of null went out.
        return {}
    # lists.py through obis's cache of lazily loaded readers: flat tagged bodies come
    # here too and never need the table.
    spec = _loaded("lists").find_list(items, _fits, lists)
    out = {}
    if spec is None:
        for i in range(len(items)):
            if is_clock(items[i]) and "0-0:1.0.0" not in out:
                out["0-0:1.0.0"] = (plain(items[i]), None)  # the clock, as in a tagged body
            else:
                out["#%d" % (i + 1)] = (plain(items[i]), None)
        return out
    overrides = None
    if profile_name == "auto" and (system_title is None or lists is not None):
        overrides = spec.get("exponents")
        if "profile" in spec:
            profile = profiles.resolve(spec["profile"])
    obis = spec["obis"]
    for i in range(len(items)):
        if obis[i] == "-":
            continue  # a value the list leaves out (said again elsewhere)
        six = parse_obis(obis[i])
        exponent, unit = default_scale(six, profile, overrides)
        out[obis_text(six)] = reading(items[i], exponent, unit, True)
    if profile.get("east"):
        _east(out)
    return out


def _east(out):
    # A meter that writes its deviation as UTC to local time (profiles.py, ZPA): read
    # the standard way, +120 came out "-02:00", four hours off as an instant.
    clock = out.get("0-0:1.0.0")
    text = clock[0] if clock is not None else None
    if type(text) is str and len(text) == 25 and text[19] == "-":
        out["0-0:1.0.0"] = (text[:19] + "+" + text[20:], None)


def xt211(body, profile):
    """Sagemcom XT211 (Czech push, cz-sagemcom-xt211-compact): not plain A-XDR.

        02 02  <tagged value>  01 n  { 02 02  cc cc  OBIS(6)  aa  <tagged value> } × n

    The first member of each entry is class id, OBIS and attribute written
    WITHOUT tags (9 raw bytes). Raises AxdrError when the body is not that.
    """
    return _xt211(axdr.Cursor(body), profile)


def xt211_end(buf, pos):
    """Where the XT211 body at ``pos`` ends, for a bare APDU that only this shape can
    measure (apdu_parse): Incomplete while ``buf`` ends first, AxdrError when the
    bytes are not that shape."""
    cur = axdr.Cursor(buf, pos)
    cur.truncated = Incomplete  # a bare APDU still arriving, not a corrupt one
    _xt211(cur, None)
    return cur.pos


def _xt211(cur, profile):
    # Reads the readings, or with profile None only walks to the body's end.
    body = cur.buf
    if cur.byte() != 0x02 or cur.length() != 2:
        raise AxdrError("not an XT211 body")
    _next(cur, profile)
    if cur.byte() != 0x01:
        raise AxdrError("not an XT211 body")
    out = {}
    for _ in range(cur.length()):
        if cur.byte() != 0x02 or cur.length() != 2:
            raise AxdrError("XT211 entry is not a 2-structure at offset %d" % cur.pos)
        at = cur.pos
        cur.pos = cur.need(9)
        value = _next(cur, profile)
        if profile is not None:
            six = bytes(body[at + 2:at + 8])
            key = obis_text(six) if body[at + 8] == VALUE_ATTRIBUTE else "%s/%d" % (obis_text(six), body[at + 8])
            exponent, unit = default_scale(six, profile)
            out[key] = reading(value, exponent, unit, True)
    return out


def _next(cur, profile):
    # The value at the cursor, or (measuring) only past it.
    if profile is not None:
        return cur.value()
    cur.pos = axdr.skip(cur.buf, cur.pos)
    return None
