"""Put meterlink on a real ESP32: precompile, copy, open the console, flash, record the meter.

    deploy.py mpy     --board B                       firmware/ -> build/B/ (.mpy), size report
    deploy.py deploy  --board B --port P [--dry-run] [--config F]
    deploy.py console --port P
    deploy.py flash   --port P --firmware F [--board B] [--dry-run]
    deploy.py capture --port P [--out F] [--baud N] [--bits 8|7] [--parity N|E|O] [--seconds S]

The device layout mirrors firmware/: ``decoder/hdlc.py`` becomes ``:decoder/hdlc.mpy``;
``main.py`` (and ``boot.py``) stay source, because MicroPython only runs those two as ``.py``.
The board file goes to ``:board.json`` (docs/design.md), the optional config to ``:config.json``.

Deploy order, chosen so that an interrupted deploy leaves a device that still boots to a REPL
that mpremote can reach, never into a half-updated application:

    0. ask the board            its MicroPython version and chip: refuse one too old for the
                                .mpy files, or another chip than the board file's, unchanged
    1. remove :main.py          the old app no longer starts, so nothing can run the new
                                libraries with the old main.py (or the reverse)
    2. hard reset               stops the old app and any machine.WDT it started (a WDT cannot
                                be stopped, and would reset the board in the middle of step 4)
    3. run a cleanup script     removes the previous deploy's packages and modules (a stale
                                ``x.py`` would shadow the new ``x.mpy``: MicroPython tries .py
                                first), keeps data (config.json, logs), makes the directories
    4. copy the libraries, :board.json, :config.json, :boot.py
    5. copy main.py as :main.py.new, then rename it to :main.py (a rename is atomic on
       LittleFS, so main.py is never a half-written file)
    6. hard reset               starts the new firmware
"""

import argparse
import os
import re
import shlex
import subprocess
import sys
import time

import boardfile
import serialports
from flashing import FlashError, check_image, flash_steps

from mpybuild import BUILD, FIRMWARE, ROOT, SOURCE_ONLY, BuildError, build, size_report, tool

# The oldest MicroPython that loads what `make mpy` builds: .mpy v6.3 came with 1.23, native
# and viper code for the C3 (rv32imc) with 1.24.
MIN_MICROPYTHON = (1, 24)
PROBE = 'import sys; print("meterlink-probe", sys.implementation.version[:2], sys.implementation._machine)'
DEVICE_BOARD = "board.json"
DEVICE_CONFIG = "config.json"
# After a hard reset the board needs about a second to reach the REPL, and a native-USB board
# (C3, S3) re-enumerates its serial port: two seconds covers both with margin.
RESET_SETTLE_S = 2.0
# Seconds the probe may take: a board answers in 2-3 s; a port with no board behind it (or
# one mpremote cannot interrupt) made `make deploy` wait for good.
PROBE_TIMEOUT_S = 30


class DeployError(Exception):
    """A step that cannot go on: missing tool, compile error, bad firmware image, device error."""


def cleanup_script(built):
    """MicroPython source that removes the last deploy's code and makes the new directories."""
    tops = set()
    dirs = set()
    for rel, dest, _src, _dev in built:
        parts = dest.split("/")
        if len(parts) == 1 and dest.endswith((".py", ".mpy")):
            stem = dest.rsplit(".", 1)[0]
            tops.update((stem + ".py", stem + ".mpy"))
        else:
            tops.add(parts[0])
        for i in range(1, len(parts)):
            dirs.add("/".join(parts[:i]))
    tops.add("main.py.new")
    return "\n".join([
        "# Written by tools/deploy.py: removes the previous deploy's code, keeps data files.",
        "import os",
        "def _rm(path):",
        "    try:",
        "        mode = os.stat(path)[0]",
        "    except OSError:",
        "        return",
        "    if mode & 0x4000:",
        "        for name in os.listdir(path):",
        "            _rm(path + '/' + name)",
        "        os.rmdir(path)",
        "    else:",
        "        os.remove(path)",
        "    print('removed', path)",
        "for _p in %r:" % (sorted(tops),),
        "    _rm(_p)",
        "for _d in %r:" % (sorted(dirs, key=lambda d: (d.count("/"), d)),),
        "    os.mkdir(_d)",
        "",
    ])


def repo_path(path):
    """``path`` relative to the repository (the commands run there): short, copy-pasteable."""
    path = os.path.abspath(path)
    if path.startswith(ROOT + os.sep):
        return os.path.relpath(path, ROOT).replace(os.sep, "/")
    return path


def deploy_steps(board, built, port, config=None, out_root=BUILD):
    """[(what, argv)]: the mpremote commands of a deploy, in the order explained above."""
    mpremote = repo_path(tool("mpremote"))
    out = repo_path(os.path.join(out_root, board["name"]))
    clean = os.path.join(out_root, board["name"] + "-cleanup.py")

    def mp(*args):
        return [mpremote, "connect", port] + list(args)

    steps = [
        ("remove main.py so the old app no longer starts",
         mp("exec", 'import os; "main.py" in os.listdir() and os.remove("main.py")')),
        ("hard reset: stop the old app and its watchdog", mp("reset")),
        ("remove the previous deploy's code, make the directories", mp("run", repo_path(clean))),
    ]
    groups = {}
    for rel, dest, _src, _dev in built:
        if dest not in SOURCE_ONLY:
            groups.setdefault(dest.split("/")[0] if "/" in dest else "", []).append(dest)
    for top in sorted(groups):
        args = []
        for dest in groups[top]:
            args += (["+"] if args else []) + ["fs", "cp", out + "/" + dest, ":" + dest]
        steps.append(("copy %s (%d file%s)" % (top + "/" if top else "top-level modules",
                      len(groups[top]), "" if len(groups[top]) == 1 else "s"), mp(*args)))
    steps.append(("copy the board file as /board.json",
                  mp("fs", "cp", repo_path(boardfile.board_path(board["name"])), ":" + DEVICE_BOARD)))
    if config:
        steps.append(("copy the config as /config.json", mp("fs", "cp", config, ":" + DEVICE_CONFIG)))
    names = [dest for _rel, dest, _s, _d in built]
    if "boot.py" in names:
        steps.append(("copy boot.py", mp("fs", "cp", out + "/boot.py", ":boot.py")))
    if "main.py" in names:
        steps.append(("copy main.py last, under a temporary name",
                      mp("fs", "cp", out + "/main.py", ":main.py.new")))
        steps.append(("rename it to main.py in one step",
                      mp("exec", 'import os; os.rename("main.py.new", "main.py")')))
    steps.append(("hard reset: start the new firmware", mp("reset")))
    return steps, clean


def check_config(path):
    """Refuse a config the firmware would refuse, before the device is touched."""
    if not os.path.isfile(path):
        raise DeployError("config file %s does not exist" % path)
    if FIRMWARE not in sys.path:
        sys.path.insert(0, FIRMWARE)
    import config as fwconfig
    from portal import mode

    platform, sys.platform = sys.platform, "esp32"  # the device's rules (no IPv6), not this host's
    try:
        cfg = fwconfig.load(path)  # as the device reads it: its size bound, UTF-8, JSON, values
    except fwconfig.ConfigError as e:
        raise DeployError("config %s: %s%s" % (path, e, json_where(path) if e.key == "(file)" else ""))
    finally:
        sys.platform = platform
    pair = escaped_pair(path)
    if pair:
        raise DeployError(pair)
    if cfg["meter"]["source"] != "uart":
        # A `make run` configuration (tcp://, a file): valid on unix, refused by the device's
        # board at every start, so the dongle would read nothing.
        raise DeployError("config %s: meter.source is %r; on the device it must be \"uart\""
                          % (path, cfg["meter"]["source"]))
    if not mode.config_ready(cfg):
        print("note: config %s names no WiFi network (wifi.ssid): the dongle opens its setup "
              "portal at boot, with these settings filled in" % path)


def json_where(path):
    """": line L column C: what CPython's parser found" for a config file that is no valid
    JSON, else "". config.py says only "is not valid JSON" (MicroPython's json tells no place,
    and the device carries no names for one); a hand-edited file was searched by eye for
    its missing comma. A trailing comma, which MicroPython's json takes, is named here too."""
    import json

    try:
        with open(path, encoding="utf-8-sig") as f:
            json.loads(f.read())
    except json.JSONDecodeError as e:
        what = e.msg[:-3] if e.msg.endswith(" at") else e.msg  # "Invalid control character at"
        if e.doc[e.pos:e.pos + 1] in ("}", "]") and e.doc[:e.pos].rstrip().endswith(","):
            what = "a comma before the closing %r (JSON allows none there)" % e.doc[e.pos]
        return ": line %d column %d: %s" % (e.lineno, e.colno, what)
    except (OSError, UnicodeError, ValueError, RecursionError):
        pass  # said by config.py in its own words
    return ""


def escaped_pair(path):
    """What is wrong with a config file (valid by config.py on CPython) that writes a
    character past U+FFFF as two \\u escapes, json.dump's default; None if it does not.
    MicroPython's json reads such a pair as two lone surrogates, which a broker refuses in
    a user name and which no WiFi password matches."""
    with open(path, encoding="utf-8") as f:
        if re.search(r"(?<!\\)(\\\\)*\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F]", f.read()):
            return ("config %s: a character past U+FFFF is written as two \\u escapes, which the "
                    "device and the unix port read otherwise: save it as the character itself "
                    "(Python: json.dump(..., ensure_ascii=False))" % path)
    return None


def check_probe(output, board):
    """Refuse a board that is not MicroPython, is too old for the .mpy files, or is another chip.

    ``output`` is what PROBE printed, e.g. ``meterlink-probe (1, 28) Generic ESP32 module with
    ESP32`` (MicroPython's board name, then "with" and the chip).
    """
    line = [ln for ln in output.splitlines() if ln.startswith("meterlink-probe")]
    match = re.match(r"meterlink-probe \((\d+), (\d+)\) (.*)$", line[0].strip()) if line else None
    if match is None:
        raise DeployError("the board did not answer as MicroPython; flash it first (make flash)")
    version = (int(match.group(1)), int(match.group(2)))
    if version < MIN_MICROPYTHON:
        raise DeployError("the board runs MicroPython %d.%d; the .mpy files need %d.%d or later "
                          "(make flash)" % (version + MIN_MICROPYTHON))
    chip = match.group(3).rsplit(" with ", 1)[-1].strip().lower()
    if chip in boardfile.CHIPS and chip != board["chip"]:
        raise DeployError("the board on this port is an %s, but board file %s is for an %s" % (
            chip, board["name"], board["chip"]))


def probe(port, board, dry_run):
    """Ask the board what it runs before anything on it is changed."""
    argv = [repo_path(tool("mpremote")), "connect", port, "exec", PROBE]
    print("# check: MicroPython %d.%d or later on an %s" % (MIN_MICROPYTHON + (board["chip"],)))
    print(shlex.join(argv))
    if dry_run:
        return
    try:
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise DeployError("no answer from %s within %d s: is it the board's port, with MicroPython on it "
                          "(make flash)? If the board is busy, press its RESET button and run the same "
                          "command again" % (port, PROBE_TIMEOUT_S))
    print(done.stdout.strip())
    if done.returncode != 0:
        raise DeployError("cannot reach the board on %s: %s" % (port, done.stderr.strip()))
    check_probe(done.stdout, board)


def run_steps(steps, dry_run):
    """Print each step and its exact command; run them unless dry_run, stopping at a failure."""
    for n, (what, argv) in enumerate(steps, 1):
        print("# %d/%d %s" % (n, len(steps), what))
        print(shlex.join(argv))
        if dry_run:
            continue
        if subprocess.run(argv, cwd=ROOT).returncode != 0:
            if "esptool" in argv[:3]:  # erasing or writing: nothing may boot now
                raise DeployError("step %d (%s) failed: the chip may hold no firmware now. Hold BOOT, "
                                  "tap RESET (EN), release BOOT and run the same command again"
                                  % (n, what))
            raise DeployError("step %d (%s) failed; the device boots to a REPL, fix the cause "
                              "and run the same command again" % (n, what))
        if argv[-1] == "reset":
            time.sleep(RESET_SETTLE_S)


def cmd_mpy(args):
    board = boardfile.load(args.board)
    built = build(board, out_root=args.build_dir)
    print("mpy-cross -march=%s: firmware/ -> build/%s/" % (board["march"], board["name"]))
    print(size_report(board, built))
    return 0


def cmd_deploy(args):
    args.config = os.path.expanduser(args.config)
    board = boardfile.load(args.board)
    if args.config:
        check_config(args.config)
    if args.dry_run:
        port = args.port or "auto"  # mpremote's own pick of the first USB serial port
    else:
        port = serialports.resolve(args.port)
    built = build(board, out_root=args.build_dir)
    print(size_report(board, built))
    if "main.py" not in [dest for _r, dest, _s, _d in built]:
        print("warning: firmware/main.py does not exist: the device will boot to the REPL only")
    config = os.path.abspath(args.config) if args.config else None
    steps, clean = deploy_steps(board, built, port, config and repo_path(config), args.build_dir)
    with open(clean, "w") as f:
        f.write(cleanup_script(built))
    print("deploying %d files to board %s on %s%s" % (
        len(built), board["name"], port, " (dry run: nothing is sent)" if args.dry_run else ""))
    probe(port, board, args.dry_run)
    run_steps(steps, args.dry_run)
    return 0


def cmd_console(args):
    port = serialports.resolve(args.port)
    argv = [tool("mpremote"), "connect", port, "repl"]
    print("opening the MicroPython console on %s (Ctrl-] or Ctrl-X leaves)" % port)
    print(shlex.join(argv))
    return subprocess.run(argv).returncode


def cmd_flash(args):
    # make quotes the value, so a "~/" the shell did not expand reaches us as it was typed.
    args.firmware = os.path.expanduser(args.firmware)
    board = boardfile.load(args.board)
    check_image(args.firmware, board)  # before looking for a port: the likelier mistake
    port = (args.port or "PORT") if args.dry_run else serialports.resolve(args.port)
    print("flashing MicroPython onto %s (%s); hold BOOT while plugging in if esptool cannot "
          "connect" % (board["name"], board["chip"]))
    run_steps(flash_steps(board, port, args.firmware), args.dry_run)
    return 0


def cmd_capture(args):
    port = serialports.resolve(args.port, wanted=serialports.METER_ADAPTER)
    out = os.path.expanduser(args.out) if args.out else time.strftime("capture-%Y%m%d-%H%M%S.bin")
    print("recording %s at %d baud %d%s1 into %s for %g s (Ctrl-C stops early); decode it with "
          "`.venv/bin/python tools/decode.py %s` (with --key and --auth-key for a meter that "
          "encrypts)" % (port, args.baud, args.bits, args.parity, out, args.seconds, out))
    serialports.capture(port, out, args.baud, args.parity, args.seconds, bits=args.bits)
    return 0


def _positive(kind):
    # An argparse type: a number above 0 (0 s wrote an empty capture and said nothing; a
    # baud rate of 0 hangs a real tty up).
    def read(text):
        value = kind(text)
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError("must be a number above 0, not %s" % text)
        return value

    read.__name__ = kind.__name__
    return read


def parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("mpy", help="precompile firmware/ for a board, print the size report")
    s.add_argument("--board", required=True)
    s.add_argument("--build-dir", default=BUILD, help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_mpy)
    s = sub.add_parser("deploy", help="copy the firmware, board file and config with mpremote")
    s.add_argument("--board", required=True)
    s.add_argument("--port", default="")
    s.add_argument("--config", default="")
    s.add_argument("--dry-run", action="store_true", help="print the mpremote commands only")
    s.add_argument("--build-dir", default=BUILD, help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_deploy)
    s = sub.add_parser("console", help="the MicroPython REPL over USB")
    s.add_argument("--port", default="")
    s.set_defaults(func=cmd_console)
    s = sub.add_parser("flash", help="erase and write a MicroPython release with esptool")
    s.add_argument("--port", default="")
    s.add_argument("--firmware", default="")
    s.add_argument("--board", default="esp32-devkit")
    s.add_argument("--dry-run", action="store_true", help="print the esptool commands only")
    s.set_defaults(func=cmd_flash)
    s = sub.add_parser("capture", help="record raw meter bytes for tools/decode.py")
    s.add_argument("--port", default="")
    s.add_argument("--out", default="")
    s.add_argument("--baud", type=_positive(int), default=9600, help="9600 (SiL, config default), "
                   "2400 (M-Bus), 115200 (DSMR P1)")
    s.add_argument("--parity", choices=("N", "E", "O"), default="N")
    s.add_argument("--bits", type=int, choices=(8, 7), default=8,
                   help="data bits: 7 with --parity E for DSMR 2.2/3 meters (7E1)")
    s.add_argument("--seconds", type=_positive(float), default=120.0,
                   help="how long (default 120 s: two pushes of a once-a-minute list)")
    s.set_defaults(func=cmd_capture)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (boardfile.BoardError, serialports.PortError, BuildError, DeployError,
            FlashError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
