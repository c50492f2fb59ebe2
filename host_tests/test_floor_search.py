"""How the heap floors are searched: holding is not monotonic in the heap size.

The GC's block layout changes with the size of the heap, so a size can hold while
sizes a few kB above it fail (measured: the decoder alone holds in 96k, fails in 97k-99k
and holds from 100k up). tools/heap_floor.py and tools/bench_gateway.py must report where
the unbroken run of holding sizes starts, never such an island. Runs are replaced by a
table of which sizes hold, so these checks take no time.
"""

import os

import pytest

import bench_gateway
import heap_floor


def fake_probe(holding):
    def probe(kb, frames, job, code=None, rom=None):
        if kb in holding:
            return {"telegrams": job["count"], "errors": {}, "live_before": 1000, "live_after": 1000}
        return {"error": "MemoryError: memory allocation failed", "telegrams": 0}
    return probe


def test_the_decoder_floor_is_the_start_of_the_unbroken_run_and_islands_are_named(monkeypatch):
    holding = {96} | set(range(100, 121))
    monkeypatch.setattr(heap_floor, "probe", fake_probe(holding))
    kb, report, islands = heap_floor.floor(90, 120, [], heap_floor.sil_job(50), say=lambda *a: None)
    assert (kb, islands) == (100, [96])
    assert report["telegrams"] == 50


def gateway_runs(holding, tried):
    def run_pushes(heap, count, code=None, heap_at=()):
        kb = int(heap[:-1])
        tried.append(kb)
        return [], None if kb in holding else "push 1 not published", {}
    return run_pushes


def test_the_gateway_search_does_not_stop_on_an_island(monkeypatch):
    tried = []
    # Bisection from 96-384 reaches 112 and 116, which hold, with 120-128 failing above them.
    holding = {112, 116} | set(range(132, 385, 4))
    monkeypatch.setattr(bench_gateway, "run_pushes", gateway_runs(holding, tried))
    assert bench_gateway.smallest_heap(None, low=96, high=384) == 132
    assert 116 in tried and 120 in tried  # the island was found, then left behind


def test_the_gateway_search_confirms_the_sizes_above_what_it_found(monkeypatch):
    tried = []
    monkeypatch.setattr(bench_gateway, "run_pushes", gateway_runs(set(range(112, 385, 4)), tried))
    assert bench_gateway.smallest_heap(None, low=96, high=384) == 112
    assert {116, 120} <= set(tried)


def test_an_island_at_the_lowest_size_searched_is_not_the_floor(monkeypatch):
    tried = []
    holding = {96} | set(range(112, 385, 4))
    monkeypatch.setattr(bench_gateway, "run_pushes", gateway_runs(holding, tried))
    assert bench_gateway.smallest_heap(None, low=96, high=384) == 112


def test_a_rig_that_fails_to_start_stops_what_it_started(monkeypatch):
    # A bad argument once left a mosquitto running for the rest of the session: the
    # broker started, then the gateway's setup raised and nothing stopped it.
    import tempfile

    stopped = []
    real_stop = bench_gateway.Broker.stop
    monkeypatch.setattr(bench_gateway.Broker, "stop", lambda self: stopped.append(self.port) or real_stop(self))
    made = []
    real_mkdtemp = tempfile.mkdtemp
    monkeypatch.setattr(bench_gateway.tempfile, "mkdtemp", lambda **kw: made.append(real_mkdtemp(**kw)) or made[-1])
    with pytest.raises(ValueError):
        bench_gateway.Rig("128k", ("one", "two", "three"))  # code is (tree, lib): unpacking fails
    assert len(stopped) == 1
    assert not os.path.exists(made[0])
