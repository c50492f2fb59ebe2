"""`make run` (tools/run_local.py): simulator + broker + gateway, and the HTTP address printed."""

import json
import os
import subprocess
import sys

from gateway_support import free_port
from mp import ROOT
from test_gateway_e2e import pytestmark  # noqa: F401  (needs mosquitto)


def test_run_local_starts_everything_and_prints_the_http_address(tmp_path):
    cfg = json.load(open(os.path.join(ROOT, "tools", "run-config.json")))
    sim_port, mqtt_port, http_port = free_port(), free_port(), free_port()
    cfg["meter"]["source"] = "tcp://127.0.0.1:%d" % sim_port
    cfg["mqtt"]["port"] = mqtt_port
    cfg["http"]["port"] = http_port
    path = tmp_path / "run.json"
    path.write_text(json.dumps(cfg))
    out = subprocess.run([sys.executable, "tools/run_local.py", "--config", str(path), "--seconds", "8"],
                         cwd=ROOT, capture_output=True, timeout=60)
    text = out.stdout.decode()
    assert out.returncode == 0, text + out.stderr.decode()
    assert "meter simulator on tcp://127.0.0.1:%d" % sim_port in text
    assert "mosquitto on 127.0.0.1:%d" % mqtt_port in text
    assert "run: HTTP API at http://127.0.0.1:%d/" % http_port in text
    assert "mqtt: connected" in text


def test_the_shipped_run_config_is_valid():
    import config

    cfg = config.validate(json.load(open(os.path.join(ROOT, "tools", "run-config.json"))), "x")
    assert cfg["meter"]["source"].startswith("tcp://127.0.0.1:")
