"""The policy types whose backbone, tokenizer or action tokenizer policybench writes locally
(offline_backbones.py): small configs build offline and refill; the architectures hold their
published sizes. Structure, never speed."""

from __future__ import annotations

import pytest
from small_configs import (
    TINY_EVO1,
    TINY_FLORENCE,
    small_pi_family,
    tiny_groot,
    tiny_internvl3,
    tiny_qwen2_5_vl,
    tiny_vla_jepa,
)

from policybench import policies
from policybench.measure.device import clock_for
from policybench.measure.loop import run_steady_state
from policybench.observations import synthetic_observation
from policybench.profiles import PROFILES
from policybench.samples import REFILL

pytestmark = pytest.mark.slow


def _registered(name: str) -> bool:
    from policybench.lerobot_adapter.registry import registered_policy_types

    return name in registered_policy_types()


def _written_for_lerobot_06(name: str) -> None:
    """Skip on LeRobot before 0.5: the offline X-VLA and GR00T N1.7 builds follow 0.6's classes
    (0.4.4's differ; not built for it yet)."""
    from policybench.lerobot_adapter.version import lerobot_version

    version = lerobot_version() or "0"
    if tuple(int(p) for p in version.split(".")[:2] if p.isdigit()) < (0, 5):
        pytest.skip(f"the offline {name} build is written for LeRobot 0.6; this is {version}")


def _measure(name, overrides, refills=2, warmup=0):
    if not _registered(name):
        pytest.skip(f"this LeRobot does not register {name}")
    profile = PROFILES["pusht"]
    adapter = policies.build(name, profile, overrides, "cpu")
    obs = synthetic_observation(adapter.input_specs(), "cpu", extra=adapter.extra_inputs(profile.task))
    loop = run_steady_state(adapter, obs, clock_for("cpu"), refills=refills, warmup=warmup, max_seconds=300)
    return adapter, loop


def _refill_indices(samples):
    return [s.i for s in samples if s.phase == REFILL]


def test_multi_task_dit_builds_on_the_local_clip_and_refills_every_n_action_steps():
    overrides = {
        "hidden_dim": 64,
        "num_layers": 1,
        "num_heads": 2,
        "num_inference_steps": 2,
        "horizon": 8,
        "n_action_steps": 4,
        "image_resize_shape": (224, 224),
    }  # CLIP takes 224x224, pusht has 96x96
    adapter, loop = _measure("multi_task_dit", overrides)
    encoder = adapter.policy.observation_encoder
    clip = sum(p.numel() for p in encoder.vision_encoder.parameters()) + sum(
        p.numel() for p in encoder.text_encoder.text_encoder.parameters()
    )
    assert clip == 85_799_424 + 63_165_952  # CLIPVisionModel + CLIPTextModel of ViT-B/16
    assert adapter.describe()["n_action_steps"] == 4 and adapter.describe()["inference_steps"] == 2
    assert _refill_indices(loop.samples) == [3, 7]


def test_the_local_clip_architecture_has_clips_published_parameter_counts():
    import torch
    from transformers import CLIPConfig, CLIPModel

    from policybench.policies.published import CLIP_VIT_B16, CLIP_VIT_B16_PARAMETERS, CLIP_VIT_B32_PARAMETERS

    for patch, expected in ((16, CLIP_VIT_B16_PARAMETERS), (32, CLIP_VIT_B32_PARAMETERS)):
        values = {**CLIP_VIT_B16.values, "vision_config": {**CLIP_VIT_B16.values["vision_config"], "patch_size": patch}}
        with torch.device("meta"):
            model = CLIPModel(CLIPConfig(**values))
        assert sum(p.numel() for p in model.parameters()) == expected


def test_xvla_builds_offline_and_refills_every_chunk():
    _written_for_lerobot_06("xvla")
    overrides = {
        "florence_config": TINY_FLORENCE,
        "hidden_size": 32,
        "depth": 1,
        "num_heads": 2,
        "num_denoising_steps": 2,
        "chunk_size": 4,
        "n_action_steps": 4,
        "max_len_seq": 256,
    }
    adapter, loop = _measure("xvla", overrides)
    assert adapter.describe()["inference_steps"] == 2 and adapter.describe()["n_action_steps"] == 4
    assert _refill_indices(loop.samples) == [3, 7]
    # the task went through the local BART-sized tokenizer: ids up to 50264 fit Florence-2's 51289 embeddings
    assert adapter.policy.model.vlm.get_input_embeddings().num_embeddings == 51289


def test_xvla_default_florence_is_florence_2_large():
    """X-VLA's VLM at its published size, counted on the meta device (no memory): DaViT and the BART
    encoder with Florence-2-large's dimensions, the decoder deleted as LeRobot deletes it."""
    _written_for_lerobot_06("xvla")
    import torch

    from policybench.lerobot_adapter.registry import config_class
    from policybench.policies.lerobot_policies import _offline_xvla

    if not _registered("xvla"):
        pytest.skip("this LeRobot does not register xvla")
    from transformers import Florence2Model

    cfg = config_class("xvla")(florence_config=_offline_xvla(PROFILES["so100"])["florence_config"])
    with torch.device("meta"):
        vlm = Florence2Model(cfg.get_florence_config())
    del vlm.language_model.decoder
    vision = sum(p.numel() for p in vlm.vision_tower.parameters())
    total = sum(p.numel() for p in vlm.parameters())
    assert 350e6 < vision < 370e6 and 560e6 < total < 600e6


def test_pi0_fast_decodes_with_the_local_fast_tokenizer_and_refills_every_n_action_steps(monkeypatch):
    """pi0_fast offline: the PaliGemma-sized tokenizer and the locally fitted FAST action tokenizer,
    no remote code; Gemma 2B replaced by one layer (about 1.5 B parameters, most of them the
    257152-token embedding and its untied head)."""
    if not _registered("pi0_fast") or not small_pi_family("pi0_fast", monkeypatch):
        pytest.skip("pi0_fast cannot be built with this LeRobot")
    overrides = {"max_decoding_steps": 3, "chunk_size": 4, "n_action_steps": 4}
    adapter, loop = _measure("pi0_fast", overrides)
    assert type(adapter.policy.action_tokenizer).__name__ == "PolicybenchFastActionTokenizer"
    assert adapter.describe()["n_action_steps"] == 4
    assert _refill_indices(loop.samples) == [3, 7]
    tokens = adapter.extra_inputs("pick up the cube")
    assert int(tokens["observation.language.attention_mask"].sum()) > 10  # "Task: ..., State: ...;" prompt


def test_groot_takes_its_preprocessors_inputs_and_refills_every_n_action_steps():
    """GR00T N1.7 offline at toy size: LeRobot's own GR00T preprocessor (chat template, Qwen3-VL tokens
    and image patches from the local processor stand-in) makes its inputs once; the queue refills every
    n_action_steps."""
    from policybench.policies.offline_vlm import cache_root

    if not _registered("groot") or policies.availability("groot"):
        pytest.skip("groot cannot be built with this LeRobot")
    base = tiny_groot(cache_root())
    adapter, loop = _measure("groot", {"base_model_path": base, "chunk_size": 4, "n_action_steps": 4})
    inputs = adapter.extra_inputs("pick up the cube")
    assert inputs["state"].shape[-1] == 132 and inputs["pixel_values"].shape[-1] == 3 * 2 * 16 * 16
    image_pad = int((inputs["input_ids"] == 151655).sum())
    assert image_pad == int(inputs["image_grid_thw"].prod(dim=-1).sum()) // 4  # merged 2x2 patches
    assert adapter.describe()["inference_steps"] == 4 and adapter.describe()["n_action_steps"] == 4
    assert _refill_indices(loop.samples) == [3, 7]


def test_groot_default_size_counts_3144_m_parameters():
    """GR00T N1.7 as LeRobot builds it from the local config, counted on the meta device."""
    _written_for_lerobot_06("groot")
    import torch

    if not _registered("groot"):
        pytest.skip("this LeRobot does not register groot")
    from lerobot.policies.groot.groot_n1_7 import GR00TN17, GR00TN17Config

    from policybench.policies.published import GR00T_N1_7

    with torch.device("meta"):
        model = GR00TN17(GR00TN17Config(**GR00T_N1_7.values), load_backbone_weights=False)
    assert round(sum(p.numel() for p in model.parameters()) / 1e6, 1) == 3144.0
    assert len(model.backbone.language_model.layers) == 16


def test_eo1_takes_its_preprocessors_inputs_and_refills_every_n_action_steps():
    """EO-1 offline at toy size: LeRobot's EO-1 preprocessor writes its conversation through the local
    Qwen2.5-VL processor (EO-1's seven tokens added to the Qwen vocabulary), once."""
    from policybench.policies.offline_vlm import cache_root

    if not _registered("eo1"):
        pytest.skip("this LeRobot does not register eo1")
    base = tiny_qwen2_5_vl(cache_root())
    overrides = {"vlm_base": base, "chunk_size": 4, "n_action_steps": 4, "num_denoise_steps": 2}
    adapter, loop = _measure("eo1", overrides)
    inputs = adapter.extra_inputs("pick up the cube")
    assert int((inputs["input_ids"] == inputs["action_token_id"]).sum()) == 4  # one placeholder per action
    assert int(inputs["state_token_id"]) >= 151665  # added after Qwen2.5's 151665 tokens
    assert adapter.describe()["inference_steps"] == 2 and adapter.describe()["n_action_steps"] == 4
    assert _refill_indices(loop.samples) == [3, 7]


def test_eo1_default_size_is_qwen2_5_vl_3b_and_its_action_head():
    """EO-1 at its default size counted on the meta device: Qwen2.5-VL-3B-Instruct (3,754.6 M, its hub
    page's 3.75 B) and the flow-matching head."""
    import torch

    if not _registered("eo1"):
        pytest.skip("this LeRobot does not register eo1")
    from lerobot.policies.eo1.modeling_eo1 import EO1VisionFlowMatchingModel
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    from policybench.lerobot_adapter.registry import config_class, features
    from policybench.policies.offline_backbones import qwen2_5_vl_3b_dir

    folder = str(qwen2_5_vl_3b_dir())
    inputs, outputs = features([("observation.image", "visual", (3, 96, 96)), ("observation.state", "state", (6,))], 6)
    cfg = config_class("eo1")(vlm_base=folder, input_features=inputs, output_features=outputs)
    with torch.device("meta"):
        vlm = Qwen2_5_VLForConditionalGeneration(Qwen2_5_VLConfig.from_pretrained(folder))
        assert sum(p.numel() for p in vlm.parameters()) == 3_754_622_976
        model = EO1VisionFlowMatchingModel(cfg, vlm)
    head = sum(p.numel() for p in model.parameters()) - 3_754_622_976
    assert 0 < head < 50e6


def _needs_wall_x_packages() -> None:
    import importlib.util

    missing = [m for m in ("peft", "torchdiffeq", "qwen_vl_utils") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"wall_x needs {', '.join(missing)} (pip install -e '.[wallx]')")


def test_wall_x_reads_the_task_from_its_batch_and_refills_every_n_action_steps():
    """WALL-OSS offline at toy size (the real vocabulary and action head): it writes its prompt and tokenizes it
    with the local processor inside every refill, the task handed in the batch."""
    from small_configs import tiny_wall_oss

    from policybench.policies.offline_vlm import cache_root

    if not _registered("wall_x"):
        pytest.skip("this LeRobot does not register wall_x")
    _needs_wall_x_packages()
    base = tiny_wall_oss(cache_root())
    adapter, loop = _measure("wall_x", {"pretrained_name_or_path": base, "chunk_size": 4, "n_action_steps": 4})
    assert adapter.describe()["inference_steps"] == 10 and adapter.describe()["n_action_steps"] == 4
    assert _refill_indices(loop.samples) == [3, 7]


def test_wall_x_default_size_is_within_one_percent_of_its_published_4_22_b():
    """WALL-OSS flow at its default size counted on the meta device as LeRobot builds it (its embeddings resized to
    the WALL-OSS tokenizer): 4,221.9 M, the model cards' 4.22 B."""
    import torch

    if not _registered("wall_x"):
        pytest.skip("this LeRobot does not register wall_x")
    _needs_wall_x_packages()
    from lerobot.policies.wall_x.modeling_wall_x import Qwen2_5_VLMoEForAction
    from transformers import AutoProcessor

    from policybench.policies.offline_backbones import wall_oss_flow_dir
    from policybench.policies.published import PUBLISHED_PARAMETERS

    folder = str(wall_oss_flow_dir())
    config = Qwen2_5_VLMoEForAction.config_class.from_pretrained(folder)
    config._attn_implementation = "eager"
    processor = AutoProcessor.from_pretrained(folder)
    with torch.device("meta"):
        model = Qwen2_5_VLMoEForAction(config, processor=processor)
        model.resize_token_embeddings(len(processor.tokenizer), mean_resizing=False)
    count = sum(p.numel() for p in model.parameters())
    assert count == 4_221_941_760
    published = PUBLISHED_PARAMETERS["wall_x"].parameters
    assert published is not None and abs(count - published) / published < 0.01


def test_evo1_reads_the_task_as_text_and_refills_every_n_action_steps():
    """Evo-1 offline at toy size: its InternVL3 tokenizes the task inside every refill (the local
    InternVL3-sized tokenizer, <IMG_CONTEXT> at 151667); the queue refills every n_action_steps."""
    from policybench.policies.offline_vlm import cache_root

    _written_for_lerobot_06("evo1")
    if not _registered("evo1"):
        pytest.skip("this LeRobot does not register evo1")
    adapter, loop = _measure("evo1", {**TINY_EVO1, "vlm_model_name": tiny_internvl3(cache_root())})
    assert adapter._task == PROFILES["pusht"].task
    assert adapter.policy.model.embedder.img_context_token_id == 151667
    assert adapter.describe()["inference_steps"] == 2 and adapter.describe()["n_action_steps"] == 4
    assert _refill_indices(loop.samples) == [3, 7]


def test_evo1_default_size_is_within_1_percent_of_its_published_077_b():
    """Evo-1 at its default size counted on the meta device: InternVL3-1B-hf as AutoModel builds it (802.3 M,
    no language head), cut to LeRobot's 14 language layers, and the flow-matching head."""
    _written_for_lerobot_06("evo1")
    import torch

    if not _registered("evo1"):
        pytest.skip("this LeRobot does not register evo1")
    from transformers import AutoConfig, AutoModel

    from policybench.lerobot_adapter.registry import config_class
    from policybench.policies.offline_backbones import internvl3_1b_dir
    from policybench.policies.published import PUBLISHED_PARAMETERS

    cfg = config_class("evo1")(vlm_model_name=str(internvl3_1b_dir()), device="cpu")
    with torch.device("meta"):
        vlm = AutoModel.from_config(AutoConfig.from_pretrained(cfg.vlm_model_name))
    assert sum(p.numel() for p in vlm.parameters()) == 802_293_120
    layers = len(vlm.language_model.layers)
    vlm.language_model.layers = torch.nn.ModuleList(vlm.language_model.layers[: cfg.vlm_num_layers])
    total = sum(p.numel() for p in vlm.parameters()) + _evo1_head_parameters(cfg)
    published = PUBLISHED_PARAMETERS["evo1"].parameters
    assert layers == 24 and cfg.vlm_num_layers == 14
    assert published and abs(total - published) / published < 0.01, total


def _evo1_head_parameters(cfg) -> int:
    import torch
    from lerobot.policies.evo1.flow_matching import FlowmatchingActionHead

    with torch.device("meta"):
        head = FlowmatchingActionHead(
            embed_dim=cfg.embed_dim,
            hidden_dim=cfg.hidden_dim,
            action_dim=cfg.chunk_size * cfg.max_action_dim,
            horizon=cfg.chunk_size,
            per_action_dim=cfg.max_action_dim,
            num_heads=cfg.num_heads,
            num_layers=cfg.num_layers,
            dropout=cfg.dropout,
            num_inference_timesteps=cfg.num_inference_timesteps,
            num_categories=cfg.num_categories,
            state_dim=cfg.max_state_dim,
            state_hidden_dim=cfg.state_hidden_dim,
        )
    return sum(p.numel() for p in head.parameters())


def test_vla_jepa_reads_the_task_as_text_and_refills_every_n_action_steps():
    """VLA-JEPA offline at toy size: its Qwen3-VL processor (the local stand-in) writes the prompt with the
    task and the action tokens inside every refill; the queue refills every n_action_steps."""
    from policybench.policies.offline_vlm import cache_root

    _written_for_lerobot_06("vla_jepa")
    if not _registered("vla_jepa"):
        pytest.skip("this LeRobot does not register vla_jepa")
    adapter, loop = _measure("vla_jepa", tiny_vla_jepa(cache_root()))
    tokenizer = adapter.policy.model.qwen.processor.tokenizer
    assert adapter.policy.model.embodied_action_token_id == len(tokenizer) - 1 > 151655  # added after Qwen's
    assert adapter.describe()["inference_steps"] == 2 and adapter.describe()["n_action_steps"] == 4
    assert _refill_indices(loop.samples) == [3, 7]


def test_vla_jepa_default_backbones_have_their_published_sizes():
    """VLA-JEPA's two backbones at their default size, counted on the meta device: Qwen3-VL-2B-Instruct
    (2,127.5 M, the '2B' of its name) and V-JEPA 2 ViT-L (its encoder the paper's 300 M ViT-L)."""
    _written_for_lerobot_06("vla_jepa")
    import torch
    from transformers import AutoConfig, AutoModel, Qwen3VLForConditionalGeneration

    from policybench.policies.offline_backbones import qwen3_vl_2b_dir, vjepa2_vitl_dir

    with torch.device("meta"):
        qwen = Qwen3VLForConditionalGeneration(AutoConfig.from_pretrained(qwen3_vl_2b_dir()))
        jepa = AutoModel.from_config(AutoConfig.from_pretrained(vjepa2_vitl_dir()))
    assert sum(p.numel() for p in qwen.parameters()) == 2_127_532_032
    encoder = sum(p.numel() for p in jepa.encoder.parameters())
    assert abs(encoder - 300e6) / 300e6 < 0.015 and sum(p.numel() for p in jepa.parameters()) == 325_971_328
