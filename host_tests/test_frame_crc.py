"""CRC-16/X.25 (HDLC HCS/FCS) and CRC-16/ARC (DSMR): the table-driven code
against the catalogue check values and a bitwise reference; the viper kernel
against the plain one under MicroPython."""

from hypothesis import given
from hypothesis import strategies as st

from decoder import crc
from frame_support import arc, x25
from conftest import load_corpus
from mp import run_micropython


def test_catalogue_check_values():
    assert crc.x25(b"123456789") == 0x906E
    assert crc.arc(b"123456789") == 0xBB3D


@given(st.binary(max_size=300), st.integers(0, 20))
def test_table_driven_crcs_equal_the_bitwise_definition(data, skip):
    start = min(skip, len(data))
    assert crc.x25(data, start) == x25(data[start:])
    assert crc.arc(data, start, len(data)) == arc(data[start:])


def test_hdlc_hcs_and_fcs_of_a_real_frame_match_its_bytes():
    # Norwegian Kaifa MA304, one unsegmented frame: 7E A0 27 01 02 01 10 HCS ... FCS 7E.
    frame = bytes.fromhex(load_corpus()["no-kaifa-ma304-list1"]["hex"])
    body = frame[1:-1]
    assert crc.x25(body, 0, 6) == int.from_bytes(body[6:8], "little")
    assert crc.x25(body, 0, len(body) - 2) == int.from_bytes(body[-2:], "little")


VIPER_CHECK = """
import random
from decoder import crc
from decoder.crc_viper import crc16
assert crc._kernel is crc16, "crc.py must pick the viper kernel on MicroPython"
buf = bytearray(600)
for trial in range(200):
    n = random.getrandbits(9)
    for i in range(n):
        buf[i] = random.getrandbits(8)
    start = random.getrandbits(4) % (n + 1)
    view = memoryview(buf)[:n]
    for table, init in ((crc.X25_TABLE, 0xFFFF), (crc.arc_table(), 0)):
        a = crc16(table, view, start, n, init)
        b = crc.crc16_plain(table, view, start, n, init)
        assert a == b, (trial, a, b)
print("ok", crc.x25(b"123456789") == 0x906E, crc.arc(b"123456789") == 0xBB3D)
"""


def test_viper_kernel_agrees_with_the_plain_kernel_under_micropython():
    result = run_micropython(["-c", VIPER_CHECK])
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().split() == ["ok", "True", "True"]


def test_the_written_out_x25_table_is_the_one_the_polynomial_gives():
    # crc.py keeps X.25's table as a bytes constant (it stays in the firmware image).
    assert crc.X25_TABLE == crc._table(0x8408)
    assert len(crc.X25_TABLE) == 512 and isinstance(crc.X25_TABLE, bytes)
