"""Push-setup bodies (DLMS UA Blue Book, interface class 40 "Push setup"):
the fast path of obis.readings for Swiss E450/E360/AM550/E570 pushes.

    02 n                                        body structure, n elements
      01 n                                      element 0: push_object_list
        02 04 12 cc cc 09 06 OBIS 0F aa 12 ii   {class, logical name, attribute, data index}
        …                                       (02 06 …: the same four, then restriction
                                                and columns, Blue Book ed. 15; an
                                                Energomera meter sends {enum 0, null}, [])
      value_1 … value_n-1                       untagged, list order

Element i is the value of capture object i (object 0, the push object
itself, has the list as its value). Some meters leave the push object out of
the list; then the list has n-1 entries and element i belongs to object i-1.

The capture list is identical on every push of one configuration, so it is
turned once into a *plan* (OBIS text, exponent, unit per element) cached on
the list's bytes; each push then costs one dict copy and one (value, unit)
tuple per reading (text readings that did not change are reused).

Heap: this runs on every push on a small ESP32 heap. MicroPython puts a
call's frame on the heap when its locals plus value stack exceed 11 slots,
so the per-push functions below are small on purpose and share one reused
cursor (obis.push_cursor) that carries the call's inputs instead of long
argument lists.

Loaded by the first push-setup body (obis.readings tells them by their first
bytes), so meters of the other styles never hold it.
"""

from decoder import axdr, profiles
from decoder.compat import const
from decoder.errors import AxdrError, Incomplete
from decoder.obis import PUSH_SETUP_CLASS, VALUE_ATTRIBUTE, default_scale, name_key, push_cursor
from decoder.obis import _frame_scale, obis_text, plain, reading, unit_symbol

# Plans kept for distinct capture lists: a meter pushes two or three lists
# (the SiL notice has a 5-second and a 1-minute list); 4 leaves one spare.
MAX_PLANS = const(4)

# Interface classes with a scaler_unit attribute (Blue Book 4.3.2-4.3.4).
_REGISTER = const(3)
_EXTENDED_REGISTER = const(4)
_DEMAND_REGISTER = const(5)

_plans = []


class Plan:
    """What to do with each value of one capture list, for one profile."""

    def __init__(self, key, profile_name, title, entries, name_at=None, name=None, kept=(), default=b""):
        self.key = key                    # bytes of the capture list
        self.profile_name = profile_name
        self.title = title                # system title it was built for
        # Per capture object three slots: OBIS text (None: skip), exponent, unit. One flat
        # list: a 3-tuple per object cost ~48 bytes more, for as long as the plan lives.
        self.entries = entries
        self.count = len(entries) // 3
        # Text entries (meter number, list id) rarely change: slot -> (raw
        # value, reading) of the last push, so an unchanged one costs no new
        # string and tuple. Numbers are not kept: their tuple costs what the
        # comparison would save, and the plan stays small.
        self.last = {}
        # "auto" without a system title: the logical name that chose the
        # profile, and its reading key (another meter with the same list
        # but another name needs its own plan).
        self.name_at = name_at
        self.name = name
        # Captured scaler_units that were no {scaler, unit} when the plan was built, kept
        # as read: (reading key, value). Once one brings a scale, the plan is built again.
        self.kept = kept
        # Per capture object 1 where its exponent is the profile's default, 0 where it is a
        # scaler_unit the push captures (obis.reading takes that one as sent).
        self.default = default
        # Sized once with every key: each push copies it in one allocation
        # of exactly that many slots.
        self.template = dict.fromkeys([k for k in entries[::3] if k is not None])

    def matches(self, cur):
        """True when the body at cur.first starts with this plan's list.

        A-XDR values delimit themselves, so equal bytes over the cached
        list's length mean the same list: no need to walk it on every push.
        """
        if self.profile_name != cur.profile_name or self.title != cur.title:
            return False
        start = cur.first
        return self.count == cur.count - 1 and cur.buf[start:start + len(self.key)] == self.key

    def _apply(self, cur):
        """Decode the values after the list into a fresh readings dict.

        Entries are indexed, not unpacked in a for loop: the loop's iterator
        and three targets would push this frame onto the heap.
        """
        cur.pos = cur.first + len(self.key)
        cur.out = self.template.copy()
        for index in range(self.count):
            self.put(cur, 3 * index)
        out = cur.out
        cur.out = None
        return out

    def rescaled(self, out):
        """Whether a kept scaler_unit (``kept``) reads otherwise in ``out``."""
        for key, value in self.kept:
            if out[key][0] != value:
                return True
        return False

    def put(self, cur, at):
        # ``at``: where the object's three slots start in entries.
        value = cur.value()
        key = self.entries[at]
        if key is not None:
            cur.out[key] = self.reading(at, value)
        elif type(self.entries[at + 1]) is tuple and value != self.entries[at + 1]:
            cur.stale = True  # a {scaler, unit} this plan applies changed: build it again

    def reading(self, at, value):
        """(value, unit) of the object at ``at``; an unchanged text reuses its tuple."""
        t = type(value)
        if t is bytes or t is str:
            return self.text(at, value)
        return reading(value, self.entries[at + 1], self.entries[at + 2], self.default[at // 3])

    def text(self, at, value):
        # Only exact bytes and str get here: for them equal means the same
        # reading (True == 1 and 0.0 == -0.0 would not).
        last = self.last.get(at)
        if last is None or type(last[0]) is not type(value) or last[0] != value:
            last = (value, reading(value, self.entries[at + 1], self.entries[at + 2]))
            self.last[at] = last
        return last[1]


def _objects(body, start, count):
    """Decode and check the capture list: [(class, OBIS bytes, attribute)]."""
    objects = axdr.decode(body, start)[0]
    if len(objects) not in (count, count - 1):
        raise AxdrError("push list names %d objects for %d values" % (len(objects), count))
    for obj in objects:
        if (type(obj) is not tuple or len(obj) not in (4, 6) or type(obj[0]) is not int
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
            # Only captured values (attribute 2) can be the name: keyed
            # as their readings are, so the check in readings() finds it.
            # (An element of the attribute is keyed otherwise, _build: no name.)
            if obj[0] != PUSH_SETUP_CLASS and obj[2] == VALUE_ATTRIBUTE and not (type(obj[3]) is int and obj[3] > 0):
                found[obis_text(obj[1])] = (plain(values[i]), None)
        key = name_key(found)
        name = None if key is None else found[key][0]
    return profiles.resolve("auto", system_title, name, channel), key, name


def _build(cur, stale):
    # A new plan for the list at cur.first (a cache miss: frame size does
    # not matter here), cached in place of ``stale`` or of the oldest.
    body, start, count = cur.buf, cur.first, cur.count
    try:
        stop = axdr.skip(body, start)
    except Incomplete:
        raise AxdrError("push list runs past the end of the body")
    objects = _objects(body, start, count)
    offset = count - len(objects)  # 1 when the push object is not listed
    profile, name_at, name = _profile(body, objects, cur.profile_name, cur.title, offset)
    entries = [None] * (3 * (count - 1))  # sized once: Plan keeps it as it is
    default = bytearray(count - 1)
    for i in range(1, count):
        cls, six, attribute = objects[i - offset][:3]
        at = 3 * (i - 1)
        entries[at + 1] = 0
        if cls == PUSH_SETUP_CLASS:
            continue  # the push object: its "value" is the list itself
        key = obis_text(six)
        if attribute != VALUE_ATTRIBUTE:
            key = "%s/%d" % (key, attribute)
        index = objects[i - offset][3]
        if type(index) is int and index > 0:
            # Element ``index`` of the attribute (Blue Book, capture object definition's
            # data_index; 0 is the whole attribute): each a value of its own, which one key
            # would keep only the last of: "OBIS/attribute/element". (No helper and no new
            # format string: a new name costs a decoder process the name pool's next block,
            # ~7 kB, test_mpy_heap.py, and short literals are names too.)
            key = "%s/%d" % ("%s/%d" % (obis_text(six), attribute), index)
        entries[at] = key
        if _is_value(cls, attribute):  # a status or a capture time is no quantity of the code
            entries[at + 1], entries[at + 2] = default_scale(six, profile)
            default[i - 1] = 1
    kept = _apply_scalers(body, objects, offset, entries, default)
    title = None if cur.title is None else bytes(cur.title)
    if stale is not None:
        _plans.remove(stale)
    if len(_plans) >= MAX_PLANS:
        _plans.pop(0)
    _plans.append(Plan(bytes(body[start:stop]), cur.profile_name, title, entries, name_at, name, kept, default))
    return _plans[-1]


def _scaler_attribute(cls):
    # Blue Book 4.3.2-4.3.4: register and extended register keep scaler_unit in
    # attribute 3, the demand register in 4 (its attribute 3 is a value, too).
    if cls == _REGISTER or cls == _EXTENDED_REGISTER:
        return 3
    return 4 if cls == _DEMAND_REGISTER else None


def _is_value(cls, attribute):
    # Blue Book: attribute 2 is the value of every class that has one; the demand
    # register's attribute 3 (last average) is one too. Others (an extended
    # register's status, its capture time) are not quantities of the OBIS code.
    return attribute == VALUE_ATTRIBUTE or (cls == _DEMAND_REGISTER and attribute == 3)


def _scaled_by(obj, scaler):
    # Whether capture object ``obj`` holds a value that ``scaler`` (an object
    # capturing scaler_unit) scales: same object, a value attribute.
    if obj[0] != scaler[0] or obj[1] != scaler[1]:
        return False
    return _is_value(obj[0], obj[2])


def _apply_scalers(body, objects, offset, entries, default):
    """Scale values by the {scaler, unit} the push captures beside them.

    A capture list may hold a register's scaler_unit attribute as well as its
    value. That is the meter's own scale: it replaces the profile's guess for
    the value, wherever in the list either comes. The scaler's slot then reads
    nothing and keeps the structure, so that a push bringing another one
    rebuilds the plan (Plan.put). One that is no {scaler, unit} is kept as read;
    returned as ((key, value), ...), so that a later push bringing a scale there
    rebuilds the plan too (Plan.rescaled). ``default`` loses the 1 of each value so scaled."""
    values = None
    kept = ()
    for s in range(1 - offset, len(objects)):  # object s is element s + offset
        if objects[s][2] != _scaler_attribute(objects[s][0]):
            continue
        for v in range(1 - offset, len(objects)):
            if not _scaled_by(objects[v], objects[s]):
                continue
            if values is None:
                values = axdr.decode(body, 0)[0]
            su = values[s + offset]
            if not _frame_scale(su):
                # Not a {scaler, unit}: kept as read, under "<OBIS>/<attribute>".
                at = 3 * (s + offset - 1)
                kept += ((entries[at], reading(su, entries[at + 1], entries[at + 2])[0]),)
                break
            at = 3 * (v + offset - 1)
            entries[at + 1], entries[at + 2] = su[0], unit_symbol(su[1])
            default[v + offset - 1] = 0
            at = 3 * (s + offset - 1)
            entries[at], entries[at + 1] = None, su
    return kept


def _cached(cur, stale):
    for plan in _plans:
        if plan is not stale and plan.matches(cur):
            return plan
    return None


def _plan(cur, stale=None):
    """The plan for the list at cur.first (built and cached on first sight)."""
    plan = _cached(cur, stale)
    return _build(cur, stale) if plan is None else plan


def readings(body, profile_name, system_title=None, cur=None):
    """Readings of a push-setup body; ``cur`` is what obis.push_cursor(body) returned."""
    if cur is None:
        cur = push_cursor(body)
        if cur is None:
            raise AxdrError("not a push-setup body")
    cur.profile_name = profile_name
    cur.title = system_title
    cur.pos = 1
    cur.count = cur.length()
    cur.first = cur.pos
    cur.stale = False
    plan = _plan(cur)
    out = plan._apply(cur)
    if cur.stale or (plan.name_at is not None and out[plan.name_at][0] != plan.name) or (
            plan.kept and plan.rescaled(out)):
        # Same list, another meter (its name may call for another profile), or
        # a {scaler, unit} that the plan applies (or lacked) changed.
        out = _plan(cur, plan)._apply(cur)
    cur.buf = b""  # do not keep the caller's buffer alive
    return out
