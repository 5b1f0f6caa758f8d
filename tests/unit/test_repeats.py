"""Measuring until stable (--refills auto) and repeated processes (--processes), on fake policies
and a fake clock: every count, median and spread is exact."""

import dataclasses

import pytest
from fakes import FakePolicy, FakeTime

from policybench.errors import SettingsError
from policybench.measure.loop import MIN_AUTO_REFILLS, precise_enough, precision_reached, run_steady_state
from policybench.orchestrate.processes import measure_processes, merge_processes
from policybench.interrupt import Interrupted
from policybench.results import FAILED, INTERRUPTED, OK, PolicyResult, RunResults, read_results
from policybench.measure.policy import measure_policy
from policybench.orchestrate.run import run_benchmark
from policybench.samples import REFILL, STEP
from policybench.settings import RunSettings

OBS: dict = {}


class SequencePolicy(FakePolicy):
    """A FakePolicy whose n-th refill (the cold call is the first) costs ``refill_costs[n]``, the
    last cost repeating."""

    def __init__(self, time: FakeTime, refill_costs: list[float], chunk: int = 2):
        super().__init__(time, chunk=chunk, step_cost=0.25, refill_cost=refill_costs[0])
        self.refill_costs = refill_costs
        self.refills = 0

    def select_action(self, obs):
        if self.queue == 0:
            self.refill_cost = self.refill_costs[min(self.refills, len(self.refill_costs) - 1)]
            self.refills += 1
        return super().select_action(obs)


def last_six(values):
    """An exact stand-in interval: the range of the last six values."""
    return (min(values[-6:]), max(values[-6:])) if len(values) >= 6 else None


def measured_refills(loop):
    return [s.latency_ms for s in loop.samples if s.phase == REFILL]


# --- the stop rule -----------------------------------------------------------------------------


def test_precision_reached_is_the_larger_side_as_a_share_of_the_median():
    assert precision_reached([100.0] * 6, lambda v: (90.0, 104.0)) == pytest.approx(0.1)
    assert precision_reached([100.0] * 6, lambda v: None) is None
    assert precision_reached([], lambda v: (1.0, 2.0)) is None


def test_the_stop_rule_has_a_floor_of_six_refills():
    exact = lambda v: (v[0], v[0])  # noqa: E731 - a zero-width interval from the first value on
    assert [precise_enough([100.0] * n, 0.02, exact) for n in range(1, 8)] == [False] * 5 + [True, True]
    assert MIN_AUTO_REFILLS == 6


def test_the_stop_rule_compares_with_the_precision():
    values = [100.0] * 6
    assert precise_enough(values, 0.02, lambda v: (98.0, 102.0))
    assert not precise_enough(values, 0.02, lambda v: (98.0, 102.5))


def test_auto_stops_at_the_first_cycle_whose_interval_is_precise():
    # measured refills: 1000, 1500, then 1000 on: the last six are all 1000 ms at the 8th refill
    time = FakeTime()
    policy = SequencePolicy(time, [1.0, 1.0, 1.5, 1.0])
    loop = run_steady_state(
        policy, OBS, time.clock(), refills="auto", warmup=0, max_seconds=1000.0, precision=0.02, interval=last_six
    )
    assert measured_refills(loop) == [1000.0, 1500.0] + [1000.0] * 6
    assert loop.complete and loop.precision == 0.0
    assert [s.phase for s in loop.samples[-2:]] == [REFILL, STEP]  # it stops at the end of a cycle


def test_auto_with_constant_costs_stops_at_the_floor():
    time = FakeTime()
    loop = run_steady_state(FakePolicy(time, chunk=5), OBS, time.clock(), refills="auto", warmup=1, max_seconds=1000.0)
    assert len(measured_refills(loop)) == MIN_AUTO_REFILLS and len(loop.samples) == 5 * MIN_AUTO_REFILLS
    assert loop.complete and loop.precision == 0.0


def test_auto_with_one_slow_refill_stops_when_the_order_statistics_exclude_it():
    # stats.median_interval at 95 %: (min, max) up to 8 values, the 2nd smallest and 2nd largest from 9
    time = FakeTime()
    policy = SequencePolicy(time, [1.0, 1.5, 1.0])
    loop = run_steady_state(policy, OBS, time.clock(), refills="auto", warmup=0, max_seconds=1000.0)
    assert measured_refills(loop) == [1500.0] + [1000.0] * 8
    assert loop.complete and loop.precision == 0.0


def test_auto_that_never_settles_stops_at_max_seconds_and_says_how_far_it_got():
    time = FakeTime()
    policy = SequencePolicy(time, [1.0] + [1.0, 2.0] * 20)
    loop = run_steady_state(policy, OBS, time.clock(), refills="auto", warmup=0, max_seconds=20.0, interval=last_six)
    # cycles of 1.25 s and 2.25 s after the cold call's step: the 12th refill's cycle ends at 21 s
    assert measured_refills(loop) == [1000.0, 2000.0] * 6
    assert not loop.complete and loop.measured_seconds == 21.0
    assert loop.precision == 500.0 / 1500.0  # the interval (1000, 2000) around the median 1500


def test_a_count_of_refills_records_no_precision():
    time = FakeTime()
    assert run_steady_state(FakePolicy(time), OBS, time.clock(), refills=3, warmup=0).precision is None


def test_auto_precision_reaches_the_result():
    time = FakeTime()
    cfg = RunSettings(policies=["fake"], refills="auto", warmup=0, max_seconds=1000.0)
    [result] = measure_policy(
        "fake", cfg, "cpu", time.clock(), lambda line: None, build=lambda *a: FakePolicy(time, chunk=2)
    )
    assert result.status == OK and result.complete and result.precision == 0.0
    assert sum(s.phase == REFILL for s in result.samples) == MIN_AUTO_REFILLS


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"processes": 0}, "processes must be a positive count, got 0"),
        ({"processes": True}, "processes must be a positive count, got True"),
        ({"processes": 101}, "processes must be at most 100, got 101"),  # 99,999,999 processes ran until killed
        ({"precision": 0.0}, "precision must be a share from above 0 to below 1"),
        ({"precision": 1.5}, "precision must be a share from above 0 to below 1 (0.02 is 2 %), got 1.5"),
        ({"precision": float("nan")}, "precision must be a share"),
        ({"refills": "often"}, "refills must be a positive count or 'auto', got 'often'"),
    ],
)
def test_bad_repeat_settings_name_the_field(fields, message):
    with pytest.raises(SettingsError) as info:
        RunSettings(policies=["noop"], **fields)
    assert message in str(info.value)


def test_repeat_settings_travel_to_a_child():
    cfg = RunSettings(policies=["noop"], refills="auto", processes=3, precision=0.05)
    assert RunSettings.from_json(cfg.to_json()) == cfg


def test_processes_in_this_process_are_refused():
    cfg = RunSettings(policies=["fake"], processes=2)
    with pytest.raises(SettingsError) as info:
        run_benchmark(cfg, "cpu", clock=FakeTime().clock(), environment={}, build=lambda *a: None)
    assert info.value.said_with({"processes": "--processes", "in_process": "--in-process"}) == (
        "--processes 2 measures each policy in fresh child processes; it cannot run in this process: drop --in-process"
    )


# --- processes ---------------------------------------------------------------------------------

REFILL_COST_OF_PROCESS = [1.0, 2.0, 0.5]  # each fresh process: another refill cost


def measured_in_processes(costs=REFILL_COST_OF_PROCESS, refills=3):
    cfg = RunSettings(policies=["fake"], refills=refills, warmup=1, processes=len(costs))

    def once(k: int) -> list[PolicyResult]:
        time = FakeTime()  # a fresh process: its own clock and policy
        return measure_policy(
            "fake",
            cfg,
            "cpu",
            time.clock(),
            lambda line: None,
            build=lambda *a: FakePolicy(time, chunk=4, step_cost=0.25, refill_cost=costs[k]),
        )

    lines: list[str] = []
    return measure_processes("fake", len(costs), once, lines.append), lines


def test_each_process_gives_its_own_median_and_the_spread_is_between_them():
    [result], lines = measured_in_processes()
    assert lines == ["fake: process 1 of 3", "fake: process 2 of 3", "fake: process 3 of 3"]
    assert result.process_medians(REFILL) == [1000.0, 2000.0, 500.0]
    assert result.process_medians(STEP) == [250.0, 250.0, 250.0]
    assert result.median_of_processes(REFILL) == 1000.0
    assert result.process_spread(REFILL) == (500.0, 2000.0)
    assert result.process_count() == 3


def test_every_process_keeps_its_samples_in_call_order():
    [result], _ = measured_in_processes()
    assert [s.process for s in result.samples] == [k for k in range(3) for _ in range(12)]
    assert [s.i for s in result.samples] == list(range(12)) * 3


def test_cold_start_and_build_time_are_kept_per_process():
    [result], _ = measured_in_processes()
    assert [p.cold_start_ms for p in result.processes] == [1000.0, 2000.0, 500.0]
    assert result.cold_start_ms == 1000.0  # the median over processes
    assert all(p.status == OK and p.complete for p in result.processes) and result.complete


def test_one_process_has_no_spread_and_no_per_process_record():
    [result], _ = measured_in_processes(costs=[1.0])
    assert result.process_medians(REFILL) == [1000.0]
    assert result.process_spread(REFILL) is None and result.processes == []
    assert result.median_of_processes(REFILL) == 1000.0


def test_a_failed_process_fails_the_result_naming_it_and_keeps_the_others_samples():
    [good], _ = measured_in_processes(costs=[1.0])
    failed = PolicyResult(policy="fake", status=FAILED, error="RuntimeError: boom")
    [merged] = merge_processes([[good], [failed], [good]])
    assert merged.status == FAILED and merged.error == "process 2 of 3: RuntimeError: boom"
    assert merged.process_medians(REFILL) == [1000.0, 1000.0] and not merged.complete


def test_processes_whose_config_differs_are_not_merged_into_one_measurement():
    [good], _ = measured_in_processes(costs=[1.0])
    other = dataclasses.replace(good, config={**good.config, "chunk_size": 8})
    [merged] = merge_processes([[good], [good], [other]])
    assert merged.status == FAILED
    assert merged.error == (
        "process 3 of 3: its config differs from process 1's: chunk_size 8, not 4; "
        "processes measured differently are not merged"
    )
    assert merged.process_medians(REFILL) == [1000.0, 1000.0, 1000.0]  # kept, as a failed process's are


def test_processes_measured_on_different_machines_are_not_merged():
    [good], _ = measured_in_processes(costs=[1.0])
    here, there = ({"node": "a", "torch": "2.11.0"}, {"node": "a", "torch": "2.10.0"})
    [merged] = merge_processes([[dataclasses.replace(good, machine=here)], [dataclasses.replace(good, machine=there)]])
    assert merged.status == FAILED
    assert merged.error.startswith(
        "process 2 of 2: its environment differs from process 1's: torch '2.10.0', not '2.11.0'"
    )


def test_processes_that_agree_are_merged_whatever_the_order_of_their_records():
    [good], _ = measured_in_processes(costs=[1.0])
    reordered = dataclasses.replace(good, config=dict(reversed(list(good.config.items()))))
    [merged] = merge_processes([[good], [reordered]])
    assert merged.status == OK and merged.error is None


def interrupted_in(k_stop, costs=REFILL_COST_OF_PROCESS):
    """measured_in_processes, with Ctrl-C arriving in process ``k_stop``."""
    cfg = RunSettings(policies=["fake"], refills=3, warmup=1, processes=len(costs))

    def once(k: int) -> list[PolicyResult]:
        if k == k_stop:
            raise KeyboardInterrupt
        time = FakeTime()
        return measure_policy(
            "fake",
            cfg,
            "cpu",
            time.clock(),
            lambda line: None,
            build=lambda *a: FakePolicy(time, chunk=4, step_cost=0.25, refill_cost=costs[k]),
        )

    return lambda: measure_processes("fake", len(costs), once)


def test_ctrl_c_in_a_later_process_keeps_the_processes_before_it():
    with pytest.raises(Interrupted) as info:
        interrupted_in(2)()
    [kept] = info.value.partial
    assert kept.status == INTERRUPTED and not kept.complete
    assert kept.error == "SIGINT received in process 3 of 3; the 2 before it are kept"
    assert kept.process_medians(REFILL) == [1000.0, 2000.0]


def test_ctrl_c_in_the_first_process_has_nothing_to_keep():
    with pytest.raises(KeyboardInterrupt) as info:
        interrupted_in(0)()
    assert getattr(info.value, "partial", None) is None


def test_an_interrupted_run_writes_the_finished_processes_samples(tmp_path, monkeypatch):
    import policybench.orchestrate.children

    costs, calls = [1.0, 2.0, 0.5], []

    def in_child(name, cfg, device, log, warn, progress):
        calls.append(name)
        if len(calls) == 3:
            raise KeyboardInterrupt
        time = FakeTime()
        return measure_policy(
            name,
            cfg,
            device,
            time.clock(),
            log,
            build=lambda *a: FakePolicy(time, chunk=4, step_cost=0.25, refill_cost=costs[len(calls) - 1]),
        )

    monkeypatch.setattr(policybench.orchestrate.children, "measure_in_child", in_child)
    path = tmp_path / "r.json"
    cfg = RunSettings(policies=["fake"], refills=3, warmup=1, processes=3, json_path=str(path))
    with pytest.raises(Interrupted):
        run_benchmark(cfg, "cpu", environment={}, isolate=True)
    [written] = read_results(path).results
    assert written.status == INTERRUPTED and written.process_medians(REFILL) == [1000.0, 2000.0]


def test_variants_are_merged_one_by_one():
    [a], _ = measured_in_processes(costs=[1.0])
    [b], _ = measured_in_processes(costs=[2.0])
    first = [dataclasses.replace(a, variant="eager"), dataclasses.replace(b, variant="bf16")]
    second = [dataclasses.replace(b, variant="eager"), dataclasses.replace(a, variant="bf16")]
    merged = merge_processes([first, second])
    assert [(r.variant, r.process_medians(REFILL)) for r in merged] == [
        ("eager", [1000.0, 2000.0]),
        ("bf16", [2000.0, 1000.0]),
    ]


# --- the results file --------------------------------------------------------------------------


def test_the_results_file_round_trips_the_process_index(tmp_path):
    [result], _ = measured_in_processes()
    run = RunResults({}, {"processes": 3})
    run.results.append(result)
    written = run.to_json()
    assert all(s["p"] == k for k in range(3) for s in written["results"][0]["samples"][12 * k : 12 * (k + 1)])
    back = RunResults.from_json(written).results[0]
    assert back.samples == result.samples and back.processes == result.processes
    assert back.process_spread(REFILL) == (500.0, 2000.0)


def test_one_process_writes_no_process_index():
    [result], _ = measured_in_processes(costs=[1.0])
    written = result.to_json()
    assert all("p" not in s for s in written["samples"]) and "processes" not in written


def _written():
    """A results file of one policy measured in two processes, as written."""
    [result], _ = measured_in_processes(costs=[1.0, 2.0])
    return RunResults({}, {"processes": 2}, [result]).to_json()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: r["samples"][0].update(p=-1), "act: samples[0].p is -1; must be a whole number"),
        (lambda r: r["samples"][0].update(p=0.5), "samples[0].p is 0.5; must be a whole number"),
        (lambda r: r["samples"][0].update(p=True), "samples[0].p is True; must be a whole number"),
        (
            lambda r: r["samples"][-1].update(p=0),
            "samples[23].p is 0, after 1; each process's samples follow the last one's",
        ),
        (lambda r: r["samples"][13].update(i=0), "samples[13].i is 0, after 0; call indices must increase"),
        (lambda r: r.update(precision=-0.1), "precision is -0.1; must be a share"),
        (lambda r: r.update(processes=[{"status": "fine"}]), "processes[0].status is 'fine'; known: ok"),
        (
            lambda r: r.update(processes=[{"status": "ok", "cold_start_ms": "slow"}]),
            "processes[0]: cold_start_ms is 'slow'",
        ),
        (
            lambda r: r.update(processes=[{"status": "ok", "complete": 1}]),
            "processes[0].complete is 1; must be true or false",
        ),
    ],
)
def test_a_bad_process_field_is_one_error_naming_it(change, message):
    from policybench.errors import UsageError

    d = _written()
    d["results"][0]["policy"] = "act"
    change(d["results"][0])
    with pytest.raises(UsageError) as info:
        RunResults.from_json(d)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "value, message",
    [
        (0, "run.processes is 0; must be a whole number from 1"),
        ("2", "run.processes is '2'; must be a whole number from 1"),
    ],
)
def test_a_bad_run_processes_is_one_error_naming_it(value, message):
    from policybench.errors import UsageError

    d = _written()
    d["run"]["processes"] = value
    with pytest.raises(UsageError) as info:
        RunResults.from_json(d)
    assert message in str(info.value)


def test_a_bad_run_refills_or_precision_is_one_error_naming_it():
    from policybench.errors import UsageError

    for key, value in (("refills", "often"), ("precision", "tight")):
        d = _written()
        d["run"][key] = value
        with pytest.raises(UsageError, match=f"run.{key} is '{value}'"):
            RunResults.from_json(d)
    d = _written()
    d["run"].update(refills="auto", precision=0.02)
    assert RunResults.from_json(d).run["refills"] == "auto"


def test_the_summary_and_the_table_show_the_median_of_the_processes_and_their_spread():
    """Pooled, the 9 refills' median would be 1000 too; with costs 1, 2, 4 it is 2000 pooled and
    2000 as median of medians, but the interval is the one over the 3 processes (t, 2 df)."""
    from policybench.report.table import render_table
    from policybench.stats import interval_over_processes

    [result], _ = measured_in_processes(costs=[1.0, 2.0, 4.0])
    refill = result.summary()["refill"]
    assert refill["median_ms"] == 2000.0 and refill["count"] == 9
    assert refill["process_medians_ms"] == [1000.0, 2000.0, 4000.0]
    assert refill["process_spread_ms"] == [1000.0, 4000.0]
    low, high = interval_over_processes([1000.0, 2000.0, 4000.0])
    assert refill["median_ci_ms"] == [min(low, 2000.0), max(high, 2000.0)]
    table = render_table(RunResults({"device": "cpu"}, {}, [result]))
    assert (
        "fake: 3 processes, refill medians from 1000 to 4000 ms (the table shows the median of the processes' medians)"
        in table
    )
    assert "within one process" not in table  # its interval is the one over processes


def test_a_merged_result_keeps_the_busiest_process_load():
    [result], _ = measured_in_processes()
    loads = [{"other_cpu": 0.05}, {"other_cpu": 0.41, "other_gpu_processes": 0}, {"other_cpu": 0.1}]
    runs = [[dataclasses.replace(result, samples=[], machine_load=load)] for load in loads]
    [merged] = merge_processes(runs)
    assert merged.machine_load == {"other_cpu": 0.41, "other_gpu_processes": 0}


def test_the_table_says_when_the_machine_was_busy():
    from policybench.report.table import render_table

    [result], _ = measured_in_processes(costs=[1.0])
    busy = dataclasses.replace(result, machine_load={"other_cpu": 0.41})
    table = render_table(RunResults({"device": "cpu"}, {}, [busy]))
    assert (
        "fake: the machine was 41 % busy with other work while it was measured: its figures are not reliable" in table
    )


def test_breakdown_refills_of_every_process_are_pooled():
    [a], _ = measured_in_processes(costs=[1.0])
    parts = [{"name": "encoder", "repeat": ""}]
    first = dataclasses.replace(
        a, breakdown={"components": parts, "refills": [{"total_ms": 1.0, "ms": {"encoder": 1.0}, "calls": {}}]}
    )
    second = dataclasses.replace(
        a, breakdown={"components": parts, "refills": [{"total_ms": 2.0, "ms": {"encoder": 2.0}, "calls": {}}]}
    )
    other = dataclasses.replace(
        a, breakdown={"components": [{"name": "other", "repeat": ""}], "refills": [{"total_ms": 9.0}]}
    )
    [merged] = merge_processes([[first], [second], [other], [a]])
    assert [r["total_ms"] for r in merged.breakdown["refills"]] == [1.0, 2.0]
    assert merged.breakdown["components"] == parts
