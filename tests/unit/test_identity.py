"""Identity: who a result is (policy, variant, point), its display name, the one rule that the
eager variant is the plain policy, and the places that group or look up results by it."""

import pytest

from policybench.api import Results
from policybench.control.simulate import run_budgets
from policybench.identity import Identity
from policybench.regression import compare_results
from policybench.report.details import eager_of
from policybench.report.fleet import build_fleet
from policybench.results import OK, PolicyResult, RealtimeResult, RunResults
from policybench.samples import REFILL, STEP, Sample


@pytest.mark.parametrize(
    ("identity", "name"),
    [
        (Identity("act"), "act"),
        (Identity("act", "eager"), "act"),
        (Identity("act", "bf16"), "act+bf16"),
        (Identity("act", None, (("cameras", "2"),)), "act[cameras=2]"),
        (
            Identity("act", "bf16", (("cameras", "2"), ("diffusion.num_inference_steps", "5"))),
            "act+bf16[cameras=2,num_inference_steps=5]",
        ),
    ],
)
def test_the_display_name(identity, name):
    assert identity.name == name


def test_no_variant_and_eager_are_the_plain_policy_and_one_identity():
    assert Identity("act").plain and Identity("act", "eager").plain and not Identity("act", "bf16").plain
    assert Identity("act", "eager") == Identity("act") and hash(Identity("act", "eager")) == hash(Identity("act"))
    assert Identity("act", "bf16") != Identity("act") and Identity("act") != Identity("pi0")
    assert Identity("act", "bf16").reference == Identity("act", "eager")


def test_a_point_is_the_same_whatever_the_order_of_its_axes():
    a = Identity.of("act", None, {"cameras": "2", "threads": "4"})
    b = Identity.of("act", "eager", {"threads": "4", "cameras": "2"})
    assert a == b and {a: 1}[b] == 1 and a.key == b.key
    assert a != Identity.of("act", None, {"cameras": "1", "threads": "4"})
    assert a.name == "act[cameras=2,threads=4]" and b.name == "act[threads=4,cameras=2]"  # shown as measured


def result(variant=None, refill_ms=40.0, **point) -> PolicyResult:
    samples = [Sample(i, REFILL if i % 2 == 0 else STEP, refill_ms if i % 2 == 0 else 1.0) for i in range(40)]
    return PolicyResult(
        "act", OK, samples=samples, variant=variant, point=point, config={"chunk_size": 2, "n_action_steps": 2}
    )


def test_a_result_and_its_realtime_runs_carry_their_identity():
    r = result("bf16", cameras="2")
    assert r.identity == Identity("act", "bf16", (("cameras", "2"),)) and r.name == r.identity.name
    run = RealtimeResult("act", "sync", 30.0, "simulated", variant="bf16", point={"cameras": "2"})
    assert run.identity == r.identity


def test_the_plain_result_is_the_reference_whether_it_says_eager_or_nothing():
    plain, bf16 = result(None), result("bf16", refill_ms=20.0)
    assert eager_of(bf16, [plain, bf16]) is plain
    assert eager_of(result("bf16", cameras="2"), [plain, bf16]) is None  # another point
    results = Results(RunResults({}, {}, [plain, bf16]))
    assert results["act", "eager"].raw is plain and results["act"].raw is plain
    assert results["act", "bf16"].raw is bf16


def test_files_that_name_the_plain_policy_differently_compare_as_one():
    old, new = RunResults({}, {}, [result(None)]), RunResults({}, {}, [result("eager", refill_ms=80.0)])
    assert [c.policy for c in compare_results(old, new) if c.phase == REFILL] == ["act"]
    fleet = build_fleet([("a.json", old), ("b.json", new)])
    assert len(fleet.rows) == 1 and all(r is not None for r in fleet.rows[0].results)


def test_budgets_are_of_the_plain_results_only():
    budgets = run_budgets(RunResults({}, {}, [result("eager"), result("bf16", refill_ms=20.0)]), hz=10.0)
    assert [b.run.identity for b in budgets] == [Identity("act")]
