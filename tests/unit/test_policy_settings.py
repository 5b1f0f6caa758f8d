"""What to change in the policy (issue 30, 2): besides the rate and the threshold, the
n_action_steps, chunk and denoising steps that would hold, each named by the --set that changes
it and estimated from the measured refill; checked exactly on hand-made results, and against the
paced loop on a virtual clock: the setting proposed holds, the one just past it does not."""

from __future__ import annotations

from policybench.control.budget import async_budget_ticks, delay_ticks, most_steps, smallest_chunk
from policybench.control.simulate import Costs, knobs_of, run_budgets, simulate_async, simulate_sync
from policybench.report.realtime import render_budgets
from policybench.results import OK, PolicyResult, RunResults
from policybench.samples import REFILL, STEP, Sample

HZ = 30.0


def result(
    policy: str, refills_ms: list[float], chunk: int, config: dict, breakdown: dict | None = None
) -> PolicyResult:
    samples = []
    for r in refills_ms:
        samples.append(Sample(len(samples), REFILL, r))
        samples += [Sample(len(samples), STEP, 0.5) for _ in range(chunk - 1)]
    return PolicyResult(
        policy, OK, config={"n_action_steps": chunk, **config}, samples=samples, breakdown=breakdown or {}
    )


DIFFUSION = {
    "chunk_size": 16,
    "inference_steps": 100,
    "n_obs_steps": 2,
    "policy_type": "diffusion",
    "set_fields": {
        "chunk_size": "horizon",
        "n_action_steps": "n_action_steps",
        "inference_steps": "num_inference_steps",
    },
    "chunk_multiple": 8,
}


def breakdown(unet_ms: float, scheduler_ms: float, encoder_ms: float, refills: int = 2) -> dict:
    """--breakdown's raw record: a U-Net and a scheduler step per denoising step (100), an encoder once."""
    ms = {"UNet": unet_ms, "scheduler step": scheduler_ms, "encoder": encoder_ms}
    calls = {"UNet": 100, "scheduler step": 100, "encoder": 1}
    return {
        "components": [
            {"name": "encoder", "repeat": ""},
            {"name": "UNet", "repeat": "per step"},
            {"name": "scheduler step", "repeat": "per step"},
        ],
        "refills": [{"total_ms": 250.0, "ms": dict(ms), "calls": dict(calls)} for _ in range(refills)],
    }


def what_would_hold(r: PolicyResult) -> list[str]:
    lines = render_budgets(run_budgets(RunResults({}, {}, [r]), HZ))
    start = next(i for i, line in enumerate(lines) if line.startswith("  What would hold"))
    return lines[start:-1]  # to the async budget's legend


def test_diffusion_with_its_breakdown_gets_its_steps_and_its_chunk():
    """Refills of 200, 200, 200, 250 ms; a denoising step 2.2 ms (U-Net 2 ms, scheduler 0.2 ms), so
    30 ms of the slowest refill is not the steps. 30 Hz: a period of 33.3 ms, async g=0.5 with 8
    actions 4 periods; the slowest refill takes d = ceil(0.25 x 30) = 8 ticks."""
    r = result("diffusion", [200.0, 200.0, 200.0, 250.0], 8, DIFFUSION, breakdown(200.0, 20.0, 10.0))
    assert what_would_hold(r) == [
        "  What would hold at 30 Hz (from the slowest refill measured, 250 ms):",
        "    --hz 4: sync holds it (a period of 250 ms at 4 Hz)",
        "    --hz 16: async g=0.5 holds it (4 x 62.5 ms = 250 ms at 16 Hz)",
        # 30 + 1 x 2.2 = 32.2 ms <= 33.3; 2 steps: 34.4 ms
        "    --set diffusion.num_inference_steps=1: sync holds it (a period of 33.3 ms at 30 Hz); estimated refill "
        "32.2 ms from a denoising step 2.2 ms as --breakdown measured it, the rest of the slowest refill 30 ms",
        # n >= 2d = 16 and floor(0.5 n) + 1 >= 8; beyond the 16 - (2 - 1) = 15 its horizon executes: 16 + 1 -> 24
        "    --set diffusion.horizon=24 --set diffusion.n_action_steps=16: async g=0.5 holds it (min(floor(0.5 x 16) "
        "+ 1, 8) = 8 periods = 267 ms at 30 Hz); estimated from the slowest refill measured, 250 ms, which "
        "n_action_steps does not change: 8 ticks at 30 Hz; beyond the 15 actions its chunk holds: a chunk it was "
        "not trained with, and a longer chunk costs more to compute: measure it",
        # 30 + 46 x 2.2 = 131.2 ms <= 133.3; 47: 133.4
        "    --set diffusion.num_inference_steps=46: async g=0.5 holds it (4 x 33.3 ms = 133 ms at 30 Hz); estimated "
        "refill 131 ms from a denoising step 2.2 ms as --breakdown measured it, the rest of the slowest refill 30 ms",
        "    no diffusion.n_action_steps holds sync: each refill still runs within one period, whatever the chunk "
        "(a longer one makes refills rarer, not shorter)",
    ]


def test_steps_with_no_breakdown_are_the_refill_scaled_and_a_rest_too_long_holds_none():
    smolvla = {
        "chunk_size": 50,
        "inference_steps": 10,
        "policy_type": "smolvla",
        "set_fields": {"chunk_size": "chunk_size", "n_action_steps": "n_action_steps", "inference_steps": "num_steps"},
    }
    lines = what_would_hold(result("smolvla", [100.0, 100.0], 50, smolvla))
    assert (
        "    --set smolvla.num_steps=3: sync holds it (a period of 33.3 ms at 30 Hz); estimated refill 30 ms from "
        "the slowest refill, 100 ms for 10 steps, scaled with the steps: the most a step can save (--breakdown "
        "measures a step's cost)"
    ) in lines
    assert not any("n_action_steps=" in line for line in lines)  # async g=0.5 with 50 actions holds already
    # Diffusion whose rest (250 - 100 x 1 = 150 ms) is over the period whatever the steps
    slow = result("diffusion", [250.0] * 2, 8, DIFFUSION, breakdown(90.0, 10.0, 10.0))
    assert (
        "    no diffusion.num_inference_steps holds sync: a denoising step 1 ms as --breakdown measured it, the "
        "rest of the slowest refill 150 ms, already over 33.3 ms with one step"
    ) in what_would_hold(slow)


def test_act_from_an_older_file_gets_its_n_action_steps_within_its_chunk():
    """No policy_type or set_fields recorded: ACT's fields are known. 80 ms refills, 4 actions: d = 3;
    g=0.5 wants n >= 6 and floor(n / 2) >= 3: 6, inside the chunk of 100."""
    lines = what_would_hold(result("act", [80.0] * 3, 4, {"chunk_size": 100}))
    assert (
        "    --set act.n_action_steps=6: async g=0.5 holds it (min(floor(0.5 x 6) + 1, 3) = 3 periods = 100 ms at "
        "30 Hz); estimated from the slowest refill measured, 80 ms, which n_action_steps does not change: 3 ticks "
        "at 30 Hz"
    ) in lines
    assert knobs_of(result("noop", [1.0], 4, {"chunk_size": 4})) is None  # nothing of noop's to set
    old_diffusion = knobs_of(
        result("diffusion", [80.0], 32, {"chunk_size": 64, "inference_steps": 10, "n_obs_steps": 2})
    )
    assert (old_diffusion.fields, old_diffusion.max_executed, old_diffusion.chunk_multiple) == (
        {"n_action_steps": "n_action_steps", "chunk_size": "horizon", "inference_steps": "num_inference_steps"},
        63,
        8,
    )
    path = result("/ckpt/nu/my_act", [80.0], 4, {"chunk_size": 100})
    assert knobs_of(path) is None  # a checkpoint whose type the file does not record
    path.config["policy_type"] = "act"
    assert knobs_of(path).flag("n_action_steps", 6) == "--set act.n_action_steps=6"  # --set reaches it by its type


def test_the_settings_proposed_hold_in_the_paced_loop_and_the_next_ones_do_not():
    """The virtual clock's paced loops (as --simulate runs them) on the refills each setting implies."""
    slowest = 0.25
    d = delay_ticks(slowest, HZ)
    n = smallest_chunk(d, 0.5)
    assert (d, n) == (8, 16)

    def starved(chunk: int) -> int:
        costs = Costs("x", chunk, [0.0005], [slowest])
        return int(simulate_async(costs, HZ, 600, 0.5, "latest_only")["starved_ticks"])

    assert starved(n) == 0 and starved(n - 1) > 0
    assert async_budget_ticks(n, 0.5) >= d > async_budget_ticks(n - 1, 0.5)
    for ticks in (1, 4):  # sync, and async g=0.5 with 8 actions
        s, refill = most_steps(slowest, 100, 0.0022, HZ, ticks)
        more = refill + 0.0022
        if ticks == 1:

            def misses(refill_s: float) -> int:
                return int(simulate_sync(Costs("x", 8, [0.0005], [refill_s]), HZ, 600)["deadline_misses"])

            assert (s, misses(refill), misses(more) > 0) == (1, 0, True)
        else:

            def starves(refill_s: float) -> int:
                return int(
                    simulate_async(Costs("x", 8, [0.0005], [refill_s]), HZ, 600, 0.5, "latest_only")["starved_ticks"]
                )

            assert (s, starves(refill), starves(more) > 0) == (46, 0, True)


def test_a_live_realtime_run_gets_them_from_the_settings_it_measured():
    """`realtime` keeps each policy's settings (run.configs); its budget's what would hold reads them,
    and --simulate of its file too."""
    from policybench.control.simulate import from_live_ticks, live_budgets
    from policybench.results import RealtimeResult, RealtimeTick

    ticks = [
        RealtimeTick(
            k, REFILL if k % 4 == 0 else STEP, k * 100 / 3, k * 100 / 3, k * 100 / 3 + (80 if k % 4 == 0 else 0.5)
        )
        for k in range(12)
    ]
    live = RealtimeResult(
        "act", "sync", HZ, "measured", status=OK, ticks=ticks, summary={"chunk_length": 4, "refills_seen": 3}
    )
    config = {
        "chunk_size": 100,
        "n_action_steps": 4,
        "policy_type": "act",
        "set_fields": {"chunk_size": "chunk_size", "n_action_steps": "n_action_steps"},
    }
    (budget,) = live_budgets([live], {"act": config})
    assert budget.limits == [
        "no act.n_action_steps holds sync: each refill still runs within one period, whatever "
        "the chunk (a longer one makes refills rarer, not shorter)"
    ]
    assert live_budgets([live])[0].limits == []  # a file from before run.configs: the rate only
    (replayed,) = from_live_ticks(RunResults({}, {"configs": {"act": config}}, [], realtime=[live]))
    assert replayed.config == config and knobs_of(replayed) is not None
