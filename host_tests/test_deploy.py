"""`make mpy` and `make deploy`: what reaches the device, and in which order.

No ESP32 is attached here, so the deploy is checked two ways: the exact mpremote commands of
`make deploy DRY_RUN=1`, and the same commands carried out against a folder standing in for
the device's filesystem (host_tests/deploy_support.py), stopped after every single step to
prove that an interrupted deploy never leaves a main.py next to a half-copied library.
"""

import glob
import json
import os
import shlex
import subprocess
import sys

import pytest

import boardfile
import deploy
import mpybuild
from deploy_support import FakeDevice, copy_firmware_with_entry_points
from mp import MICROPYTHON, ROOT

# The arch field of an .mpy header (byte 2, bits 2-7), as mpy-cross writes it.
ARCH_OF_MARCH = {"xtensawin": 10, "rv32imc": 11}


def firmware_modules():
    """Every .py under firmware/, found independently of tools/mpybuild.discover."""
    paths = glob.glob(os.path.join(ROOT, "firmware", "**", "*.py"), recursive=True)
    return sorted(os.path.relpath(p, os.path.join(ROOT, "firmware")).replace(os.sep, "/")
                  for p in paths if "__pycache__" not in p)


def run_cli(*args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "tools", "deploy.py")] + list(args),
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def commands(stdout):
    """The command lines of a dry run (the lines that are not '# step' comments or reports)."""
    return [shlex.split(line) for line in stdout.splitlines()
            if line.startswith((".venv/", "/")) and "mpremote" in line.split()[0]]


def copies(cmds):
    """[(local, device)] in the order the dry run copies them."""
    found = []
    for argv in cmds:
        for i, word in enumerate(argv):
            if word == "cp":
                found.append((argv[i + 1], argv[i + 2][1:]))
    return found


@pytest.mark.parametrize("name", boardfile.known_boards())
def test_mpy_build_succeeds_for_every_board_and_covers_every_module(name, tmp_path):
    modules = firmware_modules()
    board = boardfile.load(name)
    built = mpybuild.build(board, out_root=str(tmp_path))
    devices = set(dest for _rel, dest, _s, _d in built)
    for rel in modules:
        want = rel if rel in ("main.py", "boot.py") else rel[:-3] + ".mpy"
        assert want in devices
        assert os.path.getsize(os.path.join(str(tmp_path), name, want)) > 0


@pytest.mark.parametrize("name", boardfile.known_boards())
def test_viper_modules_carry_the_board_architecture(name, tmp_path):
    fw = tmp_path / "fw"
    fw.mkdir()
    (fw / "kernel.py").write_text(
        "import micropython\n@micropython.viper\ndef add(a: int, b: int) -> int:\n"
        "    return a + b\n")
    (fw / "plain.py").write_text("X = 1\n")
    board = boardfile.load(name)
    mpybuild.build(board, firmware=str(fw), out_root=str(tmp_path / "out"))
    kernel = (tmp_path / "out" / name / "kernel.mpy").read_bytes()
    plain = (tmp_path / "out" / name / "plain.mpy").read_bytes()
    assert kernel[:2] == b"M\x06" and kernel[2] >> 2 == ARCH_OF_MARCH[board["march"]]
    assert plain[2] >> 2 == 0  # bytecode only: loads on any chip


def test_main_and_boot_stay_source_and_other_files_are_copied_as_they_are(tmp_path):
    fw = copy_firmware_with_entry_points(tmp_path / "fw")
    os.makedirs(os.path.join(fw, "web", "static"), exist_ok=True)
    with open(os.path.join(fw, "web", "static", "index.html"), "w") as f:
        f.write("<html></html>")
    built = mpybuild.build(boardfile.load("esp32-devkit"), firmware=fw, out_root=str(tmp_path))
    dests = dict((rel, dest) for rel, dest, _s, _d in built)
    assert dests["main.py"] == "main.py" and dests["boot.py"] == "boot.py"
    assert dests["web/static/index.html"] == "web/static/index.html"
    assert dests["decoder/errors.py"] == "decoder/errors.mpy"


def test_the_compiled_modules_import_under_micropython(tmp_path):
    """Built for the host's arch (x64), the .mpy files load in the unix port: the viper
    kernels included, so the build itself produces working bytecode and machine code."""
    board = {"name": "host", "march": "x64"}
    mpybuild.build(board, out_root=str(tmp_path))
    names = [m[:-3].replace("/", ".").replace(".__init__", "") for m in firmware_modules()
             if m.startswith("decoder/")]
    code = "import sys\nsys.path[:0] = [%r]\n" % str(tmp_path / "host")
    code += "".join("import %s\n" % n for n in names)
    code += "import decoder.errors\nprint(decoder.errors.__file__)\n"
    done = subprocess.run([MICROPYTHON, "-c", code], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, MICROPYPATH=".frozen"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("decoder/errors.mpy")


def test_the_firmware_is_built_without_line_numbers_but_keeps_its_asserts(tmp_path):
    """The gateway's code is ~7 % smaller without line-number tables (what a device running
    .mpy files keeps in its heap); a traceback still names the module and the function.
    The build drops nothing else: an assert still raises (-O3 would have removed it)."""
    fw = tmp_path / "fw" / "app"
    fw.mkdir(parents=True)
    (fw / "__init__.py").write_text("")
    (fw / "where.py").write_text("def check(x):\n    assert x, 'checked'\n\n\ndef fail(x):\n    y = x\n    return y[3]\n")
    mpybuild.build({"name": "host", "march": "x64"}, firmware=str(tmp_path / "fw"), out_root=str(tmp_path / "out"))
    code = ("import sys\nsys.path[:0] = [%r]\n" % str(tmp_path / "out" / "host")
            + "import app.where\n"
            + "try:\n    app.where.check(0)\n"
            + "except AssertionError as e:\n    print('assert kept:', e)\n"
            + "app.where.fail([])\n")
    done = subprocess.run([MICROPYTHON, "-c", code], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, MICROPYPATH=".frozen"))
    out = done.stdout.splitlines()  # the unix port prints tracebacks on stdout
    assert out[0] == "assert kept: checked"
    # The module by its dotted name, which importing it interns anyway (a path was one more
    # interned name per module), and line 1 for line 7 of the source.
    assert '  File "app.where", line 1, in fail' in out
    assert out[-1].startswith("IndexError")


def test_make_mpy_prints_a_size_report_with_every_module_and_a_total(tmp_path):
    done = run_cli("mpy", "--board", "esp32c3-supermini", "--build-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "-march=rv32imc" in done.stdout
    for rel in firmware_modules():
        if rel not in ("main.py", "boot.py"):
            assert rel[:-3] + ".mpy" in done.stdout
    assert "total (%d files)" % len(firmware_modules()) in done.stdout


def test_dry_run_covers_every_module_the_board_file_and_the_config(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"wifi": {"ssid": "home", "password": "secret123"}}))
    done = run_cli("deploy", "--board", "esp32s3-devkitc", "--dry-run", "--config", str(config),
                   "--build-dir", str(tmp_path / "build"))
    assert done.returncode == 0, done.stderr
    copied = dict((dest, local) for local, dest in copies(commands(done.stdout)))
    for rel in firmware_modules():
        # main.py is copied under a temporary name and renamed (see the order test below)
        want = {"main.py": "main.py.new", "boot.py": "boot.py"}.get(rel, rel[:-3] + ".mpy")
        assert want in copied
    assert copied["board.json"] == "boards/esp32s3-devkitc.json"
    assert copied["config.json"] == str(config)
    assert "dry run" in done.stdout


def dry_run_steps(tmp_path, board="esp32-devkit"):
    fw = copy_firmware_with_entry_points(tmp_path / "fw")
    built = mpybuild.build(boardfile.load(board), firmware=fw, out_root=str(tmp_path / "build"))
    config = tmp_path / "config.json"
    config.write_text("{}")
    steps, clean = deploy.deploy_steps(boardfile.load(board), built, "/dev/ttyUSB0",
                                       str(config), str(tmp_path / "build"))
    with open(clean, "w") as f:
        f.write(deploy.cleanup_script(built))
    return built, [argv for _what, argv in steps]


def test_old_main_py_goes_first_then_a_reset_then_new_main_py_is_the_last_file(tmp_path):
    _built, cmds = dry_run_steps(tmp_path)
    assert "main.py" in cmds[0][-1] and "remove" in cmds[0][-1]
    assert cmds[1][3:] == ["reset"]
    order = [dest for _local, dest in copies(cmds)]
    assert order[-1] == "main.py.new"
    assert cmds[-2][3:] == ["exec", 'import os; os.rename("main.py.new", "main.py")']
    assert cmds[-1][3:] == ["reset"]
    assert order.index("board.json") < order.index("main.py.new")
    assert order.index("config.json") < order.index("main.py.new")


def old_device(tmp_path):
    """A device holding an older deploy: main.py, stale source that would shadow new .mpy,
    a module since removed, and the user's own data."""
    dev = FakeDevice(tmp_path / "device")
    dev.put("main.py", b"import old_app\n")
    dev.put("decoder/hdlc.py", b"OLD = True\n")
    dev.put("decoder/gone.mpy", b"M\x06")
    dev.put("config.py", b"OLD = True\n")
    dev.put("config.json", b'{"wifi": {"ssid": "kept"}}')
    dev.put("notes.txt", b"user data\n")
    return dev


def test_a_full_deploy_leaves_exactly_the_new_firmware_and_keeps_user_data(tmp_path):
    built, cmds = dry_run_steps(tmp_path)
    dev = old_device(tmp_path)
    for argv in cmds:
        dev.apply(argv)
    files = dev.files()
    for _rel, dest, _s, _d in built:
        assert dest in files
    assert "decoder/hdlc.py" not in files and "decoder/gone.mpy" not in files
    assert "config.py" not in files and "main.py.new" not in files
    assert "notes.txt" in files
    with open(str(tmp_path / "build" / "esp32-devkit" / "main.py"), "rb") as f:
        assert dev.read("main.py") == f.read()
    assert dev.read("board.json") == open(os.path.join(ROOT, "boards", "esp32-devkit.json"),
                                          "rb").read()
    assert dev.read("config.json") == b"{}"


def test_an_interrupted_deploy_never_leaves_main_py_with_an_incomplete_library(tmp_path):
    """Stopped after any step, the device either has no main.py (it boots to the REPL, and
    running the deploy again finishes the job) or has the whole new firmware."""
    built, cmds = dry_run_steps(tmp_path)
    wanted = set(dest for _rel, dest, _s, _d in built) | {"board.json", "config.json"}
    for stop in range(len(cmds) + 1):
        dev = old_device(tmp_path / ("run%d" % stop))
        for argv in cmds[:stop]:
            dev.apply(argv)
        files = dev.files()
        if stop == 0:
            continue  # the old deploy, untouched
        if "main.py" in files:
            assert wanted <= files, "stopped after step %d" % stop
            assert "decoder/hdlc.py" not in files


def test_unknown_board_names_the_known_ones():
    done = run_cli("deploy", "--board", "esp32-wroom", "--dry-run")
    assert done.returncode == 2
    assert "unknown board 'esp32-wroom'" in done.stderr
    for name in ("esp32-devkit", "esp32c3-supermini", "esp32s3-devkitc"):
        assert name in done.stderr


def test_a_config_the_firmware_would_refuse_is_refused_before_touching_the_device(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"mqtt": {"port": "not a port"}}))
    done = run_cli("deploy", "--board", "esp32-devkit", "--dry-run", "--config", str(bad))
    assert done.returncode == 2 and "mqtt.port" in done.stderr
    assert "mpremote" not in done.stdout
    done = run_cli("deploy", "--board", "esp32-devkit", "--dry-run", "--config",
                   str(tmp_path / "missing.json"))
    assert done.returncode == 2 and "does not exist" in done.stderr
    # Valid on unix (make run's kind), refused by the device's board at every start.
    unix = tmp_path / "unix.json"
    unix.write_text(json.dumps({"meter": {"source": "tcp://127.0.0.1:7000"}}))
    done = run_cli("deploy", "--board", "esp32-devkit", "--dry-run", "--config", str(unix))
    assert done.returncode == 2 and "meter.source" in done.stderr and '"uart"' in done.stderr


def dry_run_with_config(tmp_path, text):
    """``make deploy DRY_RUN=1`` with a config file holding ``text``."""
    path = tmp_path / "config.json"
    path.write_text(text, encoding="utf-8")
    return run_cli("deploy", "--board", "esp32-devkit", "--dry-run", "--config", str(path))


def test_a_config_is_checked_by_the_esp32s_rules_not_this_hosts(tmp_path):
    # The device has no IPv6: the check ran by the host's and passed a broker at fd00::10.
    done = dry_run_with_config(tmp_path, json.dumps({"mqtt": {"host": "fd00::10"}}))
    assert done.returncode == 2 and "mqtt.host: the ESP32 has no IPv6" in done.stderr
    # An unknown meter profile, which the device's boot does not check (the gateway does).
    done = dry_run_with_config(tmp_path, json.dumps({"meter": {"profile": "kamstrup_wh"}}))
    assert done.returncode == 2 and "meter.profile: unknown meter profile 'kamstrup_wh'" in done.stderr


def test_a_character_past_u_ffff_escaped_as_a_pair_is_refused_with_the_way_to_write_it(tmp_path):
    # CPython's json.dump writes one as two escapes, which MicroPython's json reads as two
    # lone surrogates: a user name the broker refuses, a WiFi password that never matches.
    # (The device's portal writes the character itself.)
    done = dry_run_with_config(tmp_path, json.dumps({"mqtt": {"user": "meter\U0001F600"}}))
    assert done.returncode == 2 and "json.dump(..., ensure_ascii=False)" in done.stderr
    # The character itself, and a backslash before "ud83d" text.
    done = dry_run_with_config(tmp_path, json.dumps({"mqtt": {"user": "meter\U0001F600"},
                                                     "wifi": {"ssid": "x\\ud83d\\ude00"}}, ensure_ascii=False))
    assert done.returncode == 0, done.stderr


def test_a_config_is_checked_as_the_device_reads_it_and_one_without_wifi_is_said(tmp_path):
    # The check parsed the JSON itself: a file past the device's size bound passed, and
    # one with no network (which opens the portal at boot) passed without a word.
    done = dry_run_with_config(tmp_path, json.dumps({"meter": {"source": "uart"}}) + " " * 17000)
    assert done.returncode == 2 and "more than a configuration holds" in done.stderr
    done = dry_run_with_config(tmp_path, json.dumps({"meter": {"source": "uart"}}))
    assert done.returncode == 0 and "names no WiFi network (wifi.ssid)" in done.stdout


def test_a_failed_esptool_step_says_how_to_recover_not_that_the_device_boots(monkeypatch):
    # After a failed erase or write nothing may boot: "the device boots to a REPL" was false.
    class Failed:
        returncode = 1

    monkeypatch.setattr(deploy.subprocess, "run", lambda *a, **k: Failed())
    esptool = [sys.executable, "-m", "esptool", "--chip", "esp32", "erase-flash"]
    with pytest.raises(deploy.DeployError, match="may hold no firmware now. Hold BOOT, tap RESET"):
        deploy.run_steps([("erase", esptool)], dry_run=False)
    with pytest.raises(deploy.DeployError, match="the device boots to a REPL"):
        deploy.run_steps([("copy", ["mpremote", "cp"])], dry_run=False)


def test_a_serial_port_that_does_not_exist_is_named():
    done = run_cli("deploy", "--board", "esp32-devkit", "--port", "/dev/ttyUSB97")
    assert done.returncode == 2
    assert "/dev/ttyUSB97 does not exist" in done.stderr


def test_every_make_target_is_listed_in_the_readme_development_section():
    with open(os.path.join(ROOT, "Makefile")) as f:
        phony = next(line for line in f if line.startswith(".PHONY:")).split()[1:]
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    section = text.split("<!-- section: development -->")[1].split("<!-- /section: development")[0]
    for target in phony:
        if target != "venv":  # created on first use of any target, said above the table
            assert "`make %s" % target in section, target


def test_the_probe_is_micropython_code_and_its_answer_is_understood():
    done = subprocess.run([MICROPYTHON, "-c", deploy.PROBE], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    deploy.check_probe(done.stdout, boardfile.load("esp32-devkit"))  # unix: no chip to compare


@pytest.mark.parametrize("answer,board,message", [
    ("meterlink-probe (1, 22) Generic ESP32 module with ESP32", "esp32-devkit", "1.22"),
    ("meterlink-probe (1, 28) ESP32C3 module with ESP32C3", "esp32-devkit", "is an esp32c3"),
    ("meterlink-probe (1, 28) Generic ESP32 module with ESP32", "esp32s3-devkitc", "is an esp32,"),
    ("ets Jun  8 2016 00:22:57\nrst:0x1 (POWERON_RESET)", "esp32-devkit", "flash it first"),
])
def test_a_board_too_old_of_another_chip_or_not_micropython_is_refused(answer, board, message):
    with pytest.raises(deploy.DeployError, match=message):
        deploy.check_probe(answer, boardfile.load(board))


def test_the_right_board_passes_the_probe():
    deploy.check_probe("meterlink-probe (1, 28) ESP32C3 module with ESP32C3\n",
                       boardfile.load("esp32c3-supermini"))
    deploy.check_probe("meterlink-probe (1, 24) Generic ESP32S3 module with ESP32S3",
                       boardfile.load("esp32s3-devkitc"))


def test_a_module_that_does_not_compile_stops_the_build_and_is_named(tmp_path):
    fw = tmp_path / "fw"
    (fw / "app").mkdir(parents=True)
    (fw / "app" / "broken.py").write_text("def f(:\n")
    with pytest.raises(mpybuild.BuildError, match="failed on app/broken.py"):
        mpybuild.build(boardfile.load("esp32-devkit"), firmware=str(fw), out_root=str(tmp_path))


def test_a_port_that_never_answers_the_probe_is_given_up_with_a_reason(tmp_path, monkeypatch):
    # mpremote waits for good on a port with no board behind it (a pty that answers
    # nothing): make deploy hung until killed.
    silent = tmp_path / "mpremote"
    silent.write_text("#!/bin/sh\nexec sleep 30\n")
    silent.chmod(0o755)
    monkeypatch.setattr(deploy, "tool", lambda name: str(silent))
    monkeypatch.setattr(deploy, "PROBE_TIMEOUT_S", 1)
    with pytest.raises(deploy.DeployError, match=r"no answer from /dev/ttyUSB0 within 1 s: is it the board's port"):
        deploy.probe("/dev/ttyUSB0", boardfile.load("esp32-devkit"), dry_run=False)


def test_a_config_that_is_not_json_says_where_the_mistake_is(tmp_path):
    # "x.json is not valid JSON" and nothing more: a hand-edited file of 20 lines with one
    # missing comma or quote had to be searched by eye. CPython's parser knows the place.
    text = '{\n  "meter": {"source": "uart",\n            "key": "00"}\n  "mqtt": {"host": "10.0.0.2"}\n}\n'
    done = dry_run_with_config(tmp_path, text)
    assert done.returncode == 2 and "is not valid JSON" in done.stderr
    assert "line 4 column 3" in done.stderr, done.stderr
    # A trailing comma, which MicroPython's json takes and CPython's does not: named as such.
    done = dry_run_with_config(tmp_path, '{"meter": {"source": "uart",}}')
    assert done.returncode == 2 and "line 1 column 29: a comma before the closing '}'" in done.stderr, done.stderr
    # A tab typed into a password (MicroPython's json takes it): CPython's words end "... at",
    # the place they name cut off; said without the dangling "at" (a tools review).
    done = dry_run_with_config(tmp_path, '{"wifi": {"password": "pass\tword"}}')
    assert done.returncode == 2 and done.stderr.rstrip().endswith("line 1 column 28: Invalid control character"), \
        done.stderr
