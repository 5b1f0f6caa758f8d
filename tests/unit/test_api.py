"""The public API as a notebook user calls it: noop and plain modules, in this process and in children."""

from __future__ import annotations

from dataclasses import replace
import os

import pytest
import torch

import policybench


def test_all_names_exactly_the_api():
    assert sorted(policybench.__all__) == ["compare", "fleet", "load", "realtime", "run", "simulate_realtime", "sweep"]


def test_run_returns_figures_at_hand_and_a_short_repr(tmp_path):
    path = tmp_path / "r.json"
    results = policybench.run(
        ["noop"],
        device="cpu",
        refills=3,
        warmup=1,
        isolate=False,
        overrides={"noop.chunk_size": 10},
        json_path=str(path),
    )
    act = results["noop"]
    assert act.ok and act.refill.count == 3 and act.step.count == 27
    assert act.refill.median_ms == results.raw.results[0].summary()["refill"]["median_ms"]
    assert "refill median" in repr(act) and len(repr(results).splitlines()) == 2
    assert "samples" not in repr(results)  # no dump of every sample
    loaded = policybench.load(str(path))
    assert loaded["noop"].refill == act.refill
    with pytest.raises(KeyError, match="no policy 'act' in these results; they have noop"):
        results["act"]


def test_the_process_is_left_as_it_was_found():
    threads = torch.get_num_threads()
    before = os.environ.get("HF_HUB_OFFLINE")
    policybench.run(["noop"], device="cpu", refills=1, warmup=0, threads=1, isolate=False)
    assert torch.get_num_threads() == threads
    assert os.environ.get("HF_HUB_OFFLINE") == before


def test_a_plain_module_is_all_refills():
    module = torch.nn.Linear(4, 3)
    results = policybench.run([module], device="cpu", refills=4, warmup=1, inputs=torch.randn(1, 4))
    m = results["linear"]
    assert m.refill.count == 4 and m.step.count == 0 and m.params == 15


def test_bad_arguments_are_value_errors_in_one_line():
    with pytest.raises(ValueError, match="^unknown policy 'nope'"):
        policybench.run(["nope"], device="cpu")
    with pytest.raises(ValueError, match="^refills must be positive, got 0$"):  # the keyword, not --refills
        policybench.run(["noop"], device="cpu", refills=0)
    with pytest.raises(ValueError, match="^max_seconds must be positive"):
        policybench.run(["noop"], device="cpu", max_seconds=-1)
    with pytest.raises(ValueError, match="needs inputs="):
        policybench.run([torch.nn.Linear(2, 2)], device="cpu")


def test_bad_inputs_and_outputs_name_the_keyword_not_the_flag(tmp_path):
    with pytest.raises(ValueError, match="^cameras must be from 0 to 64, got -1$"):
        policybench.run(["noop"], device="cpu", cameras=-1)
    with pytest.raises(ValueError, match="^image_size must be HEIGHTxWIDTH"):
        policybench.run(["noop"], device="cpu", image_size="480by640")
    with pytest.raises(ValueError, match="^image_size sides must be from 1 to 8192 pixels, got 9000x640$"):
        policybench.run(["noop"], device="cpu", image_size=(9000, 640))
    with pytest.raises(ValueError, match=f"^json_path {tmp_path}: is a folder, not a file$"):
        policybench.run(["noop"], device="cpu", json_path=str(tmp_path))
    with pytest.raises(ValueError, match=r"^overrides act\.chunk_size=100000: at most 10,000"):
        policybench.run(["act"], device="cpu", overrides={"act.chunk_size": 100_000}, isolate=False)
    with pytest.raises(ValueError, match=r"^overrides act\.chunk_size=-1: "):
        policybench.run(["act"], device="cpu", overrides={"act.chunk_size": -1}, isolate=False)


def test_compare_says_whether_it_regressed_and_simulate_gives_the_verdict():
    from fakes import ok_result, run_results

    from policybench.api import Results

    # refill 4 ms, step 1 ms, chunk 4: every tick fits 100 Hz (10 ms), the refill misses 300 Hz (3.3 ms);
    # 6 refills: the fewest whose median has a 95% interval, so that compare calls a change
    base = Results(run_results([ok_result("act", chunk=4, cycles=6, refill_ms=4.0, step_ms=1.0, cold_ms=8.0)]))
    slower = Results(run_results([ok_result("act", chunk=4, cycles=6, refill_ms=8.0, step_ms=1.0, cold_ms=8.0)]))
    assert not policybench.compare(base, base).regressed
    worse = policybench.compare(base, slower)
    assert worse.regressed and "regressed" in repr(worse) and "slower" in str(worse)
    five = Results(run_results([ok_result("act", chunk=4, cycles=5, refill_ms=8.0, step_ms=1.0, cold_ms=8.0)]))
    assert not policybench.compare(base, five).regressed and "not called: too few samples" in str(
        policybench.compare(base, five)
    )
    verdict = policybench.simulate_realtime(base, hz=[30, 100, 300])
    assert verdict.highest[0].policy == "act" and verdict.highest[0].sync_hz == 100
    with pytest.raises(ValueError, match="hz must be positive"):
        policybench.simulate_realtime(base, hz=[0])


def test_isolated_run_measures_in_a_child_with_its_own_memory():
    ballast = torch.ones(512 * 2**20 // 4)  # 512 MiB touched in this process, not the child's
    results = policybench.run(["noop"], device="cpu", refills=2, warmup=1, isolate=True)
    m = results["noop"]
    assert m.ok and m.refill.count == 2
    import resource

    mine = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert m.raw.memory["peak_rss_mb"] < mine - 256  # the child's own peak, not this process's
    del ballast


def test_no_module_shadows_an_api_function():
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(policybench.__path__):
        if info.name != "__main__":  # running it is the CLI
            importlib.import_module(f"policybench.{info.name}")
    for name in policybench.__all__:
        assert callable(getattr(policybench, name)) and not isinstance(getattr(policybench, name), type(policybench))


def test_sweep_and_realtime_take_keywords_and_their_errors_name_them():
    from policybench import api

    results = api.sweep(["noop"], {"noop.chunk_size": [4, 8]}, device="cpu", refills=1, warmup=0)
    assert [m.raw.status for m in results] == ["ok", "ok"]
    verdict = api.realtime("noop", hz=200, ticks=20, mode="sync", device="cpu", warmup=0)
    assert [e.mode for e in verdict.entries] == ["sync"] and verdict.entries[0].status == "ok"
    with pytest.raises(ValueError, match="^hz must be at most 10000"):
        api.realtime("noop", hz=20_000, device="cpu")
    with pytest.raises(ValueError, match="^hz must be a positive rate"):
        api.sweep(["noop"], {"threads": [1, 2]}, hz=0, device="cpu")


@pytest.mark.parametrize(
    ("function", "keywords", "message"),
    [
        ("realtime", {"image_size": "0x5"}, "^image_size must be HEIGHTxWIDTH"),
        ("realtime", {"state_dim": 0}, "^state_dim must be from 1"),
        ("realtime", {"action_dim": 0}, "^action_dim must be from 1"),
        ("sweep", {"state_dim": 0, "axes": {"threads": [1, 2]}}, "^state_dim must be from 1"),
        ("sweep", {"action_dim": 0, "axes": {"threads": [1, 2]}}, "^action_dim must be from 1"),
    ],
)
def test_realtime_and_sweep_take_the_robot_as_their_commands_do(function, keywords, message):
    from policybench import api

    with pytest.raises(ValueError, match=message):
        getattr(api, function)("noop", device="cpu", **keywords)


def test_results_are_indexed_by_policy_variant_and_point():
    from fakes import ok_result, run_results

    from policybench.api import Results

    measured = []
    for cameras in ("1", "2"):
        for variant, refill in (("eager", 40.0), ("bf16", 20.0)):
            r = ok_result("act", chunk=4, cycles=2, refill_ms=refill * int(cameras), step_ms=1.0, cold_ms=50.0)
            measured.append(replace(r, variant=variant, point={"cameras": cameras}))
    results = Results(run_results(measured))
    assert results.names() == ["act[cameras=1]", "act+bf16[cameras=1]", "act[cameras=2]", "act+bf16[cameras=2]"]
    at_two = results.where(cameras=2)
    assert len(at_two) == 2 and at_two["act"].refill.median_ms == 80.0
    assert at_two["act", "bf16"].name == "act+bf16[cameras=2]" and at_two["act", "bf16"].point == {"cameras": "2"}
    assert results.where(cameras="1")["act", "eager"].refill.median_ms == 40.0
    with pytest.raises(KeyError, match="'act' was measured at 2 sweep points; pick one with .where"):
        results["act"]
    with pytest.raises(KeyError, match="no policy 'act, fp16' in these results"):
        at_two["act", "fp16"]


def test_run_takes_processes_and_precision_and_their_errors_name_them():
    from policybench import api

    results = api.run(["noop"], device="cpu", refills=1, warmup=0, processes=2)
    [m] = list(results)
    assert m.raw.status == "ok" and len(m.raw.process_medians("refill")) == 2
    with pytest.raises(ValueError, match="^processes 2 measures each policy in fresh child processes"):
        api.run(["noop"], device="cpu", processes=2, isolate=False)
    with pytest.raises(ValueError, match="^precision must be a share"):
        api.run(["noop"], device="cpu", refills="auto", precision=0)
    with pytest.raises(ValueError, match="^processes must be a positive count"):
        api.sweep(["noop"], {"noop.chunk_size": [4, 8]}, device="cpu", processes=0)
