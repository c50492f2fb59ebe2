#!/usr/bin/env python3
"""``make bench``: the decoder's speed and heap, on the same frames, in one run.

The budget frame is the SiL 5-second push ("consumer information 1" of
spec/sil-push-lists.md: push-setup body, 24 objects), encrypted and
authenticated (0x30), in HDLC frames carrying General Block Transfer blocks
as the E450 sends it. Measured:

- our decoder on the MicroPython unix port and on CPython: µs per telegram,
  and per layer (framing, APDU+GCM, readings) to show which one costs what;
- dlms-cosem and gurux-dlms on CPython, decoding the same bytes;
- heap bytes allocated per telegram on MicroPython (micropython.mem_total()),
  and the live heap before and after 10,000 telegrams (no growth allowed).

Budgets (issue 2): < 1 ms per telegram on the MicroPython unix port,
< 4 kB allocated per telegram, no growth. Prints a table and PASS/FAIL; exit
status 1 when a budget fails. Then runs tools/bench_gateway.py if present.
"""

import contextlib
import io
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (os.path.join(ROOT, "firmware"), os.path.join(HERE, "shims"), os.path.join(ROOT, "host_tests"), HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import decoder_support as ds  # noqa: E402

MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
BUDGET_US = 1000.0  # per telegram, MicroPython unix port
BUDGET_BYTES = 4096  # allocated per telegram, MicroPython
SOAK = 10000  # telegrams in the no-growth check
# Live-heap slack after the soak: a few small objects may move between GC
# generations; real growth over 10,000 telegrams would be far larger.
GROWTH_SLACK = 256
DISTINCT = 20  # different pushes (values, counters) cycled through
ROUNDS_MP = 2000
ROUNDS_CPY = 2000
ROUNDS_OTHERS = 300


def budget_frames(gbt=True):
    # One-byte client address (0x41): dlms-cosem reads the destination as a
    # single byte and rejects the E450's two-byte CE FF; ours takes either.
    return [ds.sil_push(seed=s, frame_counter=1000 + s, gbt=gbt, dest=b"\x41")[0] for s in range(DISTINCT)]


def job(frames, rounds, soak):
    return {
        "frames": [f.hex() for f in frames],
        "key": ds.SIL_KEY.hex(),
        "auth_key": ds.SIL_AUTH_KEY.hex(),
        "meter": "e450",
        "rounds": rounds,
        "soak": soak,
    }


def run_micropython(frames):
    env = dict(os.environ, MICROPYPATH=":".join([".frozen", os.path.join(ROOT, "firmware")]))
    r = subprocess.run(
        [MICROPYTHON, "-X", "heapsize=512k", os.path.join(HERE, "bench_mp.py")],
        input=json.dumps(job(frames, ROUNDS_MP, SOAK)).encode(),
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    if r.returncode != 0:
        raise SystemExit("micropython bench failed:\n" + r.stderr.decode() + r.stdout.decode())
    return json.loads(r.stdout)


def run_cpython(frames):
    import bench_mp

    old_stdin, old_stdout = sys.stdin, sys.stdout
    sys.stdin, sys.stdout = io.StringIO(json.dumps(job(frames, ROUNDS_CPY, 0))), io.StringIO()
    try:
        bench_mp.main()
        return json.loads(sys.stdout.getvalue())
    finally:
        sys.stdin, sys.stdout = old_stdin, old_stdout


# --- the other decoders, each doing the whole job: frames -> values ------------------


def hdlc_frames(data):
    """Split a byte string of HDLC frames by their length fields (both libraries need it)."""
    out, pos = [], 0
    while pos < len(data):
        size = ((data[pos + 1] & 0x07) << 8 | data[pos + 2]) + 2
        out.append(data[pos : pos + size])
        pos += size
    return out


def dlms_cosem_decoder():
    from dlms_cosem import dlms_data
    from dlms_cosem.hdlc.frames import UnnumberedInformationFrame
    from dlms_cosem.protocol.xdlms import DataNotification, GeneralGlobalCipher
    from dlms_cosem.security import decrypt

    def decode(data):
        # dlms-cosem has no General Block Transfer: the blocks are joined here.
        apdu = b""
        for raw in hdlc_frames(data):
            info = UnnumberedInformationFrame.from_bytes(raw).payload
            if info[:3] == ds.LLC:
                info = info[3:]
            if info[0] == 0xE0:
                n = info[6]
                info = info[7 if n < 0x80 else 7 + (n & 0x7F) :]
            apdu += info
        glo = GeneralGlobalCipher.from_bytes(apdu)
        plain = decrypt(glo.security_control, glo.system_title, glo.invocation_counter, ds.SIL_KEY,
                        glo.ciphered_text, ds.SIL_AUTH_KEY)
        note = DataNotification.from_bytes(plain)
        return dlms_data.DlmsDataParser().parse(note.body)

    return decode


def gurux_decoder():
    from gurux_dlms import GXByteBuffer, GXReplyData
    from gurux_dlms.enums import InterfaceType, Security
    from gurux_dlms.secure import GXDLMSSecureClient

    client = GXDLMSSecureClient(True, interfaceType=InterfaceType.HDLC)
    client.ciphering.security = Security.AUTHENTICATION_ENCRYPTION
    client.ciphering.blockCipherKey = ds.SIL_KEY
    client.ciphering.authenticationKey = ds.SIL_AUTH_KEY

    def decode(data):
        buf, reply, notify = GXByteBuffer(data), GXReplyData(), GXReplyData()
        while buf.position < buf.size:
            client.getData(buf, reply, notify)
        if not notify.isComplete():
            raise ValueError("gurux did not complete the push")
        return notify.value

    return decode


def time_other(make, frames):
    decode = make()
    with contextlib.redirect_stdout(io.StringIO()):  # gurux prints on every ciphered APDU
        for f in frames:
            decode(f)  # also proves it decodes these frames
        t0 = time.perf_counter()
        for i in range(ROUNDS_OTHERS):
            decode(frames[i % len(frames)])
        return (time.perf_counter() - t0) * 1e6 / ROUNDS_OTHERS


# --- report --------------------------------------------------------------------------


def fmt(v, spec="%.0f"):
    return "-" if v is None else spec % v


def report(title, frames, mp, cpy, others):
    print("\n%s: %d bytes per push, %d distinct pushes" % (title, len(frames[0]), len(frames)))
    print("  %-34s %12s %14s" % ("decoder", "µs/telegram", "bytes/telegram"))
    print("  %-34s %12s %14s" % ("meterlink, MicroPython unix port", fmt(mp["us_per_telegram"], "%.1f"), fmt(mp["bytes_per_telegram"])))
    for layer in ("framing", "apdu+gcm", "readings"):
        us, b = mp["layers"][layer]
        print("  %-34s %12s %14s" % ("  of which " + layer, fmt(us, "%.1f"), fmt(b)))
    print("  %-34s %12s %14s" % ("meterlink, CPython %d.%d" % sys.version_info[:2], fmt(cpy["us_per_telegram"], "%.1f"), "-"))
    for layer in ("framing", "apdu+gcm", "readings"):
        print("  %-34s %12s %14s" % ("  of which " + layer, fmt(cpy["layers"][layer][0], "%.1f"), "-"))
    for name, us in others:
        print("  %-34s %12s %14s" % (name + ", CPython", fmt(us, "%.1f"), "-"))


def verdicts(mp, frames_count):
    soak = mp["soak"]
    growth = soak["live_after"] - soak["live_before"]
    checks = [
        ("every push decoded (MicroPython)", mp["telegrams"] == ROUNDS_MP and mp["errors"] == 0,
         "%d/%d telegrams, %d errors" % (mp["telegrams"], ROUNDS_MP, mp["errors"])),
        ("< %d µs per telegram (MicroPython)" % BUDGET_US, mp["us_per_telegram"] < BUDGET_US, "%.1f µs" % mp["us_per_telegram"]),
        ("< %d bytes allocated per telegram" % BUDGET_BYTES, mp["bytes_per_telegram"] < BUDGET_BYTES, "%.0f bytes" % mp["bytes_per_telegram"]),
        ("no heap growth over %d telegrams" % SOAK, growth <= GROWTH_SLACK and soak["telegrams"] == SOAK + frames_count,
         "live heap %d -> %d bytes (%+d), %d telegrams" % (soak["live_before"], soak["live_after"], growth, soak["telegrams"])),
    ]
    ok = True
    for name, passed, detail in checks:
        print("  %-4s %-44s %s" % ("PASS" if passed else "FAIL", name, detail))
        ok = ok and passed
    return ok


def main():
    ok = True
    for title, gbt in (("SiL 5-second push, HDLC + GBT blocks (budget frame)", True), ("SiL 5-second push, one HDLC frame", False)):
        frames = budget_frames(gbt)
        mp = run_micropython(frames)
        cpy = run_cpython(frames)
        others = [("dlms-cosem", time_other(dlms_cosem_decoder, frames)), ("gurux-dlms", time_other(gurux_decoder, frames))]
        report(title, frames, mp, cpy, others)
        ok = verdicts(mp, len(frames)) and ok
    gateway = os.path.join(HERE, "bench_gateway.py")
    if os.path.exists(gateway):
        import bench_gateway

        print()
        # Its verdict counts: the exit status said 0 while the gateway part said FAIL (issue
        # 3's 96 kB soak, not met on the unix port: README, Known limits).
        ok = bench_gateway.main() == 0 and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
