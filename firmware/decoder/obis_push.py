"""Push-setup bodies (DLMS UA Blue Book, interface class 40 "Push setup"):
the fast path of obis.readings for Swiss E450/E360/AM550/E570 pushes.

    02 n                                        body structure, n elements
      01 n                                      element 0: push_object_list
        02 04 12 cc cc 09 06 OBIS 0F aa 12 ii   {class, logical name, attribute, data index}
        …
      value_1 … value_n-1                       untagged, list order

Element i is the value of capture object i (object 0, the push object
itself, has the list as its value). Some meters leave the push object out of
the list; then the list has n-1 entries and element i belongs to object i-1.

The capture list is identical on every push of one configuration, so it is
turned once into a *plan* (OBIS text, exponent, unit per element) cached on
the list's bytes; each push then costs one dict copy and one (value, unit)
tuple per reading.
"""

from decoder import axdr, profiles
from decoder.compat import const
from decoder.errors import AxdrError, Incomplete
from decoder.obis import PUSH_SETUP_CLASS, VALUE_ATTRIBUTE, default_scale, name_key
from decoder.obis import obis_text, plain, reading

_STRUCTURE = const(0x02)
_ARRAY = const(0x01)
_UINT16 = const(0x12)
_OCTET_STRING = const(0x09)

# Plans kept for distinct capture lists: a meter pushes two or three lists
# (the SiL notice has a 5-second and a 1-minute list); 4 leaves one spare.
MAX_PLANS = const(4)

_plans = []


class Plan:
    """What to do with each value of one capture list, for one profile."""

    def __init__(self, key, profile_name, title, entries, name_at=None, name=None):
        self.key = key                    # bytes of the capture list
        self.profile_name = profile_name
        self.title = title                # system title it was built for
        self.entries = entries            # [(OBIS text or None, exponent, unit)]
        # "auto" without a system title: the logical name that chose the
        # profile, and its reading key (another meter with the same list
        # but another name needs its own plan).
        self.name_at = name_at
        self.name = name
        self.template = {}
        for entry in entries:
            if entry[0] is not None:
                self.template[entry[0]] = None


def begin(body):
    """A Cursor at element 0 when the body is a structure whose element 0 is
    a capture list ({uint16 class, octet-string[6] OBIS, ...}), else None."""
    cur = axdr.Cursor(body)
    try:
        if cur.byte() != _STRUCTURE:
            return None
        cur.length()
        if cur.byte() != _ARRAY or cur.length() == 0:
            return None
        if cur.byte() != _STRUCTURE or cur.byte() != 4 or cur.byte() != _UINT16:
            return None
        cur.pos = cur.need(2)
        if cur.byte() != _OCTET_STRING or cur.byte() != 6:
            return None
    except AxdrError:
        return None
    cur.pos = 0
    return cur


def is_push_setup(body):
    """True when the body is push-setup style."""
    return begin(body) is not None


def _objects(body, start, count):
    """Decode and check the capture list: [(class, OBIS bytes, attribute)]."""
    objects = axdr.decode(body, start)[0]
    if len(objects) not in (count, count - 1):
        raise AxdrError("push list names %d objects for %d values" % (len(objects), count))
    for obj in objects:
        if (type(obj) is not tuple or len(obj) != 4 or type(obj[0]) is not int
                or type(obj[1]) is not bytes or len(obj[1]) != 6 or type(obj[2]) is not int):
            raise AxdrError("bad capture object %r in push list" % (obj,))
    return objects


def _profile(body, objects, profile_name, system_title, offset):
    """Resolve "auto": system title, else the logical device name in the body.

    -> (profile, reading key of the name or None, the name or None)
    """
    if profile_name != "auto":
        return profiles.resolve(profile_name), None, None
    channel = None
    for obj in objects:
        if obj[0] == PUSH_SETUP_CLASS:
            channel = obj[1][1]
            break
    key = name = None
    if system_title is None:
        values = axdr.decode(body, 0)[0]
        found = {}
        for i in range(1, len(values)):
            obj = objects[i - offset]
            if obj[0] != PUSH_SETUP_CLASS:
                found[obis_text(obj[1])] = (plain(values[i]), None)
        key = name_key(found)
        name = None if key is None else found[key][0]
    return profiles.resolve("auto", system_title, name, channel), key, name


def _build(body, start, stop, count, profile_name, system_title):
    objects = _objects(body, start, count)
    offset = count - len(objects)  # 1 when the push object is not listed
    profile, name_at, name = _profile(body, objects, profile_name, system_title, offset)
    entries = []
    for i in range(1, count):
        cls, six, attribute = objects[i - offset][:3]
        if cls == PUSH_SETUP_CLASS:
            entries.append((None, 0, None))
            continue
        key = obis_text(six)
        if attribute != VALUE_ATTRIBUTE:
            key = "%s/%d" % (key, attribute)
        exponent, unit = default_scale(six, profile)
        entries.append((key, exponent, unit))
    title = None if system_title is None else bytes(system_title)
    return Plan(bytes(body[start:stop]), profile_name, title, entries, name_at, name)


def _cached(body, start, count, profile_name, system_title, stale):
    """A plan whose list bytes start the body at ``start``, or None.

    A-XDR values delimit themselves, so equal bytes over the cached list's
    length mean the same list: no need to walk the list on every push.
    """
    for plan in _plans:
        if (plan is not stale and plan.profile_name == profile_name and plan.title == system_title
                and len(plan.entries) == count - 1
                and body[start:start + len(plan.key)] == plan.key):
            return plan
    return None


def _plan(body, start, count, profile_name, system_title, stale=None):
    plan = _cached(body, start, count, profile_name, system_title, stale)
    if plan is not None:
        return plan
    try:
        stop = axdr.skip(body, start)
    except Incomplete:
        raise AxdrError("push list runs past the end of the body")
    if stale is not None:
        _plans.remove(stale)
    plan = _build(body, start, stop, count, profile_name, system_title)
    if len(_plans) >= MAX_PLANS:
        _plans.pop(0)
    _plans.append(plan)
    return plan


def readings(body, profile_name, system_title=None, cur=None):
    """Readings of a push-setup body; ``cur`` is what begin(body) returned."""
    if cur is None:
        cur = begin(body)
        if cur is None:
            raise AxdrError("not a push-setup body")
    body = cur.buf
    cur.pos = 1
    count = cur.length()
    first = cur.pos
    plan = _plan(body, first, count, profile_name, system_title)
    out = _apply(plan, cur, first)
    if plan.name_at is not None and out[plan.name_at][0] != plan.name:
        # Same list, another meter: its name may call for another profile.
        plan = _plan(body, first, count, profile_name, system_title, plan)
        out = _apply(plan, cur, first)
    return out


def _apply(plan, cur, start):
    cur.pos = start + len(plan.key)
    out = plan.template.copy()
    for key, exponent, unit in plan.entries:
        value = cur.value()
        if key is not None:
            out[key] = reading(value, exponent, unit)
    return out
