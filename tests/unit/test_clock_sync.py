"""The clock synchronizes the right device before every reading (no GPU needed: torch's sync is faked)."""

from __future__ import annotations

import torch

from policybench.measure.device import clock_for


def test_cuda_clock_synchronizes_the_device_before_reading(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(device))
    clock = clock_for("cuda")
    clock.read()
    clock.read()
    assert calls == [None, None]


def test_cuda_index_is_synchronized_by_index(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(device))
    clock_for("cuda:1").read()
    assert calls == [1]


def test_mps_clock_synchronizes(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.mps, "synchronize", lambda: calls.append("mps"))
    clock_for("mps").read()
    assert calls == ["mps"]


def test_cpu_clock_does_not_touch_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: (_ for _ in ()).throw(AssertionError("synced")))
    clock_for("cpu").read()
