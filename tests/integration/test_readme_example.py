"""The README's Python example, and the longer one of docs/library.md, run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run_example(doc: Path, heading: str, tmp_path, monkeypatch, capsys) -> str:
    text = doc.read_text()
    section = text[text.index(heading) :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, doc.name, "exec"), {})
    return capsys.readouterr().out


def test_the_readme_python_example_runs_as_written(tmp_path, monkeypatch, capsys):
    out = _run_example(ROOT / "README.md", "## From Python", tmp_path, monkeypatch, capsys)
    step_ms, refill_ms = (float(figure) for figure in out.split())  # ACT's step and refill medians
    assert step_ms > 0 and refill_ms > 0


def test_the_library_python_example_runs_as_written(tmp_path, monkeypatch, capsys):
    out = _run_example(ROOT / "docs" / "library.md", "# From Python", tmp_path, monkeypatch, capsys)
    assert "<Results on cpu" in out and "<Measurement act:" in out
    assert out.rstrip().endswith("False")
    assert (tmp_path / "act.json").exists()


@pytest.mark.slow
def test_the_library_checkpoint_example_runs_as_written_and_its_refusal_is_the_one_quoted(
    tmp_path, monkeypatch, capsys
):
    """docs/library.md's checkpoint run, on a small ACT (chunk 100) saved where its path says."""
    from lerobot.policies.factory import make_pre_post_processors

    from policybench import policies
    from policybench.profiles import PROFILES, customize_profile

    profile = customize_profile(PROFILES["so100"], cameras=1, image_size=(64, 80), state_dim=5, action_dim=3)
    small = {"chunk_size": 100, "n_action_steps": 100, "dim_model": 64, "n_encoder_layers": 1, "n_decoder_layers": 1}
    adapter = policies.build("act", profile, small, "cpu", seed=7)
    folder = tmp_path / "outputs" / "nu" / "my_act_checkpoint"
    adapter.policy.save_pretrained(folder)
    for processor in make_pre_post_processors(adapter.policy.config, dataset_stats=None):
        processor.save_pretrained(folder)
    out = _run_example(ROOT / "docs" / "library.md", "## Your own checkpoint", tmp_path, monkeypatch, capsys)
    assert out.splitlines() == ["['nu/my_act_checkpoint']", "outputs/nu/my_act_checkpoint 10"]
    text = (ROOT / "docs" / "library.md").read_text()
    quoted = " ".join(text[text.index("raises `ValueError`:\n") :].split("\n\n")[0].split())
    quoted = quoted[quoted.index('"') + 1 : quoted.index('" (the CLI')]
    import policybench

    with pytest.raises(ValueError) as info:
        policybench.run(
            policy_paths=["outputs/nu/my_act_checkpoint"], device="cpu", overrides={"act.n_action_steps": 200}
        )
    assert str(info.value) == quoted
