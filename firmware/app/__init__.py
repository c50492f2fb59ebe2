"""The gateway application: meter reader, latest-readings store, MQTT and HTTP publishers."""

import sys

VERSION = "0.1.0"


# The command line's options, each with a value: the gateway's and portal/boot.py's, which
# hands the line on to the gateway.
OPTIONS = ("--config", "--portal-port", "--dns-port", "--portal-host")


def command_line(argv):
    """{option: value} of ``argv`` (its first word is the program), or None after saying what
    is wrong: an unknown option ("--conf"), one without its value, or a word that is no
    option ("main.py FILE") ran the gateway on every default, HTTP on port 80."""
    out = {}
    for i in range(1, len(argv), 2):
        if argv[i] not in OPTIONS:
            print("meterlink: %s: not an option (options: %s, each with a value)" % (argv[i], " ".join(OPTIONS)))
            return None
        if i + 1 == len(argv):
            print("meterlink: %s needs a value" % argv[i])
            return None
        out[argv[i]] = argv[i + 1]
    return out


def unload(names):
    """Drop rarely used modules so their code can be collected until next needed.

    MicroPython only: there the bytecode of a loaded module sits in the heap (unless frozen),
    and importing a .mpy again is cheap. On CPython tests may hold the module's classes and
    functions, and memory does not matter, so nothing is dropped.
    """
    if sys.implementation.name != "micropython":
        return
    import gc

    for name in names:
        sys.modules.pop(name, None)
        package, _, short = name.rpartition(".")
        holder = sys.modules.get(package) if package else None
        if holder is not None and hasattr(holder, short):
            delattr(holder, short)  # the package keeps its submodules alive otherwise
    gc.collect()


def os_error_name(error):
    """An OSError's errno by name ("ECONNREFUSED"), or its text, else its repr: "OSError(111,)"
    said nothing to a user. A port may build errno without its table: then the repr."""
    code = error.args[0] if error.args else None
    if isinstance(error, OSError) and type(code) is str:
        if code in ("[addrinfo error -2]", "[addrinfo error -5]"):
            # The unix port's getaddrinfo, EAI_NONAME and EAI_NODATA: as the ESP32 says it.
            return "no such host (DNS)"
        return code  # a board's own sentence ("/dev/ttyUSB0 does not exist: ...")
    if isinstance(error, OSError) and type(code) is int:
        import errno

        name = getattr(errno, "errorcode", {}).get(code)
        if name is None and code == 32:  # not in MicroPython's table (32 on Linux and lwIP)
            name = "EPIPE"  # a write after the peer closed: a broker that dropped us
        if code < 0:  # the ESP32's getaddrinfo: lwIP's EAI_ codes negated, OSError(-202)
            return "no such host (DNS)"
        if name is not None:
            return name
    return repr(error)
