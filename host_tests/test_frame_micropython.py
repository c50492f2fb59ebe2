"""The same framing on the MicroPython unix port: identical payloads and
error counts to CPython for every framed capture, cut into chunks of 1, 7,
64 bytes and whole, and with a corrupted copy in between (checksum path).
MicroPython runs the .mpy build, as the device does (compiling from source
needs scratch heap the device never spends): 96 kB for the steady-heap and
DSMR checks, 128 kB for the every-capture run, which holds all the captures."""

import json

from decoder import stream
from decoder.errors import DecodeError, ErrorLog
from frame_support import LLC, hdlc_frame, mbus_frame, notification, run
from mp import run_micropython
from test_frame_corpus import CORPUS, FRAMED, capture

SIZES = (1, 7, 64, 100000)

# Reads each case from stdin as a line "id length" and that many raw bytes, into one
# buffer made up front, and prints per (id, chunk size) a line "= id size", a line
# "kind hex" per payload as it comes out (its hex written 128 bytes at a time) and a line
# of the error counts as JSON. Nothing big is allocated per case: the run used to read
# each case as a line of hex, and later to print each case as one JSON line, and a 5.7 kB
# line stopped finding room in 128 kB twice with unrelated changes in the decoder's layout.
SCRIPT = """
import sys, json, gc
from decoder import stream
from decoder.errors import ErrorLog
space = bytearray(%d)
while True:
    line = sys.stdin.buffer.readline()
    if not line:
        break
    ident, n = line.split()
    ident = ident.decode()
    data = memoryview(space)[:int(n)]
    sys.stdin.buffer.readinto(data)
    line = None
    gc.collect()
    for size in %r:
        log = ErrorLog()
        fr = stream.Framer(log)
        print("= %%s %%d" %% (ident, size))
        for i in range(0, len(data), size):
            fr.feed(data[i:i + size])
            item = fr.next()
            while item is not None:
                sys.stdout.write("%%d " %% item[0])
                for j in range(0, len(item[1]), 128):
                    sys.stdout.write(bytes(item[1][j:j + 128]).hex())
                sys.stdout.write("\\n")
                item = fr.next()
        counts = {}
        for k in log.counts:
            if log.counts[k]:
                counts[k] = log.counts[k]
        print(json.dumps(counts))
"""


def parse_output(text):
    """[ident, size, [[kind, hex], ...], counts] per case, from SCRIPT's lines."""
    cases = []
    for line in text.splitlines():
        if line.startswith("= "):
            ident, size = line[2:].split()
            cases.append([ident, int(size), [], None])
        elif line.startswith("{"):
            cases[-1][3] = json.loads(line)
        else:
            kind, payload = line.split(" ", 1)
            cases[-1][2].append([int(kind), payload])
    return cases


def cases():
    out = []
    for ident in sorted(CORPUS):
        if CORPUS[ident]["transport"] in FRAMED:
            data = capture(CORPUS[ident])
            bad = bytearray(data)
            bad[len(bad) // 2] ^= 0x55
            out.append([ident, data.hex()])
            out.append([ident + "+corrupt", (data + bytes(bad) + data).hex()])
    # M-Bus acknowledgements (E5) between frames, one before a corrupt frame.
    bad = bytearray(mbus_frame(notification(2), 0x10))
    bad[10] ^= 0x55
    acks = mbus_frame(notification(1), 0x10) + b"\xe5" + bytes(bad) + b"\xe5" + mbus_frame(notification(3), 0x10)
    out.append(["mbus-e5-acks", acks.hex()])
    # An M-Bus frame cut short, and false starts (DSMR, M-Bus) inside a corrupt HDLC frame.
    cut = mbus_frame(notification(1), 0x10) + mbus_frame(notification(0) + bytes(200), 0x10)[:100]
    out.append(["mbus-cut-short", (cut + b"".join(mbus_frame(notification(n), 0x10) for n in (2, 3))).hex()])
    for start in (b"/KFM5KAIFA", b"\x68\xff\xff\x68"):
        bad = bytearray(hdlc_frame(LLC + notification(1) + start + bytes(20), dest=b"\x41", src=b"\x23"))
        bad[-3] ^= 0xFF
        good = b"".join(hdlc_frame(LLC + notification(n), dest=b"\x41", src=b"\x23") for n in (2, 3))
        out.append(["hdlc-false-start-%02x" % start[0], (bytes(bad) + good).hex()])
    # Two frames in a row that fail only their FCS or checksum, after stray bytes.
    for name, make, at in (("hdlc", lambda n: hdlc_frame(LLC + notification(n)), 12),
                           ("mbus", lambda n: mbus_frame(notification(n), 0x10), 10)):
        bad = [bytearray(make(n)) for n in (1, 2)]
        for b in bad:
            b[at] ^= 0x55
        data = make(0) + b"\x00\x00" + bytes(bad[0]) + bytes(bad[1]) + make(3)
        out.append(["%s-two-bad-frames" % name, data.hex()])
    # Copies cut short whose claimed length lands on a flag or 16 further on (HDLC, M-Bus).
    for ident, cut in (("at-e450-burgenland-2", 60), ("at-kaifa-netznoe-doc", 77)):
        data = capture(CORPUS[ident])
        out.append(["%s-cut-%d" % (ident, cut), (data + data[:cut] + data + data).hex()])
    # A DSMR ")" flipped to "!" on a line whose telegrams carry a CRC.
    text = capture(CORPUS["dsmr-sagemcom-t210dr-at"])
    bad = bytearray(text)
    bad[text.index(b")", len(text) // 2)] = 0x21
    out.append(["dsmr-bang-flip", (text + bytes(bad) + text).hex()])
    # A ciphered bare push (Luxembourg Smarty) cut in its title, its body and its tag.
    smarty = capture(CORPUS["lu-smarty-dsmr-encrypted"])
    for cut in (5, 300, 705, 708, 710):  # 708, 710: the next title still arriving (2, 1 byte in)
        out.append(["smarty-cut-%d" % cut, (smarty + smarty[:cut] + smarty + smarty).hex()])
    # An HDLC frame whose FCS holds 7E (either byte), and an M-Bus master's SND_NKE before
    # and between HDLC frames (test_frame_hdlc.py).
    from test_frame_hdlc import _frame_with_7e_at

    for where in (-3, -2):
        out.append(["hdlc-7e-in-fcs%d" % where, (_frame_with_7e_at(where)[1] + hdlc_frame(LLC + notification(7))).hex()])
    snd_nke, frames = b"\x10\x40\x01\x41\x16", [hdlc_frame(LLC + notification(n)) for n in range(3)]
    out.append(["hdlc-snd-nke", (snd_nke + frames[0] + snd_nke + frames[1] + snd_nke * 2 + frames[2]).hex()])
    # Noise that opens like a long copy under a title new to the line, between Smarty copies.
    from test_frame_bare import NOISE_LIKE_A_LONG_COPY

    out.append(["smarty-noise-like-a-long-copy", (smarty * 3 + NOISE_LIKE_A_LONG_COPY + smarty * 7).hex()])
    # A frame cut short whose length lands on a flag further on.
    tail = b"".join(hdlc_frame(LLC + notification(n)) for n in range(2, 30))
    long_frame = hdlc_frame(LLC + notification(0) + bytes(300))
    cut = next(c for c in range(12, 300) if (long_frame[:c] + tail)[len(long_frame) - 1] == 0x7E)
    out.append(["hdlc-cut-onto-a-flag", (long_frame[:cut] + tail).hex()])
    return out


def cpython(ident, hexdata, size):
    data = bytes.fromhex(hexdata)
    log = ErrorLog()
    out = run(stream.Framer(log), [data[i : i + size] for i in range(0, len(data), size)])
    counts = {k: v for k, v in log.counts.items() if v}
    return [ident, size, [[k, p.hex()] for k, p in out], counts]


def test_micropython_frames_every_capture_like_cpython():
    todo = cases()
    longest = max(len(h) // 2 for _, h in todo)
    stdin = b"".join(b"%s %d\n" % (i.encode(), len(h) // 2) + bytes.fromhex(h) for i, h in todo)
    result = run_micropython(["-c", SCRIPT % (longest, SIZES)], heapsize="128k", compiled=True, input_bytes=stdin)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    lines = parse_output(result.stdout.decode())
    want = [cpython(ident, hexdata, size) for ident, hexdata in todo for size in SIZES]
    assert len(lines) == len(want)
    for got, expect in zip(lines, want):
        assert got == expect, "%s in chunks of %d" % (expect[0], expect[1])


STEADY = """
import gc
from decoder import stream
from decoder.errors import ErrorLog
data = bytes.fromhex(%r)
fr = stream.Framer(ErrorLog())
def run(n):
    got = 0
    for i in range(n):
        fr.feed(data)
        while fr.next() is not None:
            got += 1
    return got
run(50)
gc.collect()
before = gc.mem_alloc()
got = run(3000)
gc.collect()
print(got, gc.mem_alloc() - before)
"""


def test_framer_heap_does_not_grow_over_thousands_of_frames():
    data = capture(CORPUS["ch-am550-ekz-2020"])  # five segments per push
    result = run_micropython(["-c", STEADY % data.hex()], heapsize="96k", compiled=True)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    got, growth = map(int, result.stdout.split())
    assert got == 3000
    assert growth <= 64


DSMR_SCRIPT = """
import sys, json
from decoder import dsmr
while True:
    line = sys.stdin.readline()
    if not line:
        break
    readings, when = dsmr.parse(bytes.fromhex(line.strip()))
    print(json.dumps([sorted([k, v[0], v[1]] for k, v in readings.items()), when]))
"""


def test_micropython_parses_dsmr_telegrams_like_cpython():
    from decoder import dsmr

    from test_frame_dsmr import _hungarian_telegram

    texts = [capture(CORPUS[i]) for i in sorted(CORPUS) if CORPUS[i]["transport"] == "dsmr-ascii"]
    texts.append(_hungarian_telegram())  # 1 kB of 0xFF fill in its message: read as ""
    result = run_micropython(["-c", DSMR_SCRIPT], heapsize="96k", compiled=True, input_bytes="".join(t.hex() + "\n" for t in texts).encode())
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    lines = result.stdout.decode().splitlines()
    assert len(lines) == len(texts)
    for text, line in zip(texts, lines):
        readings, when = dsmr.parse(text)
        want = json.loads(json.dumps([sorted([k, v[0], v[1]] for k, v in readings.items()), when]))
        assert json.loads(line) == want


EDGE_SCRIPT = """
import sys, json
from decoder import dsmr
from decoder.errors import DecodeError
while True:
    line = sys.stdin.readline()
    if not line:
        break
    try:
        readings, when = dsmr.parse(bytes.fromhex(line.strip()))
        print(json.dumps([sorted([k, v[0], v[1]] for k, v in readings.items()), when]))
    except DecodeError as e:
        print(json.dumps(["refused", e.kind, e.args[0]]))
"""


def _edge_texts():
    # The damaged and unusual telegrams and readouts of test_frame_dsmr.py.
    from test_frame_dsmr import _DSMR22, _with_crc

    texts = [_DSMR22, _DSMR22.replace("00001.001*kWh", "00012#.345*kWh", 1),
             _DSMR22.replace("00001.001*kWh", "0001 2.345*kWh", 1),
             _DSMR22.replace("0001.01*kW", "--.---*kW", 1), _DSMR22.replace("1-0:1.8.2(", "1-0:1.8*2(", 1),
             _with_crc(_DSMR22.replace("00001.001*kWh", "00012#.345*kWh", 1).replace("!\r\n", "!")),
             "/ISK5\r\n\r\n1-0:21.7.0( 12.5 *kW)\r\n1-0:1.7.0(  *kW)\r\n!\r\n",
             "/LGZ4ZMR120AC.K76\r\nF.F(0000000A)\r\nFF(00002000)\r\nC.1(03965555)\r\nC.1.0(030863358)\r\n"
             "0-0:97.97.0(00000020)\r\n!\r\n",
             "/LUGCUH50\r\nF(0)9.20(66153690)9.4(098.5*C&096.1*C)\r\n6.8*01(0314.658*GJ)0.0(06153690)\r\n!\r\n"]
    return [t.encode("latin-1") for t in texts]


def test_micropython_reads_damaged_values_and_readout_quirks_like_cpython():
    from decoder import dsmr

    texts = _edge_texts()
    result = run_micropython(["-c", EDGE_SCRIPT], heapsize="96k", compiled=True,
                             input_bytes="".join(t.hex() + "\n" for t in texts).encode())
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    lines = result.stdout.decode().splitlines()
    assert len(lines) == len(texts)
    for text, line in zip(texts, lines):
        try:
            readings, when = dsmr.parse(text)
            want = [sorted([k, v[0], v[1]] for k, v in readings.items()), when]
        except DecodeError as e:
            want = ["refused", e.kind, e.args[0]]
        assert json.loads(line) == json.loads(json.dumps(want)), text
    assert sum(json.loads(line)[0] == "refused" for line in lines) == 2


# A dongle mostly starts in the middle of a push, and one byte in 256 of a frame's bytes is
# 68, "/", 0F, DB or E0: the hunt through that first piece used to load mbus.py, dsmr.py or
# bare.py for good (an E450 held bare.py after 191 start points of 199, an AM550 P1 DSMR
# meter mbus.py after all, for the "h" of "kWh"). Only the line's own framing may stay.
LOADED_SCRIPT = """
import sys
from decoder import stream
from decoder.errors import ErrorLog
data = bytes.fromhex(sys.stdin.readline().strip())
kept = {}
for start in range(1, min(len(data), 120), 3):
    for name in ("decoder.bare", "decoder.mbus", "decoder.dsmr"):
        sys.modules.pop(name, None)
    stream._dsmr_frame = None
    fr = stream.Framer(ErrorLog())
    good = 0
    for piece in (data[start:], data):
        fr.feed(piece)
        while fr.next() is not None:
            good += 1
    for name in ("decoder.bare", "decoder.mbus", "decoder.dsmr"):
        if name in sys.modules:
            kept[name] = kept.get(name, 0) + 1
    assert good, start
print(" ".join(sorted(kept)))
"""

# capture -> what the framer may keep loaded: its own framing's module only.
OWN_MODULES = {
    "ch-e450-vse2026": "",  # HDLC with GBT blocks
    "ch-am550-ekz-2020": "",  # segmented HDLC
    "at-kaifa-netznoe-doc": "decoder.mbus",
    "dsmr-iskra-am550-v5": "decoder.dsmr",
    "dsmr-lg-e360-se": "decoder.dsmr",
}


def test_a_start_in_the_middle_of_a_frame_leaves_only_the_lines_own_framing_loaded():
    for ident, own in OWN_MODULES.items():
        result = run_micropython(["-c", LOADED_SCRIPT], heapsize="256k", compiled=True,
                                 input_bytes=(capture(CORPUS[ident]).hex() + "\n").encode())
        assert result.returncode == 0, (ident, result.stderr.decode()[-800:])
        assert result.stdout.decode().strip() == own, ident


NOISE_AFTER_A_FRAME = """
import sys, gc
from decoder import stream
from decoder.errors import ErrorLog
frame = bytes.fromhex(sys.stdin.readline().strip())
fr = stream.Framer(ErrorLog())
good = 0
for noise in (b"", b"\\xdc\\x40\\x11", b"\\x0f\\x00", b"\\xdb\\x08", b"\\xe0\\x40"):
    fr.feed(frame + noise + frame)
    while fr.next() is not None:
        good += 1
print(good, "decoder.bare" in sys.modules)
"""


def test_a_bare_start_byte_after_a_good_frame_does_not_keep_bare_loaded():
    # A soak of a noisy line: DC 40 11 right after a good HDLC frame loaded bare.py (a
    # bare APDU may follow a frame in sync), and the next good HDLC frame, the line's own
    # framing, left it loaded for good: ~5 kB live, and a fragmented heap at the floor.
    frame = capture(CORPUS["ch-am550-tasmota-3frames"])
    result = run_micropython(["-c", NOISE_AFTER_A_FRAME], heapsize="256k", compiled=True,
                             input_bytes=(frame.hex() + "\n").encode())
    assert result.returncode == 0, result.stderr.decode()[-800:]
    assert result.stdout.decode().split() == ["10", "False"]
