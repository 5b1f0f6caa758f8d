"""The local stand-ins for what LeRobot's policies read from the hub: no file of them asks for
remote code, the FAST action tokenizer is FAST, and the published values say where they come from."""

from __future__ import annotations

import json

import numpy as np
import pytest

from policybench.policies import offline_backbones, published
from policybench.policies.fast_tokenizer import (
    CLASS_NAME,
    PolicybenchFastActionTokenizer,
    registered,
    synthetic_chunks,
)
from policybench.lerobot_adapter.version import lerobot_at_least

# The stand-ins of issue 32 follow LeRobot 0.6 and transformers 5 (0.4.4's transformers refuses
# the locally built Qwen2.5-VL tokenizer); on LeRobot 0.4.4 they are not built yet.
pytestmark = pytest.mark.skipif(not lerobot_at_least(0, 5), reason="the offline stand-ins follow LeRobot 0.6")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """Every stand-in written into a fresh cache, once for the module."""
    folder = tmp_path_factory.mktemp("policybench-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POLICYBENCH_CACHE", str(folder))
        yield offline_backbones.stand_in_folders()


def test_no_file_of_the_local_cache_asks_for_remote_code(cache):
    assert set(cache) >= {
        "openai/clip-vit-base-patch16",
        "facebook/bart-large",
        "lerobot/fast-action-tokenizer",
        "HuggingFaceTB/SmolVLM2-500M-Video-Instruct",
        "google/paligemma-3b-pt-224",
        "OpenGVLab/InternVL3-1B-hf",
        "Qwen/Qwen3-VL-2B-Instruct",
        "facebook/vjepa2-vitl-fpc64-256",
    }
    for hub_id, folder in cache.items():
        files = [p for p in folder.rglob("*") if p.is_file()]
        assert files, hub_id
        assert not [p for p in files if p.suffix in (".py", ".pyc", ".so")], hub_id
        for path in files:
            if path.suffix == ".json":
                text = path.read_text()
                assert "auto_map" not in text and '"trust_remote_code": true' not in text, (hub_id, path.name)
        assert offline_backbones.remote_code_requests(folder) == [], hub_id


def test_a_folder_that_asks_for_code_is_not_a_stand_in(cache, tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYBENCH_CACHE", str(next(iter(cache.values())).parent))
    clip = cache["openai/clip-vit-base-patch16"]
    assert offline_backbones.is_stand_in(str(clip))
    assert not offline_backbones.is_stand_in(str(tmp_path)) and not offline_backbones.is_stand_in(None)
    (clip / "extra.json").write_text(json.dumps({"auto_map": {"AutoProcessor": "x.Y"}}))
    try:
        assert offline_backbones.remote_code_requests(clip) == ["extra.json: auto_map"]
        assert not offline_backbones.is_stand_in(str(clip))
    finally:
        (clip / "extra.json").unlink()


def test_the_clip_stand_in_holds_the_architecture_and_no_weights(cache):
    from safetensors import safe_open

    clip = cache["openai/clip-vit-base-patch16"]
    config = json.loads((clip / "config.json").read_text())
    assert config["vision_config"]["patch_size"] == 16 and config["text_config"]["vocab_size"] == 49408
    with safe_open(str(clip / "model.safetensors"), "pt") as f:
        assert list(f.keys()) == [] and "policybench" in f.metadata()
    assert "clip" in clip.name  # multi_task_dit's config checks its encoder names for "clip"


@pytest.mark.parametrize(
    ("hub_id", "size", "first", "last"),
    [
        ("openai/clip-vit-base-patch16", 49408, None, "<|endoftext|>"),
        ("facebook/bart-large", 50265, "<s>", "<mask>"),
    ],
)
def test_the_local_tokenizers_have_the_published_vocabulary(cache, hub_id, size, first, last):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(cache[hub_id])
    assert len(tokenizer) == size
    assert tokenizer.convert_ids_to_tokens(size - 1) == last
    if first:
        assert tokenizer.convert_ids_to_tokens([0, 1, 2, 3]) == ["<s>", "<pad>", "</s>", "<unk>"]
    ids = tokenizer("pick up the red cube")["input_ids"]
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id and 4 <= len(ids) <= 9


def test_the_evo1_and_vla_jepa_stand_ins_load_as_their_published_classes(cache):
    """What Evo-1 and VLA-JEPA load by name: InternVL3's tokenizer (151674 tokens, <IMG_CONTEXT> the config's
    image token), the Qwen3-VL processor and V-JEPA 2's video processor, each config the published one."""
    from transformers import AutoConfig, AutoProcessor, AutoTokenizer, AutoVideoProcessor

    internvl = cache["OpenGVLab/InternVL3-1B-hf"]
    tokenizer = AutoTokenizer.from_pretrained(internvl)
    assert len(tokenizer) == 151674 and tokenizer.convert_tokens_to_ids("<IMG_CONTEXT>") == 151667
    assert AutoConfig.from_pretrained(internvl).image_token_id == 151667
    processor = AutoProcessor.from_pretrained(cache["Qwen/Qwen3-VL-2B-Instruct"])
    assert type(processor).__name__ == "Qwen3VLProcessor"
    assert processor.tokenizer.convert_tokens_to_ids("<|image_pad|>") == 151655
    video = AutoVideoProcessor.from_pretrained(cache["facebook/vjepa2-vitl-fpc64-256"])
    assert type(video).__name__ == "VJEPA2VideoProcessor" and video.crop_size["height"] == 256


def test_fast_round_trips_a_chunk_within_its_quantization(cache):
    from transformers import AutoProcessor

    with registered():
        tokenizer = AutoProcessor.from_pretrained(str(cache["lerobot/fast-action-tokenizer"]), trust_remote_code=True)
    assert isinstance(tokenizer, PolicybenchFastActionTokenizer)
    assert len(tokenizer.bpe_tokenizer) == tokenizer.vocab_size == 1024 and tokenizer.scale == 10
    chunk = next(synthetic_chunks(1, seed=7))
    tokens = tokenizer(chunk)
    assert len(tokens) < chunk.size / 3  # compressed, as FAST is
    decoded = tokenizer.decode(tokens, *chunk.shape)
    assert np.abs(decoded - chunk).max() < 0.2  # rounding each DCT coefficient to 1/scale


def test_the_fast_class_is_findable_only_while_registered(cache):
    from transformers.models.auto.processing_auto import processor_class_from_name

    with registered():
        assert processor_class_from_name(CLASS_NAME) is PolicybenchFastActionTokenizer
    assert processor_class_from_name(CLASS_NAME) is None


def test_every_published_value_says_where_it_comes_from():
    for arch in published.ARCHITECTURES.values():
        assert arch.values and len(arch.source) > 40, arch.hub_id
    for name, count in published.PUBLISHED_PARAMETERS.items():
        assert len(count.source) > 40, name
        assert count.parameters is None or count.parameters > 0


def test_lingbot_va_is_refused_with_the_memory_it_needs(monkeypatch):
    import policybench.sizes as sizes
    from policybench.policies.lerobot_policies import FAMILIES, LINGBOT_VA_BUILD_BYTES

    monkeypatch.setattr(sizes, "available_memory", lambda: 8_000_000_000)
    problem = FAMILIES["lingbot_va"].availability_problem()
    assert problem is not None and "20.5 GB" in problem and "8.0 GB available" in problem
    monkeypatch.setattr(sizes, "available_memory", lambda: LINGBOT_VA_BUILD_BYTES + 1)
    assert FAMILIES["lingbot_va"].availability_problem() is None


def test_the_wall_oss_stand_in_has_its_action_tokens_and_twenty_degrees_of_freedom(cache):
    from transformers import AutoProcessor

    folder = cache["x-square-robot/wall-oss-flow"]
    tokenizer = AutoProcessor.from_pretrained(str(folder)).tokenizer
    assert len(tokenizer) == 151665 + 2 + 1024  # Qwen2.5-VL's, <|propri|> <|action|>, one per FAST token
    start = tokenizer.init_kwargs["action_token_start_index"]
    assert tokenizer.convert_ids_to_tokens(start) == "<|action_token_0|>"
    assert tokenizer.init_kwargs["action_token_vocab_size"] == 1024
    assert tokenizer.convert_tokens_to_ids("<|action|>") == 151666
    config = json.loads((folder / "config.json").read_text())
    assert config["mlp_moe"] and [e["intermediate_size"] for e in config["experts"]] == [11008, 2048]
    assert sum(config["dof_config"].values()) == sum(config["agent_pos_config"].values()) == 20  # LeRobot's pad


def test_fast_decodes_a_batch_as_the_published_processor_does(cache):
    from transformers import AutoProcessor

    with registered():
        tokenizer = AutoProcessor.from_pretrained(str(cache["lerobot/fast-action-tokenizer"]), trust_remote_code=True)
    chunk = next(synthetic_chunks(1, seed=3))
    decoded = tokenizer.decode([tokenizer(chunk), [5]], *chunk.shape)  # the second does not decode
    assert decoded.shape == (2, *chunk.shape)
    assert np.abs(decoded[0] - chunk).max() < 0.2 and not decoded[1].any()


def test_fastwam_is_refused_with_the_memory_it_needs_and_then_the_hub(monkeypatch):
    import policybench.sizes as sizes
    from policybench.policies.lerobot_policies import FAMILIES, FASTWAM_BUILD_BYTES

    monkeypatch.setattr(sizes, "available_memory", lambda: 8_000_000_000)
    problem = FAMILIES["fastwam"].availability_problem()
    assert problem is not None and "24.0 GB" in problem and "6,021 M" in problem
    monkeypatch.setattr(sizes, "available_memory", lambda: FASTWAM_BUILD_BYTES + 1)
    assert "from the hub" in (FAMILIES["fastwam"].availability_problem() or "")


def test_wall_x_is_refused_without_its_packages_or_its_memory(monkeypatch):
    import importlib.util

    import policybench.sizes as sizes
    from policybench.policies.lerobot_policies import FAMILIES, WALL_X_BUILD_BYTES

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "peft" else real_find_spec(name))
    monkeypatch.setattr(sizes, "available_memory", lambda: WALL_X_BUILD_BYTES + 1)
    assert "peft" in (FAMILIES["wall_x"].availability_problem() or "")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    assert FAMILIES["wall_x"].availability_problem() is None
    monkeypatch.setattr(sizes, "available_memory", lambda: 8_000_000_000)
    assert "17.6 GB" in (FAMILIES["wall_x"].availability_problem() or "")
