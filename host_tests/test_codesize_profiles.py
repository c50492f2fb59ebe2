"""profiles.py keeps its manufacturer table as text (one str constant, no dict of
short strings held in RAM): the lookups still answer as the table says."""

import pytest

from decoder import profiles


@pytest.mark.parametrize("code, name", [
    ("LGZ", "e450"), ("lgz", "e450"), ("ISK", "am550"), ("KFM", "kaifa"), ("AID", "aidon"),
    ("KAM", "kamstrup"), ("SAG", "sagemcom"),
])
def test_each_flag_id_names_its_profile_in_any_case(code, name):
    assert profiles.by_code(code) == name


@pytest.mark.parametrize("code", [None, "", "XYZ", "LG", "LGZ1", "GZ", "e450", "=e4", " LG", "SAG "])
def test_anything_else_names_no_profile(code):
    assert profiles.by_code(code) is None


@pytest.mark.parametrize("title, channel, name", [
    (None, 6, "flexy-f2"), (None, 8, "e450"), (None, None, "generic"), (None, 7, "generic"),
    (b"LGZgs\x01\x02\x03", 6, "e360"), (b"LGZgs\x01\x02\x03", 8, "e450"), (b"LGZgs\x01\x02\x03", None, "e450"),
    (b"ISKit\x01\x02\x03", 6, "am550"), (b"KFMxx\x01\x02\x03", 6, "kaifa"),
])
def test_auto_reads_the_push_channel_when_the_title_does_not_tell_all(title, channel, name):
    assert profiles.resolve("auto", title, None, channel)["name"] == name
