"""One policy, one name (issue 30, 5): the name a table prints is a key the library accepts, for
checkpoints too (the last two parts of the folder given), and the whole path stays one."""

from __future__ import annotations

import dataclasses

import pytest
from fakes import ok_result, run_results

from policybench.api import Results
from policybench.report.table import render_table

CHECKPOINT = "/home/me/outputs/train/nu/my_act_checkpoint"


def results() -> Results:
    mine = dataclasses.replace(ok_result(CHECKPOINT, 4, 3, 20.0, 1.0, 50.0), source=CHECKPOINT)
    bf16 = dataclasses.replace(ok_result("act", 4, 3, 10.0, 1.0, 30.0), variant="bf16")
    return Results(run_results([ok_result("act", 4, 3, 12.0, 1.0, 30.0), bf16, mine]))


def test_the_name_a_table_prints_is_a_key():
    r = results()
    table = render_table(r.raw, None, width=200)
    assert "nu/my_act_checkpoint" in table and CHECKPOINT not in table
    assert r.shown() == ["ACT", "ACT+bf16", "nu/my_act_checkpoint"]
    for shown in r.shown():
        assert shown in table
    assert r["nu/my_act_checkpoint"].policy == CHECKPOINT  # as printed
    assert r[CHECKPOINT].policy == CHECKPOINT  # as given
    assert r["ACT"].refill.median_ms == r["act"].refill.median_ms == 12.0
    assert r["ACT+bf16"].variant == r["act+bf16"].variant == r["act", "bf16"].variant == "bf16"
    assert r["nu/my_act_checkpoint", "eager"].policy == CHECKPOINT


def test_a_name_two_checkpoints_share_says_so_and_a_missing_one_lists_the_keys():
    r = results()
    other = ok_result("/elsewhere/nu/my_act_checkpoint", 4, 3, 20.0, 1.0, 50.0)
    both = Results(dataclasses.replace(r.raw, results=[*r.raw.results, other]))
    with pytest.raises(
        KeyError,
        match=f"'nu/my_act_checkpoint' names 2 policies: {CHECKPOINT}, "
        "/elsewhere/nu/my_act_checkpoint; give the whole path",
    ):
        both["nu/my_act_checkpoint"]
    assert both["/elsewhere/nu/my_act_checkpoint"].policy == "/elsewhere/nu/my_act_checkpoint"
    with pytest.raises(
        KeyError,
        match="no policy 'my_act_checkpoint' in these results; they have ACT, ACT\\+bf16, nu/my_act_checkpoint",
    ):
        r["my_act_checkpoint"]
