"""The snippet of docs/variants.md that loads an exported model and produces actions, run as
written on the model a small ACT's onnxruntime variant exported with --export. Structure and
equality with eager's chunk, never speed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from small_configs import TINY_ACT, TINY_DIFFUSION

from policybench import policies
from policybench.measure.policy import make_observation
from policybench.orchestrate.run import run_benchmark
from policybench.profiles import PROFILES
from policybench.results import OK
from policybench.settings import RunSettings, parse_override

pytestmark = pytest.mark.slow
DOC = Path(__file__).resolve().parents[2] / "docs" / "variants.md"


def snippet(name: str) -> str:
    """The Python block under ``<!-- snippet: name -->`` in docs/variants.md."""
    found = re.search(rf"<!-- snippet: {name} -->\n```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert found, f"no snippet '{name}' in {DOC}"
    return found.group(1)


def _exported(policy: str, overrides: list[str], folder) -> tuple[RunSettings, object, dict, object]:
    """A run of ``policy``'s onnxruntime variant saving its export in ``folder``; then the run's
    settings, the snippet's ``predict_chunk`` on the saved model, its manifest, and the policy
    built again with the run's weights."""
    pytest.importorskip("onnxruntime")
    cfg = RunSettings(
        policies=[policy],
        profile=PROFILES["pusht"],
        refills=2,
        warmup=1,
        variants=["eager", "onnxruntime"],
        overrides=[parse_override(o) for o in overrides],
        export_dir=str(folder),
    )
    rs = {r.variant: r for r in run_benchmark(cfg, "cpu", environment={}).results}
    assert rs["onnxruntime"].status == OK, rs["onnxruntime"].error
    namespace: dict = {}
    exec(compile(snippet("load-exported"), str(DOC), "exec"), namespace)  # noqa: S102 - our own docs
    manifest_path = folder / f"{policy}+onnxruntime.json"
    predict_chunk = namespace["load_exported"](str(manifest_path))
    adapter = policies.build(policy, cfg.profile, cfg.overrides_for(policy), "cpu", cfg.seed)  # the run's weights
    return cfg, predict_chunk, json.loads(manifest_path.read_text()), adapter


def test_the_docs_snippet_loads_the_exported_act_and_produces_eagers_chunk(tmp_path):
    cfg, predict_chunk, _, adapter = _exported("act", TINY_ACT, tmp_path)
    obs = make_observation(adapter, cfg, "cpu")
    batch = dict(obs)
    batch["observation.images"] = [batch[k] for k in adapter.policy.config.image_features]
    chunk = predict_chunk(batch)
    expected = adapter.predict_chunk(obs)
    assert chunk.shape == (1, *expected.shape) == (1, 4, cfg.profile.action_dim)
    torch.testing.assert_close(chunk[0], expected, rtol=1e-4, atol=1e-5)


def test_the_docs_snippet_runs_diffusions_whole_refill_on_noise_drawn_as_eager_draws_it(tmp_path):
    """Diffusion's exported refill takes its sampling noise as inputs: drawn as docs/variants.md
    says (the initial sample, then one draw per scheduler step, standard normals of the manifest's
    shapes), under eager's seed, the snippet's chunk is eager's."""
    cfg, predict_chunk, manifest, adapter = _exported("diffusion", TINY_DIFFUSION, tmp_path)
    shapes = {i["name"]: i["shape"] for i in manifest["inputs"]}
    config = adapter.policy.config
    obs = make_observation(adapter, cfg, "cpu")
    n = config.n_obs_steps  # a fresh policy's queues hold n copies of the first observation
    batch = {
        "observation.state": torch.stack([obs["observation.state"]] * n, dim=1),
        "observation.images": torch.stack([torch.stack([obs[k] for k in config.image_features], dim=1)] * n, dim=1),
    }
    assert list(batch["observation.images"].shape) == shapes["batch.observation.images"]
    torch.manual_seed(cfg.seed)
    noise = torch.randn(shapes["noise"])
    step_noise = torch.stack([torch.randn(shapes["step_noise"][1:]) for _ in range(shapes["step_noise"][0])])
    chunk = predict_chunk(batch, noise=noise, step_noise=step_noise)
    torch.manual_seed(cfg.seed)
    expected = adapter.predict_chunk(obs)
    assert chunk.shape == (1, *expected.shape) == (1, 4, cfg.profile.action_dim)
    torch.testing.assert_close(chunk[0], expected, rtol=1e-4, atol=1e-5)
