"""The snapshot writer keeps one buffer and a dozen unit pieces, nothing per OBIS code.

The state JSON goes out every few seconds for as long as the gateway runs, so what the
writer keeps and what each render allocates are specified here: OBIS codes, numbers and
JSON keys are copied into the buffer byte by byte (no encoded copy per reading, no cache
of the codes), and text past ASCII is encoded, so the bytes are still
``decoder.telegram_json``'s.
"""

import json

from app.snapshot import SnapshotWriter
from app.store import Store
from decoder import Telegram, telegram_json
from mp import run_micropython
from resident_support import from_rom, heap_script

# A store of n readings, every one a code the writer has not seen before.
STORE = """
from app.store import Store
from app.snapshot import SnapshotWriter
from decoder import Telegram

def store(n, first=0, value=None):
    s = Store()
    s.update(Telegram("2026-11-26T03:00:00+01:00", "4c475a6700000001", 7,
                      dict(("1-0:%d.8.%d" % (first + i, i % 5), (value, "Wh")) for i in range(n)), None))
    return s
"""


def text_store():
    store = Store()
    store.update(Telegram(None, "4c475a", 1, {
        "0-0:96.13.0": ("Z\u00e4hler gr\u00fc\u00dft", None),  # a meter's message, not ASCII
        "0-1:24.2.1": (12.5, "m\u00b3"),  # a DSMR gas register
        "1-0:1.8.0": (14358023, "Wh"),
    }, None))
    return store


def test_text_past_ascii_comes_out_as_telegram_json_writes_it():
    store = text_store()
    assert bytes(SnapshotWriter().render(store)).decode() == telegram_json(store)


def test_text_past_ascii_is_the_same_json_on_micropython(tmp_path):
    script = tmp_path / "text.py"
    script.write_text(STORE + """
import json
from decoder import telegram_json
s = Store()
s.update(Telegram(None, "4c475a", 1, {"0-0:96.13.0": ("Z\\u00e4hler gr\\u00fc\\u00dft", None),
                                     "0-1:24.2.1": (12.5, "m\\u00b3"), "1-0:1.8.0": (14358023, "Wh")}, None))
print(json.dumps([json.loads(bytes(SnapshotWriter().render(s))), json.loads(telegram_json(s))]))
""")
    out = run_micropython([str(script)], heapsize="256k", compiled=True)
    assert out.returncode == 0, out.stderr.decode()
    written, expected = json.loads(out.stdout)
    assert written == expected == json.loads(telegram_json(text_store()))


def test_a_render_allocates_nothing_per_reading_of_its_own(tmp_path):
    # Readings whose value is null: the value costs nothing either, so what a render
    # allocates is the writer's own, and 80 readings must cost what 10 cost.
    script = tmp_path / "alloc.py"
    script.write_text(STORE + """
import gc, micropython
def cost(s, w):
    w.render(s)
    gc.collect()
    before = micropython.mem_total()
    for _ in range(10):
        w.render(s)
    return (micropython.mem_total() - before) // 10
w = SnapshotWriter()
print(cost(store(10), w), cost(store(80), w))
""")
    out = run_micropython([str(script)], heapsize="256k", compiled=True)
    assert out.returncode == 0, out.stderr.decode()
    few, many = [int(x) for x in out.stdout.split()]
    assert many - few < 64, (few, many)


def test_new_codes_leave_nothing_behind_in_the_writer():
    # The buffer has grown to its limit on 80 codes; 80 codes never seen before then
    # add nothing the writer keeps (a per-code cache held ~2 kB for 40 codes).
    setup = STORE + "w = SnapshotWriter()\nw.render(store(80))"
    grown = from_rom(heap_script(setup, "w.render(store(80, first=100, value=1))\ns = store(80, first=100)"))
    alone = from_rom(heap_script(setup, "s = store(80, first=100)"))
    assert grown - alone < 64, (grown, alone)
