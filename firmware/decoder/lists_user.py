"""Value lists of the user's: the OBIS codes of an untagged push that no list of
lists.py names (values only, no OBIS codes in the frame: IEC 62056-6-2 push
objects whose capture list the utility publishes but the meter does not send).

A list is one line as lists.py writes its own, given in the configuration's
``meter.lists`` or the decoder CLI's ``--profile``::

    "name profile[:mark] code code ..."
    "tg-e450 e450 1-0:1.8.0 1-0:2.8.0"

``profile``: the meter profile whose scalers and units the values take ("sil":
the SiL notice's), ``mark``: what the first value must be (lists.py), a code
``-``: a value to leave out. The line is appended to lists.py's table, so the
list is tried like the built-in ones. Loaded only by a configuration or a
command line that defines one: the table is then a copy in RAM (~2.5 kB).
"""

from decoder import lists, profiles

_added = []  # the names of the lists define() added to the table in this process


def define(line, add=True):
    """Add the list ``line`` defines; -> its name. ValueError says what is wrong.
    The same line again is no error (a restart in the same process defines it again), nor
    is a changed line for a list added before (new settings, the unix port's restart in the
    same process). ``add=False`` only checks (config.py: a check must not change the table
    of a gateway that runs on)."""
    words = line.split()
    if len(words) < 3:
        raise ValueError("lists: %r: a value list is a name, a meter profile and the OBIS codes in push "
                         "order, separated by spaces" % line)
    name = words[0]
    at = lists._line_of(name)
    if at >= 0:
        if lists._LIST_TEXT[at : lists._end_at(at)] == " ".join(words):
            return name
        if name not in _added:
            raise ValueError("lists: %r is the name of a list already" % name)
    profile, _, mark = words[1].partition(":")
    if profile != "sil" and not profiles.known(profile):
        raise ValueError("lists: %s: unknown meter profile %r (known: sil, %s)"
                         % (name, profile, ", ".join(profiles.names())))
    if mark[:1] == "=" and not _is_hex(mark[1:]):
        raise ValueError("lists: %s: the mark %r must be = and hex digits" % (name, mark))
    for code in words[2:]:
        if code != "-" and not _is_obis(code):
            raise ValueError("lists: %s: %r is not an OBIS code A-B:C.D.E (or - for a value to leave out)"
                             % (name, code))
    if not add:
        return name
    if at >= 0:
        # The old line goes; lists.py's caches, by offset, are wrong for the lines after it.
        lists._LIST_TEXT = lists._LIST_TEXT[: at - 1] + lists._LIST_TEXT[lists._end_at(at) :]
        lists._fitted.clear()
        lists._kinds.clear()
    else:
        _added.append(name)
    # Appended: the lines before keep their offsets, which lists.py caches by.
    lists._LIST_TEXT = lists._LIST_TEXT + "\n" + " ".join(words)
    lists.__dict__.pop("LISTS", None)  # built again, with this one, on next access
    return name


def _is_obis(code):
    a, dash, rest = code.partition("-")
    b, colon, rest = rest.partition(":")
    groups = [a, b] + rest.split(".")
    if not dash or not colon or len(groups) not in (5, 6):
        return False
    for group in groups:
        if not group.isdigit() or int(group) > 255:
            return False
    return True


def _is_hex(text):
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return len(text) > 0
