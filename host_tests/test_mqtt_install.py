"""tools/install_umqtt.py put the pinned umqtt.simple where the MicroPython tests find it."""

import hashlib
import os

import install_umqtt
from mp import run_micropython


def test_the_installed_module_is_the_pinned_file():
    assert os.path.exists(install_umqtt.TARGET), "run `make venv` (tools/install_umqtt.py)"
    with open(install_umqtt.TARGET, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == install_umqtt.SHA256


def test_installing_again_is_a_no_op():
    assert install_umqtt.main() == 0


def test_micropython_imports_it_from_the_venv_library():
    out = run_micropython(["-c", "from umqtt.simple import MQTTClient; print(MQTTClient.__name__)"])
    assert out.returncode == 0 and out.stdout.strip() == b"MQTTClient"
