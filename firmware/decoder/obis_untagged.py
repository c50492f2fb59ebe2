"""Bodies whose values carry no OBIS code in A-XDR form (IEC 62056-6-2 data,
OBIS per IEC 62056-6-1): the untagged lists and the Sagemcom XT211 quirk.

untagged: a structure of bare values; their OBIS order comes from a named
list in profiles.LISTS with as many entries (the SiL notice's two lists)::

    02 n  value_1 … value_n

XT211 (Czech push): class id, OBIS and attribute written without tags.
"""

from decoder import axdr, profiles
from decoder.errors import AxdrError
from decoder.obis import VALUE_ATTRIBUTE, default_scale, obis_text, parse_obis, plain, reading


def readings(items, profile_name, profile, system_title=None, lists=None):
    """Values only: the first list in ``lists`` with as many entries names them.

    Under "auto" the list's own exponents (SiL: 0.1 V, 0.01 A) and profile
    apply; a profile named by the user wins over them. No list of that
    length: the values come out as "#1", "#2", … unscaled, so nothing is lost.
    """
    spec = None
    for name in profiles.DEFAULT_LISTS if lists is None else lists:
        if name not in profiles.LISTS:
            raise ValueError("unknown value list %r" % name)
        if len(profiles.LISTS[name]["obis"]) == len(items):
            spec = profiles.LISTS[name]
            break
    out = {}
    if spec is None:
        for i in range(len(items)):
            out["#%d" % (i + 1)] = (plain(items[i]), None)
        return out
    overrides = None
    if profile_name == "auto":
        overrides = spec.get("exponents")
        if system_title is None and "profile" in spec:
            profile = profiles.resolve(spec["profile"])
    for i in range(len(items)):
        six = parse_obis(spec["obis"][i])
        exponent, unit = default_scale(six, profile, overrides)
        out[obis_text(six)] = reading(items[i], exponent, unit)
    return out


def xt211(body, profile):
    """Sagemcom XT211 (Czech push, cz-sagemcom-xt211-compact): not plain A-XDR.

        02 02  <tagged value>  01 n  { 02 02  cc cc  OBIS(6)  aa  <tagged value> } × n

    The first member of each entry is class id, OBIS and attribute written
    WITHOUT tags (9 raw bytes). Raises AxdrError when the body is not that.
    """
    cur = axdr.Cursor(body)
    if cur.byte() != 0x02 or cur.length() != 2:
        raise AxdrError("not an XT211 body")
    cur.value()
    if cur.byte() != 0x01:
        raise AxdrError("not an XT211 body")
    out = {}
    for _ in range(cur.length()):
        if cur.byte() != 0x02 or cur.length() != 2:
            raise AxdrError("XT211 entry is not a 2-structure at offset %d" % cur.pos)
        at = cur.pos
        cur.pos = cur.need(9)
        six = bytes(body[at + 2:at + 8])
        key = obis_text(six) if body[at + 8] == VALUE_ATTRIBUTE else "%s/%d" % (obis_text(six), body[at + 8])
        exponent, unit = default_scale(six, profile)
        out[key] = reading(cur.value(), exponent, unit)
    return out
