"""Shared pytest setup: import paths, the real-capture corpus, the MicroPython runner.

The firmware is imported from ``firmware/`` exactly as it is laid out on the
device. ``tools/shims`` supplies the CPython stand-in for ``cryptolib``; it is
never copied to a device.
"""

import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
SHIMS = os.path.join(ROOT, "tools", "shims")
for path in (FIRMWARE, SHIMS, os.path.join(ROOT, "tools"), os.path.dirname(__file__)):
    if path not in sys.path:
        sys.path.insert(0, path)

SHARED = os.path.join(os.path.dirname(ROOT), "shared")
CORPUS_PATH = os.path.join(SHARED, "vectors", "corpus.json")


def load_corpus():
    """The 50 public captures, keyed by id."""
    with open(CORPUS_PATH) as f:
        return {entry["id"]: entry for entry in json.load(f)}


@pytest.fixture(scope="session")
def corpus():
    return load_corpus()


@pytest.fixture
def user_lists():
    """Lets a test define value lists (decoder/lists_user.py) in this process: the table
    is put back afterwards, with the caches kept by the offsets of lines it dropped."""
    from decoder import lists

    text = lists._LIST_TEXT
    yield lists
    lists._LIST_TEXT = text
    for cache in (lists._fitted, lists._kinds):
        for at in [at for at in cache if at >= len(text)]:
            del cache[at]
    lists.__dict__.pop("LISTS", None)
    import decoder.lists_user

    del decoder.lists_user._added[:]  # the names it added are gone with their lines
