"""gurux-dlms as the meter: pushes it encodes, our decoder reads, value for value.

Every other generated frame of the tests comes from decoder_support.py, written by this
project. Here gurux-dlms (PyPI, an independent DLMS/COSEM implementation) encodes the
pushes, as GXDLMSNotify does for a meter: HDLC split at its maxInfoTX (the segmentation
bit, I-frame sequence numbers, addresses of 1, 2 and 4 bytes), bare APDUs, general-glo-
and general-ded-ciphering (security 0x10, 0x20, 0x30 and suite 1's 0x31), general block
transfer, and the bodies with gurux's own A-XDR encoder: OBIS-tagged entries with and
without {scaler, unit}, and push-setup bodies led by the capture-object list, of every
value type a push carries. Each stream (two pushes of one meter) is read whole and in
reads of 1 and 7 bytes, and a sample on the MicroPython unix port.

gurux-dlms 1.0.203 does two things no meter does (checked against the Green Book and
the E450 captures), kept out of the streams:

- on the last block of a ciphered push in general block transfer it leaves the
  last-block bit clear (its lastBlock comes from the plaintext's length): set here;
- a body a few bytes over its maxPduSize goes out as two APDUs, each a part of one
  push: the bodies here stay clear of the sizes where that happens.

Its notifier numbers GBT blocks on from the last push, where the E450 opens each push
with block 1 (ch-e450-ekz-2021-gbt); the decoder takes either, and the streams keep
gurux's numbering (the second push's blocks go on from the first's).
"""

import contextlib
import datetime
import io

import pytest

from decoder_support import decode_all

gurux = pytest.importorskip("gurux_dlms")
from gurux_dlms import GXByteBuffer, GXDateTime, GXDLMSNotify  # noqa: E402
from gurux_dlms.ConnectionState import ConnectionState  # noqa: E402
from gurux_dlms.enums import Command, Conformance, DataType, InterfaceType, Security  # noqa: E402
from gurux_dlms.GXCiphering import GXCiphering  # noqa: E402
from gurux_dlms.GXDLMS import GXDLMS  # noqa: E402
from gurux_dlms.GXDLMSLNParameters import GXDLMSLNParameters  # noqa: E402
from gurux_dlms.internal._GXCommon import _GXCommon  # noqa: E402
from gurux_dlms.objects import GXDLMSCaptureObject, GXDLMSData, GXDLMSPushSetup, GXDLMSRegister  # noqa: E402
from gurux_dlms.objects.enums.SecuritySuite import SecuritySuite  # noqa: E402

KEY, AUTH, DEDICATED = bytes(range(16)), bytes(range(16, 32)), bytes(range(32, 48))
TITLE = b"GRX\x01\x02\x03\x04\x05"
WHEN = datetime.datetime(2026, 3, 4, 5, 6, 7)

# (gurux data type, value gurux encodes, value our readings hold)
VALUES = [
    (DataType.INT8, -5, -5),
    (DataType.INT16, -1234, -1234),
    (DataType.INT32, -123456789, -123456789),
    (DataType.INT64, -(2**40) - 7, -(2**40) - 7),
    (DataType.UINT8, 200, 200),
    (DataType.UINT16, 60000, 60000),
    (DataType.UINT32, 4000000000, 4000000000),
    (DataType.UINT64, 2**63 + 5, 2**63 + 5),
    (DataType.FLOAT32, 230.5, 230.5),
    (DataType.FLOAT64, 1234.0625, 1234.0625),
    (DataType.OCTET_STRING, b"AB\x01\xff", "414201ff"),
    (DataType.OCTET_STRING, b"LGZ1030123456789", "LGZ1030123456789"),
    (DataType.STRING, "HELLO", "HELLO"),
    (DataType.ENUM, 3, 3),
    (DataType.BOOLEAN, True, True),
    (DataType.BITSTRING, "1010011001", "1010011001"),  # as text: GXBitString rounds to bytes
    (DataType.NONE, None, None),
    (DataType.DATETIME, GXDateTime(datetime.datetime(2026, 3, 4, 5, 6, 8)), "2026-03-04T05:06:08+00:00"),
    (DataType.OCTET_STRING, GXDateTime(datetime.datetime(2026, 3, 4, 5, 6, 9)), "2026-03-04T05:06:09+00:00"),
]
INTEGERS = (DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64,
            DataType.UINT8, DataType.UINT16, DataType.UINT32, DataType.UINT64)


def code(i):
    return "0-0:96.50.%d" % (i + 1)  # no quantity of the profiles: values read as sent


def values_of(push):
    """The values of a meter's push number ``push``: its integers one less in size."""
    out = []
    for kind, value, want in VALUES:
        if push and kind in INTEGERS:
            step = -push if value > 0 else push
            value, want = value + step, want + step
        out.append((kind, value, want))
    return out


# --- bodies, in gurux's A-XDR ---------------------------------------------------------------


def tagged_body(settings, values):
    """An array of {OBIS, value, {-1, W}} ({OBIS, value} for what is no integer)."""
    body, expect = GXByteBuffer(), {}
    body.setUInt8(DataType.ARRAY)
    _GXCommon.setObjectCount(len(values), body)
    for i, (kind, value, want) in enumerate(values):
        scaled = kind in INTEGERS
        body.setUInt8(DataType.STRUCTURE)
        body.setUInt8(3 if scaled else 2)
        _GXCommon.setData(settings, body, DataType.OCTET_STRING, bytes([0, 0, 96, 50, i + 1, 255]))
        _GXCommon.setData(settings, body, kind, value)
        if scaled:
            body.setUInt8(DataType.STRUCTURE)
            body.setUInt8(2)
            _GXCommon.setData(settings, body, DataType.INT8, -1)
            _GXCommon.setData(settings, body, DataType.ENUM, 27)  # W
        expect[code(i)] = (want / 10, "W") if scaled else (want, None)
    return body, expect


def push_setup_body(notify, values):
    """Push-setup style: the capture-object list (the push object's attribute 2), its
    logical name, then per object its value, and a register's {-2, A} beside its value."""
    push = GXDLMSPushSetup("0.0.25.9.0.255")
    push.pushObjectList.append((push, GXDLMSCaptureObject(2, 0)))
    push.pushObjectList.append((push, GXDLMSCaptureObject(1, 0)))
    expect = {}
    for i, (kind, value, want) in enumerate(values):
        if kind in INTEGERS:
            obj = GXDLMSRegister("0.0.96.50.%d.255" % (i + 1))
            obj.scaler, obj.unit = 0.01, 33  # A
            expect[code(i)] = (want / 100, "A")
        else:
            obj = GXDLMSData("0.0.96.50.%d.255" % (i + 1))
            expect[code(i)] = (want, None)
        obj.value = value
        obj.setDataType(2, kind)
        push.pushObjectList.append((obj, GXDLMSCaptureObject(2, 0)))
        if kind in INTEGERS:
            push.pushObjectList.append((obj, GXDLMSCaptureObject(3, 0)))
    body = GXByteBuffer()
    body.setUInt8(DataType.STRUCTURE)
    _GXCommon.setObjectCount(len(push.pushObjectList), body)
    for obj, capture in push.pushObjectList:
        notify.addData(obj, capture.attributeIndex, body)
    return body, expect


# --- the meter --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def last_block_bit(monkeypatch):
    """Sets the last-block bit gurux leaves clear on a ciphered push's final GBT block."""
    plain = GXDLMS.getLNPdu.__func__

    def ln_pdu(cls, p, reply):
        plain(cls, p, reply)
        if p.data is not None and p.data.position == p.data.size:
            raw = reply._data
            at = 3 if raw[:3] == b"\xe6\xe7\x00" else 0  # after the LLC header in HDLC
            if len(reply) > at + 1 and raw[at] == Command.GENERAL_BLOCK_TRANSFER:
                raw[at + 1] |= 0x80

    monkeypatch.setattr(GXDLMS, "getLNPdu", classmethod(ln_pdu))


def meter(link, security, gbt):
    framing = InterfaceType.PDU if link == "bare" else InterfaceType.HDLC
    client, server, size = {"hdlc": (1, 1, 1), "hdlc-4": (0x10, 0x4011, 4), "bare": (1, 1, 1)}[link]
    notify = GXDLMSNotify(True, client, server, framing)
    settings = notify.settings
    settings.serverAddressSize = size
    settings.hdlc.maxInfoTX = 128 if link == "hdlc" else 40  # both split a push into frames
    if gbt:
        settings.negotiatedConformance |= Conformance.GENERAL_BLOCK_TRANSFER
        settings.maxPduSize = 64
    if security:
        settings.cipher = GXCiphering(TITLE)
        level, _, kind = security.partition("-")
        settings.cipher.security = {"enc": Security.ENCRYPTION, "auth": Security.AUTHENTICATION,
                                    "ae": Security.AUTHENTICATION_ENCRYPTION}[level]
        settings.cipher.blockCipherKey, settings.cipher.authenticationKey = KEY, AUTH
        settings.cipher.invocationCounter = 0x01020304
        if kind == "ded":  # general-ded-ciphering (DC): the dedicated key of an association
            settings.cipher.dedicatedKey = DEDICATED
            settings.connected = ConnectionState.DLMS
        elif kind == "suite1":  # security control 0x31
            settings.cipher.securitySuite = SecuritySuite.SUITE_1
    return notify


def pushes(link, security, gbt, style, count=2, stamped=True):
    """(bytes of ``count`` pushes of one meter, [readings each push should give])"""
    notify = meter(link, security, gbt)
    data, expects = b"", []
    for n in range(count):
        if style == "tagged":
            body, expect = tagged_body(notify.settings, values_of(n))
        else:
            body, expect = push_setup_body(notify, values_of(n))
        # What generateDataNotificationMessages does, less its check that the push fits one
        # message, which counts HDLC frames too: a push split into frames would raise.
        p = GXDLMSLNParameters(notify.settings, 0, Command.DATA_NOTIFICATION, 0, None, body, 0xFF)
        p.time = GXDateTime(WHEN + datetime.timedelta(seconds=10 * n)) if stamped else None
        with contextlib.redirect_stdout(io.StringIO()):  # gurux prints as it ciphers
            data += b"".join(bytes(m) for m in GXDLMS.getLnMessages(p))
        expects.append(expect)
    return data, expects


def key_for(security):
    return DEDICATED if security and security.endswith("-ded") else KEY


def check(telegrams, expects, security, stamped=True):
    assert len(telegrams) == len(expects)
    for n, (telegram, expect) in enumerate(zip(telegrams, expects)):
        for obis, (want, unit) in expect.items():
            value, got_unit = telegram.readings[obis]
            assert got_unit == unit, obis
            if isinstance(want, float):
                assert value == pytest.approx(want, rel=1e-12), obis
            else:
                assert value == want and type(value) is type(want), obis
        stamp = "2026-03-04T05:06:%02d+00:00" % (7 + 10 * n)
        assert telegram.meter_time == (stamp if stamped else None)
        # A GCM tag to check with security 0x10 and 0x30, none with 0x20, no ciphering at all.
        assert telegram.tag_checked is (None if not security else not security.startswith("enc"))
        if security:
            assert telegram.system_title == TITLE.hex() and telegram.frame_counter == 0x01020304 + n


SECURITY = [None, "enc", "auth", "ae", "ae-ded", "ae-suite1"]


@pytest.mark.parametrize("gbt", [False, True], ids=["one-apdu", "gbt"])
@pytest.mark.parametrize("security", SECURITY)
def test_gurux_pushes_decode_value_for_value_whole_and_in_small_reads(security, gbt):
    for link in ("hdlc", "hdlc-4", "bare"):
        for style in ("tagged", "push-setup"):
            data, expects = pushes(link, security, gbt, style)
            if link == "bare":
                # A bare APDU has no end mark: before the framer locks on the line, one whose
                # last bytes may open a frame waits for the bytes after it.
                data += pushes(link, security, gbt, style, count=1)[0]
            for chunk in (None, 1, 7):
                telegrams, dec = decode_all(data, chunk, key=key_for(security), auth_key=AUTH, profile="generic")
                assert dec.errors.total() == 0, (link, style, chunk, dec.errors.last_error)
                check(telegrams[: len(expects)], expects, security)


def test_hdlc_frames_and_gbt_blocks_are_what_the_standards_draw():
    """Guards the test above against reading nothing of interest: the streams do hold
    segmented HDLC frames (IEC 62056-46: format A8, then A0) and GBT blocks (E0), and the
    ciphered ones general-ded-ciphering (DC) and suite 1 (security control 0x31)."""
    plain, _ = pushes("hdlc", None, False, "tagged", count=1)
    assert plain[1] == 0xA8 and plain.count(b"\x7e\xa0") == 1
    blocks, _ = pushes("bare", "ae", True, "tagged", count=1)
    assert blocks[0] == 0xE0 and blocks[1] == 0x01 and blocks[4:6] == b"\x00\x00"  # block 1, ack 0
    assert pushes("bare", "ae-ded", False, "tagged", count=1)[0][:2] == b"\xdc\x08"
    assert pushes("bare", "ae-suite1", False, "tagged", count=1)[0][13] == 0x31
    unstamped, expects = pushes("hdlc-4", "ae", True, "push-setup", stamped=False)
    telegrams, dec = decode_all(unstamped, 5, key=KEY, auth_key=AUTH, profile="generic")
    check(telegrams, expects, "ae", stamped=False)


def test_gurux_pushes_read_the_same_on_micropython():
    from test_parity import cpython, micropython

    jobs = []
    for link, security, gbt in (("hdlc", "ae", False), ("hdlc-4", "auth", True), ("bare", "enc", True),
                                ("hdlc", "ae-ded", True), ("bare", None, False)):
        data, _ = pushes(link, security, gbt, "push-setup" if gbt else "tagged")
        jobs.append({"id": "%s/%s/%s" % (link, security, gbt), "hex": data.hex(), "chunk": 7,
                     "key": key_for(security).hex(), "auth_key": AUTH.hex(), "meter": "generic"})
    on_cpython = cpython(jobs)
    assert all(len(result["telegrams"]) == 2 for result in on_cpython)  # both pushes of each
    assert micropython(jobs) == on_cpython
