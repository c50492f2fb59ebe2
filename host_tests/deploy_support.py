"""A stand-in device for deploy tests: runs the mpremote commands of a deploy against a folder.

Only what tools/deploy.py emits is understood: ``connect PORT`` followed by commands chained
with ``+``: ``exec CODE`` and ``run FILE`` run under the MicroPython unix port with the folder
as the current directory (so the cleanup code really is MicroPython code), ``fs cp SRC :DST``
copies a file in, ``reset`` does nothing (no program runs on a folder). Anything else fails the
test, so a new kind of command cannot slip past the tests unchecked.
"""

import os
import shutil
import subprocess

from mp import MICROPYTHON, ROOT


class FakeDevice:
    """A device filesystem rooted at ``root``."""

    def __init__(self, root):
        self.root = str(root)
        os.makedirs(self.root, exist_ok=True)

    def put(self, path, data=b""):
        """Place a file on the device, as an earlier deploy or the user would have."""
        full = os.path.join(self.root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)

    def files(self):
        """Every file on the device, '/'-separated paths relative to its root."""
        found = set()
        for top, _dirs, names in os.walk(self.root):
            for name in names:
                found.add(os.path.relpath(os.path.join(top, name), self.root).replace(os.sep, "/"))
        return found

    def read(self, path):
        with open(os.path.join(self.root, path), "rb") as f:
            return f.read()

    def apply(self, argv):
        """Carry out one mpremote command line."""
        if os.path.basename(argv[0]) != "mpremote" or argv[1] != "connect":
            raise AssertionError("not an mpremote connect command: %r" % (argv,))
        command = []
        for word in argv[3:] + ["+"]:
            if word == "+":
                self._one(command)
                command = []
            else:
                command.append(word)

    def _one(self, command):
        if command == ["reset"]:
            return
        if command[0] == "exec" and len(command) == 2:
            self._micropython(["-c", command[1]])
        elif command[0] == "run" and len(command) == 2:
            self._micropython([os.path.join(ROOT, command[1])])
        elif command[:2] == ["fs", "cp"] and len(command) == 4 and command[3].startswith(":"):
            src = os.path.join(ROOT, command[2])
            dest = os.path.join(self.root, command[3][1:])
            if not os.path.isdir(os.path.dirname(dest)):
                raise AssertionError("fs cp into a directory that does not exist: %s" % command[3])
            shutil.copyfile(src, dest)
        else:
            raise AssertionError("command the fake device does not know: %r" % (command,))

    def _micropython(self, args):
        done = subprocess.run([MICROPYTHON] + args, cwd=self.root, capture_output=True,
                              timeout=60)
        if done.returncode != 0:
            raise AssertionError("device code failed: %s" % done.stderr.decode())


def copy_firmware_with_entry_points(dest):
    """firmware/ copied to ``dest``, with a main.py and boot.py added if it has none yet.

    The deploy order is about main.py: the tests need one even before the gateway has it.
    """
    shutil.copytree(os.path.join(ROOT, "firmware"), str(dest),
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name, text in (("main.py", "import app\n"), ("boot.py", "# boot\n")):
        path = os.path.join(str(dest), name)
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write(text)
    return str(dest)
