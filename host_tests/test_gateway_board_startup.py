"""board/esp32.py at start-up: the meter UART taken before the heap grows, and wifi.txpower.

The meter UART's receive buffer comes from the ESP-IDF heap (``uart_driver_install``), into
which the esp32 port grows the Python heap as modules load (``MICROPY_GC_SPLIT_HEAP_AUTO``):
so the app has the board open it right after the configuration is read, and the reader's
``open_meter`` takes it over. ESP32-C3 SuperMini boards only join WiFi with the transmit
power capped (``WLAN.config(txpower=dBm)``). Same fakes as test_gateway_board.py, under the
MicroPython unix port; ``UART.init`` and ``WLAN.config`` are added by each script.
"""

import json

from mp import run_micropython
from test_gateway_board import DEVKIT, board_script

PREPARED_THEN_OPENED = """
BOARD = %r
import json, asyncio, machine
from board.esp32 import Board
def init(self, **kw):
    machine.LOG.append(["UART.init", kw])
machine.UART.init = init
b = Board(BOARD)
b.prepare({"wifi": {"ssid": ""}, "meter": {"baud": 115200, "format": "8N1"}})
print(json.dumps(machine.LOG))
del machine.LOG[:]
asyncio.run(b.open_meter("uart", 115200, "8N1"))
print(json.dumps(machine.LOG))
asyncio.run(b.open_meter("uart", 2400, "8E1"))
asyncio.run(b.open_meter("uart", 2400, "8E1"))
print(json.dumps(machine.LOG))
"""


def test_the_prepared_uart_is_the_one_the_reader_opens(tmp_path):
    lines = board_script(tmp_path, DEVKIT, PREPARED_THEN_OPENED)
    prepared, opened, changed = [json.loads(line) for line in lines]
    # At start-up: the configured rate with its buffer, and the P1 data request raised.
    assert [c for c in prepared if c[0] == "UART"] == [
        ["UART", 2, {"baudrate": 115200, "bits": 8, "parity": None, "stop": 1, "tx": 17, "rx": 16,
                     "rxbuf": 16384, "timeout": 0, "invert": 4}]]
    assert ["Pin.value", 4, 1] in prepared
    # The reader's open with the same settings makes no second UART and sets nothing.
    assert opened == []
    # Other settings re-set that UART once, pins kept, inversion and timeout given again.
    assert changed == [["UART.init", {"baudrate": 2400, "bits": 8, "parity": 0, "stop": 1, "rxbuf": 1920,
                                      "timeout": 0, "invert": 4}]]


UART_2_ON_A_C3 = """
BOARD = %r
import asyncio, machine
machine.UART_IDS = (0, 1)
from board.esp32 import Board
b = Board(BOARD)
b.prepare({"wifi": {"ssid": ""}, "meter": {"baud": 9600, "format": "8N1"}})
print("prepared")
try:
    asyncio.run(b.open_meter("uart", 9600))
except OSError as e:
    print("OSError", "/board.json" in str(e), "UART(2) does not exist" in str(e))
"""


def test_a_uart_the_chip_lacks_does_not_stop_start_up_and_the_reader_names_the_board_file(tmp_path):
    assert board_script(tmp_path, DEVKIT, UART_2_ON_A_C3) == ["prepared", "OSError True True"]


REQUEST_LINE_WITHOUT_PIN = """
BOARD = %r
import asyncio
from board.esp32 import Board
b = Board(BOARD)
b.prepare({"wifi": {"ssid": ""}, "meter": {"baud": 115200, "format": "8N1"}})
print("prepared")
for _ in range(2):  # the reader retries: it must be told again, not handed a half-set port
    try:
        asyncio.run(b.open_meter("uart", 115200))
        print("opened")
    except OSError as e:
        print("OSError", "/board.json" in str(e), "p1_request" in str(e))
"""


def test_a_p1_request_line_the_board_file_gets_wrong_is_the_readers_error_not_the_boots(tmp_path):
    # A KeyError (or the port's ValueError for a pin the chip lacks) out of prepare() ended
    # the gateway before its HTTP server and watchdog started.
    spec = dict(DEVKIT, p1_request={"active_high": True})
    assert board_script(tmp_path, spec, REQUEST_LINE_WITHOUT_PIN) == [
        "prepared", "OSError True True", "OSError True True"]


WIFI_FIRST = """
BOARD = %r
import json, machine, network
from board.esp32 import Board
b = Board(BOARD)
b.prepare({"wifi": {"ssid": "home"}, "meter": {"baud": 9600, "format": "8N1"}})
print(json.dumps([e[:2] for e in network.LOG if e[0] in ("hostname", "active")]))
print(json.dumps([c[0] for c in machine.LOG if c[0] == "UART"]))
"""


def test_with_a_network_configured_the_radio_starts_at_start_up_too(tmp_path):
    # The WiFi driver's buffers come from the same IDF heap as the UART's.
    radio, uart = [json.loads(line) for line in board_script(tmp_path, DEVKIT, WIFI_FIRST)]
    assert radio == [["hostname", "meterlink-0102ff"], ["active", True]]
    assert uart == ["UART"]


APP_START = """
import sys
from app import app
from board.unix import Board
class Started(Exception):
    pass
class Dongle(Board):
    def prepare(self, cfg):
        print(cfg["meter"]["baud"], cfg["meter"]["format"],
              [m for m in ("decoder.apdu", "decoder.gcm", "web.server") if m in sys.modules])
        raise Started
try:
    app._run_once(Dongle(%r), %r)
except Started:
    pass
"""


def test_the_app_prepares_the_board_with_its_settings_before_the_big_modules_load(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"meter": {"baud": 115200, "format": "8E1"}}))
    out = run_micropython(["-c", APP_START % (str(tmp_path), str(path))])
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().splitlines() == ["115200 8E1 []"]


WIFI_CAPPED = """
import asyncio, json, network
import board.esp32 as esp32
esp32.NTP_HOST, esp32.NTP_PORT = "127.0.0.1", TIME_SERVER_PORT
esp32.BACKOFF_FIRST = 0
esp32.WIFI_CONNECT_S = 1
def config(self, **kw):
    network.LOG.append(["config", kw])
network.WLAN.config = config
network.REFUSALS.append(1)
b = esp32.Board(%r)
async def main(txpower):
    del network.LOG[:]
    wifi = {"ssid": "home", "password": "secret123", "txpower": txpower}
    task = asyncio.create_task(b.start_network({"wifi": wifi}))
    await asyncio.sleep(1.5)
    task.cancel()
    print(json.dumps([e[:2] for e in network.LOG if e[0] in ("active", "config", "connect")]))
asyncio.run(main(8.5))
b.wlan.up = False
asyncio.run(main(None))
"""


def test_wifi_txpower_caps_the_radio_before_every_attempt_and_null_leaves_it(tmp_path):
    capped, default = [json.loads(line) for line in board_script(tmp_path, DEVKIT, WIFI_CAPPED)]
    # The first attempt is refused (the fake's REFUSALS), the second joins: the cap is set
    # after the radio starts and before each association.
    assert capped == [["active", True], ["config", {"txpower": 8.5}], ["connect", "home"],
                      ["config", {"txpower": 8.5}], ["connect", "home"]]
    assert default == [["active", True], ["connect", "home"]]


def test_a_board_file_cap_holds_when_the_configuration_leaves_txpower_null(tmp_path):
    # The C3 SuperMini's board file carries 8.5 dBm; a configured value wins over it.
    spec = dict(DEVKIT, wifi_txpower=8.5)
    script = WIFI_CAPPED.replace("asyncio.run(main(8.5))", "asyncio.run(main(15))")
    configured, board_default = [json.loads(line) for line in board_script(tmp_path, spec, script)]
    assert configured[1] == ["config", {"txpower": 15}]
    assert board_default == [["active", True], ["config", {"txpower": 8.5}], ["connect", "home"]]
