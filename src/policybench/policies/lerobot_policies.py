"""Adapters for LeRobot's policy classes, built from their configs with random weights.

One ``Family`` per policy type says everything policybench knows about it: its name in tables,
which config settings make it build offline (and which ones --hub sets instead), what to report
as its chunk and its number of inference (denoising) steps, which inputs it takes, why it cannot
be built here (with the remedy), and which modules ``--variant compile`` compiles. Every type that the installed LeRobot
registers is offered: the ones not curated below get a generic family built from LeRobot's own
defaults. Nothing outside this module touches a LeRobot policy's private attributes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Collection

import torch

from policybench.lerobot_adapter import (
    ACTION,
    OBS_ENV_STATE,
    OBS_LANGUAGE_ATTENTION_MASK,
    OBS_LANGUAGE_TOKENS,
    OBS_STATE,
    registry,
)
from policybench.anatomy.spec import Component, forward_of
from policybench.lerobot_adapter.version import offline_build_problem, pi_problem
from policybench.observations import InputSpec
from policybench.policies.base import PolicyAdapter
from policybench.checkpoint_guard import CheckpointRefused, check_remote_code_config
from policybench.policies.whole_refill import diffusion_refill_placed, flow_refill_placed
from policybench.policies.hub import HUB_SETTINGS
from policybench.policies.offline_backbones import is_stand_in, quiet_loading
from policybench.policies.labels import label, short_label
from policybench.profiles import Profile


def find_queue(policy) -> deque | None:
    """The action queue a policy pops from, read from the built policy itself.

    ``_action_queue`` wins where a policy has both (pi0, pi05 and pi0_fast keep an always-empty
    ``_queues["action"]`` beside their real queue); a policy with neither computes on every call.
    ACT with temporal ensembling computes a chunk on every call: no queue, every call refills.
    """
    if getattr(getattr(policy, "config", None), "temporal_ensemble_coeff", None) is not None:
        return None
    queue = getattr(policy, "_action_queue", None)
    if isinstance(queue, deque):
        return queue
    queues = getattr(policy, "_queues", None)
    if isinstance(queues, dict) and isinstance(queues.get(ACTION), deque):
        return queues[ACTION]
    return None


def _first_field(cfg, names: tuple[str, ...]):
    for name in names:
        value = getattr(cfg, name, None)
        if value is not None:
            return value
    return None


INFERENCE_STEPS_FIELDS = (
    "num_inference_steps",
    "num_steps",
    "num_denoising_steps",
    "num_denoise_steps",
    "num_inference_timesteps",  # Evo-1, VLA-JEPA (GR00T names it too, unset by default)
)


def _inference_steps(cfg) -> int | None:
    """Denoising / flow-matching steps per refill, where the config has them."""
    if hasattr(cfg, "num_inference_steps") and hasattr(cfg, "num_train_timesteps"):  # DDPM/DDIM
        return cfg.num_inference_steps if cfg.num_inference_steps is not None else cfg.num_train_timesteps
    return _first_field(cfg, INFERENCE_STEPS_FIELDS)


def _steps_name(cfg) -> str | None:
    """The field of the denoising steps ``_inference_steps`` reads (DDPM's even while None)."""
    if hasattr(cfg, "num_inference_steps") and hasattr(cfg, "num_train_timesteps"):
        return "num_inference_steps"
    return _first_name(cfg, INFERENCE_STEPS_FIELDS)


def _first_name(cfg, names: tuple[str, ...]) -> str | None:
    """The first of ``names`` whose field the config sets (the one ``_first_field`` reads)."""
    return next((name for name in names if getattr(cfg, name, None) is not None), None)


def _offline_act(profile: Profile) -> dict[str, object]:
    # Otherwise torchvision downloads ImageNet weights for the ResNet18 backbone.
    return {"pretrained_backbone_weights": None}


def _offline_smolvla(profile: Profile) -> dict[str, object]:
    from policybench.policies.offline_vlm import smolvlm2_500m_dir

    return {"vlm_model_name": str(smolvlm2_500m_dir()), "load_vlm_weights": False}


def _offline_multi_task_dit(profile: Profile) -> dict[str, object]:
    # Its CLIP vision and text encoders from the local openai/clip-vit-base-patch16 stand-in.
    clip = _clip_dir()
    return {"vision_encoder_name": clip, "text_encoder_name": clip}


def _offline_xvla(profile: Profile) -> dict[str, object]:
    # Florence-2-large's architecture (X-VLA-0.9B's VLM), which a pretrained checkpoint's config holds.
    import copy

    from policybench.policies.published import FLORENCE2_LARGE

    # X-VLA's checkpoints take 256x256 images (lerobot/xvla-base's fine-tunes declare 3x256x256): a larger
    # camera image is resized with padding inside the policy, else its tokens overflow the action
    # transformer's 512 positions (max_len_seq).
    return {
        "florence_config": copy.deepcopy(FLORENCE2_LARGE.values),
        "tokenizer_name": _bart_tokenizer(),
        "resize_imgs_with_padding": XVLA_IMAGE_SIZE,
    }


def _offline_groot(profile: Profile) -> dict[str, object]:
    from policybench.policies.offline_backbones import groot_n1_7_dir

    return {"base_model_path": str(groot_n1_7_dir())}


def _preprocessed(
    policy, task: str, specs: list[InputSpec], keys: tuple[str, ...], local: dict[str, str]
) -> dict[str, torch.Tensor]:
    """The ``keys`` of what LeRobot's own preprocessor for the policy makes of one synthetic observation
    and the task, its steps that load from a hub id in ``local`` given the local folder instead; state and
    action normalized with statistics of [-1, 1]. Run once, as the task's tokenization is for the others
    (--pipeline would time it on every call). A number it makes (a token id) becomes a 0-d tensor."""
    from policybench.lerobot_adapter.processors import make_processors, point_steps_at, prepare_observation
    from policybench.observations import synthetic_raw_observation

    cfg = policy.config
    stats = {
        key: {name: torch.full(tuple(feature.shape), value) for name, value in _UNIT_STATS}
        for key, feature in (("observation.state", cfg.robot_state_feature), (ACTION, cfg.action_feature))
        if feature is not None
    }
    with quiet_loading():
        preprocessor, _ = make_processors(cfg, dataset_stats=stats)
        for hub_id, folder in local.items():
            point_steps_at(preprocessor, "model_name", hub_id, folder)
        obs = prepare_observation(synthetic_raw_observation(specs), torch.device(cfg.device), task)
        with torch.inference_mode():
            out = preprocessor(obs)
    return {k: v if isinstance(v, torch.Tensor) else torch.tensor(v) for k, v in out.items() if k in keys}


def _groot_inputs(policy, task: str, specs: list[InputSpec]) -> dict[str, torch.Tensor]:
    """GR00T's inputs from its preprocessor (chat template, Qwen3-VL tokens, 256x256 images cropped and
    patchified, the state padded to 132), its VLM processor read from the local stand-in."""
    from policybench.policies.offline_backbones import qwen3_vl_processor_dir
    from policybench.policies.published import QWEN3_VL_PROCESSOR

    return _preprocessed(policy, task, specs, _GROOT_KEYS, {QWEN3_VL_PROCESSOR.hub_id: str(qwen3_vl_processor_dir())})


def _offline_eo1(profile: Profile) -> dict[str, object]:
    from policybench.policies.offline_backbones import qwen2_5_vl_3b_dir

    return {"vlm_base": str(qwen2_5_vl_3b_dir())}  # its model and, through processor_name, its processor


def _eo1_inputs(policy, task: str, specs: list[InputSpec]) -> dict[str, torch.Tensor]:
    """EO-1's inputs from its preprocessor: the conversation (system prompt, images, state and action
    placeholders) through the local Qwen2.5-VL processor."""
    return _preprocessed(policy, task, specs, _EO1_KEYS, {})


def _offline_wall_x(profile: Profile) -> dict[str, object]:
    from policybench.policies.offline_backbones import fast_action_tokenizer_dir, wall_oss_flow_dir

    # Its model, processor and tokenizer from the local WALL-OSS stand-in; the FAST action tokenizer (read in
    # prediction_mode "fast" only) from the local one that pi0_fast uses.
    return {
        "pretrained_name_or_path": str(wall_oss_flow_dir()),
        "action_tokenizer_path": str(fast_action_tokenizer_dir()),
    }


@contextlib.contextmanager
def _built_in_bfloat16():
    """WALL-OSS built in bfloat16, the dtype LeRobot casts it to once built (to_bfloat16_for_selected_params,
    which then puts its norms and action head back in fp32), and its FAST tokenizer findable. Its fp32 build
    holds a first, discarded Qwen2.5-VL beside the model (WALL_X_BUILD_BYTES); the dtype is restored on exit."""
    from policybench.policies.fast_tokenizer import registered

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with registered():
            yield
    finally:
        torch.set_default_dtype(previous)


def _wall_x_steps(policy) -> int | None:
    """The Euler steps of WALL-OSS's flow: the default of its predict (LeRobot passes none)."""
    import inspect

    return inspect.signature(policy.model.predict).parameters["num_inference_timesteps"].default


def _offline_evo1(profile: Profile) -> dict[str, object]:
    from policybench.policies.offline_backbones import internvl3_1b_dir

    return {"vlm_model_name": str(internvl3_1b_dir())}  # its model (AutoModel) and its tokenizer


def _offline_vla_jepa(profile: Profile) -> dict[str, object]:
    from policybench.policies.offline_backbones import qwen3_vl_2b_dir, vjepa2_vitl_dir

    # Qwen3-VL-2B-Instruct (model and processor) and V-JEPA 2's ViT-L (model and video processor)
    return {"qwen_model_name": str(qwen3_vl_2b_dir()), "jepa_encoder_name": str(vjepa2_vitl_dir())}


_UNIT_STATS = (("min", -1.0), ("max", 1.0), ("mean", 0.0), ("std", 1.0), ("q01", -1.0), ("q99", 1.0))
_EO1_KEYS = (
    "input_ids",
    "attention_mask",
    "pixel_values",
    "image_grid_thw",
    "mm_token_type_ids",
    "state_token_id",
    "action_token_id",
)
_GROOT_KEYS = (
    "state",
    "state_mask",
    "action_mask",
    "embodiment_id",
    "input_ids",
    "attention_mask",
    "pixel_values",
    "image_grid_thw",
    "mm_token_type_ids",
)


XVLA_IMAGE_SIZE = (256, 256)
CLIP_IMAGE_SIDE = 224  # CLIP ViT-B/16's image_size (published.CLIP_VIT_B16)


def _offline_pi0_fast(profile: Profile) -> dict[str, object]:
    from policybench.policies.offline_backbones import fast_action_tokenizer_dir

    # With random weights the decoded tokens never start with "Action:", which LeRobot asserts
    # when validate_action_token_prefix is on: off, the refill decodes and detokenizes all the same.
    return {
        "text_tokenizer_name": _paligemma_tokenizer(),
        "action_tokenizer_name": str(fast_action_tokenizer_dir()),
        "validate_action_token_prefix": False,
    }


def _clip_dir() -> str:
    from policybench.policies.offline_backbones import clip_vit_b16_dir

    return str(clip_vit_b16_dir())


def _bart_tokenizer() -> str:
    from policybench.policies.offline_backbones import bart_large_tokenizer_dir

    return str(bart_large_tokenizer_dir())


def _task_line(cfg, task: str) -> str:
    """SmolVLA's and pi0's prompt: the task with a trailing newline."""
    return task if task.endswith("\n") else task + "\n"


def _pi0_fast_prompt(cfg, task: str) -> str:
    """pi0_fast's prompt as its preprocessor writes it: the task and the state discretized into 256
    bins (a state of zeros, bin 128, stands in for the robot's), then a newline."""
    state_dim = cfg.robot_state_feature.shape[0] if cfg.robot_state_feature is not None else 0
    state = " ".join(["128"] * state_dim)
    return f"Task: {task.strip().replace('_', ' ')}, State: {state};\n"


def _no_settings(profile: Profile) -> dict[str, object]:
    return {}


def _one_camera(name: str, square: bool = False) -> Callable[[Profile], str | None]:
    def check(profile: Profile) -> str | None:
        cams = profile.cameras
        if len(cams) > 1:
            return (
                f"{name} takes one camera at most and the profile '{profile.name}' has {len(cams)}: "
                "add --cameras 1, or use --profile pusht"
            )
        if square and cams and cams[0].height != cams[0].width:
            return (
                f"{name} takes a square image and the profile '{profile.name}' has "
                f"{cams[0].height}x{cams[0].width}: add --image-size {cams[0].height}x{cams[0].height}, "
                "or use --profile pusht"
            )
        return None

    return check


def _clip_crop(profile: Profile) -> str | None:
    """multi_task_dit center-crops 224x224 for its CLIP encoder; a smaller image leaves it uncropped, which
    CLIP refuses."""
    small = [c for c in profile.cameras if min(c.height, c.width) < CLIP_IMAGE_SIDE]
    if not small:
        return None
    return (
        f"multi_task_dit's CLIP encoder takes {CLIP_IMAGE_SIDE}x{CLIP_IMAGE_SIDE} crops and the profile "
        f"'{profile.name}' has {small[0].height}x{small[0].width} images: add --set "
        f"multi_task_dit.image_resize_shape=[{CLIP_IMAGE_SIDE},{CLIP_IMAGE_SIDE}], or --image-size with sides "
        f"of {CLIP_IMAGE_SIDE} or more"
    )


def _any_profile(profile: Profile) -> str | None:
    return None


def _paligemma_tokenizer() -> str:
    from policybench.policies.offline_vlm import paligemma_tokenizer_dir

    return str(paligemma_tokenizer_dir())


def _smolvlm_tokenizer() -> str:
    from policybench.policies.offline_vlm import smolvlm2_500m_dir

    return str(smolvlm2_500m_dir())


@dataclass(frozen=True)
class ExportTarget:
    """What ``--variant onnxruntime/openvino`` exports of a policy: one module, exported as LeRobot
    calls it during a refill; whatever calls it stays in PyTorch."""

    what: str  # the part exported and what stays in PyTorch, or why nothing is
    module: Callable[[Any], tuple[object, str]] | None = None  # policy -> (owner, attribute); None: not exported
    # "torchscript" (torch.onnx.export's tracer) or "dynamo" (torch.export, for transformers' vision
    # encoders, whose mask code reads shapes as numbers, which the tracer turns into tensors)
    exporter: str = "torchscript"
    # In place of ``module``: a context that reshapes the policy for its block so that the part
    # exported is one module call (Diffusion's whole refill, its noise made inputs), yielding where it is.
    staged: Callable[[Any], contextlib.AbstractContextManager[tuple[object, str]]] | None = None
    whole: bool = False  # the whole refill is the exported graph: none of --breakdown's components runs outside it

    @property
    def exports(self) -> bool:
        return self.module is not None or self.staged is not None

    def placed(self, policy: Any) -> contextlib.AbstractContextManager[tuple[object, str]]:
        """For the block: (owner, attribute) of the module exported, in place in ``policy``."""
        if self.staged is not None:
            return self.staged(policy)
        assert self.module is not None, "a target that exports nothing is never placed"
        return contextlib.nullcontext(self.module(policy))


@dataclass(frozen=True)
class Family:
    """What policybench knows about one LeRobot policy type."""

    name: str  # policybench's name and LeRobot's policy type (its table labels: labels.py)
    summary: str = ""
    offline_settings: Callable[[Profile], dict[str, object]] = _no_settings
    # The config fields that hold the chunk length and the actions executed per chunk.
    chunk_fields: tuple[str, ...] = ("chunk_size", "horizon", "action_chunk_size", "n_action_steps")
    steps_fields: tuple[str, ...] = ("n_action_steps", "action_chunk_size")
    tokenizer: Callable[[], str] | None = None  # folder of the tokenizer the task string goes through
    prompt: Callable[[Any, str], str] = _task_line  # (config, task) -> the text the tokenizer is given
    # (policy, task, input specs) -> what the model takes besides the profile's inputs, where a preprocessor
    # must make it (GR00T: its Qwen3-VL token ids and image patches), computed once like the task's tokens
    model_inputs: Callable[[Any, str, list[InputSpec]], dict[str, torch.Tensor]] | None = None
    # The policy reads the task as text from the batch's "task" (Evo-1, VLA-JEPA and WALL-OSS tokenize it
    # inside every refill): given with each call, as LeRobot's deployment loop gives it.
    task_in_batch: bool = False
    # policy -> denoising steps per refill, where the model's own config holds them rather than LeRobot's
    inference_steps_of: Callable[[Any], int | None] | None = None
    # Entered while the policy builds (pi0_fast: its local FAST tokenizer made findable by AutoProcessor).
    while_building: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext
    uses_env_state: bool = True
    profile_problem: Callable[[Profile], str | None] = _any_profile  # why a profile does not fit, and what to do
    profile_solved_by: tuple[str, ...] = ()  # config fields that, set with --set, make the profile fit
    availability_problem: Callable[[], str | None] = lambda: None  # why it cannot be built here, and what to do
    # Config fields that, set with --set (to a local copy of what the hub would give), remove that problem.
    problem_solved_by: tuple[str, ...] = ()
    # (config field, value) pairs set with --hub: what the hub gives in place of the local stand-ins.
    hub_settings: tuple[tuple[str, object], ...] = ()
    reported_fields: tuple[str, ...] = ()  # config fields that go into the results as they are
    # (config field naming the VLM, config field saying whether to download its weights): a checkpoint's
    # VLM is built without the download (its weights are in the checkpoint), offline from a local stand-in.
    vlm_fields: tuple[str, str] | None = None
    compile_targets: Callable[[Any], list[tuple[object, str]]] = lambda policy: []  # (owner, attribute)
    # --variant cudagraph: make factory calls default to the GPU during capture (ACT builds a tensor
    # on the CPU and copies it over, which capture forbids); False where a library builds CPU
    # tensors from Python numbers that must stay on the CPU (diffusers' DDPM scheduler).
    graph_default_device: bool = True
    export: ExportTarget = ExportTarget("no export path is known for this policy type")
    # --pipeline offline: why LeRobot's own processors for a policy built by name need the hub ("" = they do not)
    pipeline_needs_hub: str = ""
    curated: bool = True  # False: only known from LeRobot's registry, built from its defaults
    # Config fields naming a model or tokenizer that LeRobot loads with trust_remote_code=True
    # (running the Python files that come with it): refused without --trust-remote-code.
    remote_code_fields: tuple[str, ...] = ()
    # --breakdown: the refill's components, in the order a refill calls them; () = whole refill only
    components: tuple[Component, ...] = ()

    def title(self) -> str:
        return label(self.name)

    def abbreviation(self) -> str:
        return short_label(self.name)


def _needs(text: str) -> Callable[[], str | None]:
    return lambda: text


# WALL-OSS (4,222 M parameters) built in bfloat16: LeRobot builds a whole Qwen2.5-VL-3B first, then the model's own
# vision encoder and Mixture-of-Experts language model beside it before the first is dropped.
WALL_X_BUILD_BYTES = 17_600_000_000
WALL_X_BUILD_WHY = (
    "4,222 M parameters built in bfloat16, a first Qwen2.5-VL-3B beside them while LeRobot builds it: 17.6 GB peak "
    "RSS measured on this project's CPU machine with LeRobot 0.6.1; about twice that in fp32"
)
# FastWAM: its Wan2.2-TI2V-5B video expert (4,999.8 M) and action expert (1,020.9 M), counted on the meta device
# from LeRobot 0.6.1's FastWAMConfig defaults, each built in fp32 before LeRobot casts it to bfloat16 (the video
# expert alone 20.0 GB), then the UMT5-XXL text encoder (about 5.7 B) loaded in bfloat16 beside them: an estimate.
FASTWAM_BUILD_BYTES = 24_000_000_000
FASTWAM_BUILD_WHY = (
    "6,021 M parameters of video and action experts, the 5.0 B video expert built in fp32 (20.0 GB) before LeRobot "
    "casts it to bfloat16, then a UMT5-XXL text encoder of about 5.7 B in bfloat16 beside them: an estimate from "
    "LeRobot 0.6.1's FastWAMConfig defaults, not measured"
)
LINGBOT_VA_BUILD_BYTES = 20_500_000_000  # peak RSS while it builds (LeRobot 0.6.1, this project's CPU machine)


def _needs_memory(name: str, needed: int, why: str) -> Callable[[], str | None]:
    """The reason a type is refused before it builds: the memory it needs is more than is free now."""

    def problem() -> str | None:
        from policybench.sizes import available_memory

        free = available_memory()
        if free is None or free >= needed:
            return None
        return (
            f"needs about {needed / 1e9:.1f} GB of memory to build ({why}); this machine has "
            f"{free / 1e9:.1f} GB available now: run it on a machine with more memory free"
        )

    return problem


def _first_problem(*checks: Callable[[], str | None]) -> Callable[[], str | None]:
    """The first of ``checks``' problems, or None."""
    return lambda: next((p for p in (check() for check in checks) if p), None)


def _needs_modules(modules: tuple[str, ...], extra: str) -> Callable[[], str | None]:
    """The reason a type cannot build here: packages LeRobot requires for it are missing."""

    def problem() -> str | None:
        import importlib.util

        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        if not missing:
            return None
        return f"needs the Python packages {', '.join(missing)}, which are not installed: pip install -e '.[{extra}]'"

    return problem


def _needs_module(module: str, package: str, extra: str) -> Callable[[], str | None]:
    """The reason a type cannot run here: a package it imports lazily, at its first inference, is missing."""

    def problem() -> str | None:
        import importlib.util

        if importlib.util.find_spec(module) is not None:
            return None
        return (
            f"needs the Python package '{package}' at its first inference, which is not installed: "
            f"pip install -e '.[{extra}]'"
        )

    return problem


def _needs_hub(name: str, config_field: str, what: str) -> Callable[[], str | None]:
    """The reason a type cannot be built offline: a model its config names is read from the hub."""

    def problem() -> str | None:
        cls = registry.config_class(name)
        try:
            model = getattr(cls(), config_field, None)
        except Exception:  # noqa: BLE001 - a config that needs features to be built
            model = getattr(cls, config_field, None)
        return (
            f"needs {what} from the hub while it builds ({model or 'a hub model'}, config field "
            f"{config_field}): run with --hub once the hub is reachable (weights stay random), or "
            "use --policy-path with a saved checkpoint"
        )

    return problem


# variants/runtimes.py exports one module that a refill calls the same way every time. SmolVLA's whole
# refill (sample_actions: vision encoder, the prefix pass into a KV cache, the denoising steps reading it)
# is one call once its initial noise is an input (whole_refill.py): the dynamo exporter runs the cache's
# Python and keeps its tensors, so the graph holds a static cache. pi0's and pi0.5's refill would go the
# same way; at 3.5 B parameters its export is not tried here, and their vision encoder, called once per
# camera, is what is exported of them.
_VLA_REST = (
    "the language model's prefix pass and the denoising steps stay in PyTorch (their module is called "
    "two ways, with a KV cache it changes in place)"
)
_SMOLVLA_EXPORT = ExportTarget(
    "the whole refill as one graph: the SigLIP vision encoder, the language model's prefix pass into "
    "its KV cache and every denoising step of the action expert (unrolled); the initial noise is drawn "
    "in PyTorch, as eager draws it, and given as an input",
    staged=flow_refill_placed,
    exporter="dynamo",
    whole=True,
)
_PI_EXPORT = ExportTarget(
    f"the SigLIP vision tower, once per camera; PaliGemma's projector, {_VLA_REST}",
    lambda p: (p.model.paligemma_with_expert.paligemma.model, "vision_tower"),
    exporter="dynamo",
)


# --breakdown's components (anatomy.Component), the same in LeRobot 0.4.4 and 0.6.1. ACT and
# Diffusion: what their model calls; the VLAs (SmolVLA, pi0, pi05) share one shape, their
# VLM-with-expert module named differently: its forward is the prefix pass when called outside a
# denoising step (inside one it is the step's own, KV cache and all).
_ACT_PARTS = (
    Component("backbone", lambda p: [forward_of(p.model.backbone)], "per camera"),
    Component("transformer encoder", lambda p: [forward_of(p.model.encoder)]),
    Component("transformer decoder", lambda p: [forward_of(p.model.decoder)]),
)
_DIFFUSION_PARTS = (
    Component("observation encoder", lambda p: [(p.diffusion, "_prepare_global_conditioning")]),
    Component("UNet", lambda p: [forward_of(p.diffusion.unet)], "per step"),
    Component("scheduler step", lambda p: [(p.diffusion.noise_scheduler, "step")], "per step"),
)
_VQBET_PARTS = (
    Component("image encoder", lambda p: [forward_of(p.vqbet.rgb_encoder)]),
    Component("GPT", lambda p: [forward_of(p.vqbet.policy)]),
    Component("action head", lambda p: [forward_of(p.vqbet.action_head)]),
)


_MULTI_TASK_DIT_PARTS = (
    Component("CLIP vision encoder", lambda p: [forward_of(p.observation_encoder.vision_encoder)]),
    Component("CLIP text encoder", lambda p: [forward_of(p.observation_encoder.text_encoder)]),
    Component("diffusion transformer", lambda p: [forward_of(p.noise_predictor)], "per step"),
)
_XVLA_PARTS = (
    Component("vision encoder (DaViT)", lambda p: [(p.model.vlm, "get_image_features")]),
    Component("language encoder (BART)", lambda p: [forward_of(p.model.vlm.language_model.encoder)]),
    Component("action transformer", lambda p: [forward_of(p.model.transformer)], "per step"),
)
_PI0_FAST_PARTS = (
    Component("vision encoder", lambda p: [(p.model.paligemma_with_expert, "embed_image")], "per camera"),
    Component(
        "language model (prefix, then one token per step)", lambda p: [forward_of(p.model.paligemma_with_expert)]
    ),
    Component("language head", lambda p: [forward_of(p.model.paligemma_with_expert.paligemma.lm_head)]),
    Component("detokenize (FAST)", lambda p: [(p, "detokenize_actions")]),
)


_GROOT_PARTS = (
    Component("backbone (Qwen3-VL, 16 layers)", lambda p: [forward_of(p._groot_model.backbone)]),
    Component("action head DiT", lambda p: [forward_of(p._groot_model.action_head.model)], "per step"),
)


_EO1_PARTS = (
    Component("vision encoder (Qwen2.5-VL)", lambda p: [forward_of(p.model.vlm_backbone.model.visual)]),
    Component("language model", lambda p: [forward_of(p.model.vlm_backbone.model.language_model)], outermost=True),
    Component("action projection", lambda p: [forward_of(p.model.action_out_proj)], "per step"),
)


_WALL_X_PARTS = (
    Component("vision encoder (Qwen2.5-VL)", lambda p: [forward_of(p.model.visual)]),
    Component("language model with action expert (whole prompt)", lambda p: [forward_of(p.model.model)], "per step"),
    Component("action head", lambda p: [(p.model.action_preprocessor, "step")], "per step"),
)

_EVO1_PARTS = (
    Component("vision encoder (InternViT-300M)", lambda p: [forward_of(p.model.embedder.model.vision_tower)]),
    Component(
        "language model (Qwen2.5-0.5B, 14 layers)", lambda p: [forward_of(p.model.embedder.model.language_model)]
    ),
    Component("flow-matching action head (all steps)", lambda p: [(p.model.action_head, "get_action")]),
)
_VLA_JEPA_PARTS = (
    Component("Qwen3-VL processor (chat template, image patches)", lambda p: [(p.model.qwen, "build_inputs")]),
    Component("vision encoder (Qwen3-VL)", lambda p: [forward_of(p.model.qwen.model.model.visual)]),
    Component("language model (Qwen3-VL 2B)", lambda p: [forward_of(p.model.qwen.model.model.language_model)]),
    Component("action DiT", lambda p: [forward_of(p.model.action_model.model)], "per step"),
)


def _fast_registered() -> contextlib.AbstractContextManager:
    from policybench.policies.fast_tokenizer import registered

    return registered()


def _vla_parts(vlm: str) -> tuple[Component, ...]:
    """SmolVLA's and pi0's refill: ``vlm`` names their VLM-with-expert module."""
    return (
        Component("vision encoder", lambda p: [(getattr(p.model, vlm), "embed_image")], "per camera"),
        Component("language embedding", lambda p: [(getattr(p.model, vlm), "embed_language_tokens")]),
        Component("prefix forward (VLM)", lambda p: [forward_of(getattr(p.model, vlm))], outermost=True),
        Component("denoising step", lambda p: [(p.model, "denoise_step")], "per step"),
        Component("action projection", lambda p: [forward_of(p.model.action_out_proj)], "per step"),
    )


_PI_PIPELINE = (
    "--pipeline needs the PaliGemma tokenizer that LeRobot's processor for this policy loads from the hub "
    "(google/paligemma-3b-pt-224): add --hub, or use --policy-path with a saved checkpoint, whose "
    "processors policybench runs offline"
)

_EO1_PIPELINE = (
    "--pipeline needs EO-1's normalization statistics, which a checkpoint holds: use --policy-path with a saved "
    "checkpoint"
)
_WALL_X_PIPELINE = (
    "--pipeline needs WALL-OSS's normalization statistics, which a checkpoint holds: use --policy-path with a saved "
    "checkpoint"
)
_GROOT_PIPELINE = (
    "--pipeline needs GR00T's own processors, which read its Qwen3-VL processor (nvidia/Cosmos-Reason2-2B) and "
    "the normalization statistics of a checkpoint: use --policy-path with a saved checkpoint and --hub"
)
_PI_FAST_PIPELINE = (
    "--pipeline needs pi0_fast's own processors, which load the PaliGemma tokenizer and the FAST action tokenizer "
    "(lerobot/fast-action-tokenizer, with trust_remote_code) from the hub: use --policy-path with a saved "
    "checkpoint and --hub --trust-remote-code"
)

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "act",
            summary="Action Chunking Transformer",
            offline_settings=_offline_act,
            reported_fields=("temporal_ensemble_coeff",),
            components=_ACT_PARTS,
            compile_targets=lambda p: [(p, "model")],
            export=ExportTarget(
                "the whole refill: ACT's model forward, observation in, chunk out",
                lambda p: (p, "model"),
                whole=True,
            ),
        ),
        Family(
            "smolvla",
            summary="SmolVLA vision-language-action (SmolVLM2-500M architecture, offline)",
            offline_settings=_offline_smolvla,
            tokenizer=_smolvlm_tokenizer,
            uses_env_state=False,
            hub_settings=HUB_SETTINGS["smolvla"],
            vlm_fields=("vlm_model_name", "load_vlm_weights"),
            compile_targets=lambda p: [(p.model, "denoise_step"), (p.model, "embed_prefix")],
            components=_vla_parts("vlm_with_expert"),
            export=_SMOLVLA_EXPORT,
        ),
        Family(
            "diffusion",
            summary="Diffusion Policy (DDPM; 100 denoising steps by default)",
            offline_settings=_offline_act,
            compile_targets=lambda p: [(p.diffusion, "unet")],
            graph_default_device=False,
            components=_DIFFUSION_PARTS,
            export=ExportTarget(
                "the whole refill as one graph: the observation encoder and every denoising step "
                "(UNet and scheduler, unrolled); the sampling noise is drawn in PyTorch, as eager "
                "draws it, and given as inputs",
                staged=diffusion_refill_placed,
                whole=True,
            ),
        ),
        Family(
            "pi0",
            summary="pi0 flow-matching VLA (PaliGemma 3B + Gemma 300M expert, offline)",
            tokenizer=_paligemma_tokenizer,
            uses_env_state=False,
            availability_problem=pi_problem,
            export=_PI_EXPORT,
            pipeline_needs_hub=_PI_PIPELINE,
            components=_vla_parts("paligemma_with_expert"),
        ),
        Family(
            "pi05",
            summary="pi0.5 flow-matching VLA (PaliGemma 3B + Gemma 300M expert, offline)",
            tokenizer=_paligemma_tokenizer,
            uses_env_state=False,
            availability_problem=pi_problem,
            export=_PI_EXPORT,
            pipeline_needs_hub=_PI_PIPELINE,
            components=_vla_parts("paligemma_with_expert"),
        ),
        Family(
            "pi0_fast",
            summary=(
                "pi0-FAST: PaliGemma 3B decoding FAST action tokens (offline; random weights "
                "decode all max_decoding_steps tokens)"
            ),
            offline_settings=_offline_pi0_fast,
            tokenizer=_paligemma_tokenizer,
            prompt=_pi0_fast_prompt,
            uses_env_state=False,
            remote_code_fields=("action_tokenizer_name", "text_tokenizer_name"),
            availability_problem=pi_problem,
            while_building=_fast_registered,
            export=_PI_EXPORT,
            pipeline_needs_hub=_PI_FAST_PIPELINE,
            components=_PI0_FAST_PARTS,
        ),
        Family(
            "vqbet",
            summary="Vector-quantized Behavior Transformer (one camera)",
            offline_settings=_offline_act,
            profile_problem=_one_camera("vqbet"),
            components=_VQBET_PARTS,
        ),
        Family(
            "tdmpc",
            summary="TD-MPC (one square camera at most)",
            chunk_fields=("horizon",),
            profile_problem=_one_camera("tdmpc", square=True),
        ),
        Family(
            "gaussian_actor",
            summary="Gaussian actor (SAC's policy; no queue: every call computes)",
            remote_code_fields=("vision_encoder_name",),
        ),
        Family(
            "groot",
            summary="NVIDIA GR00T N1.7 3B (Cosmos-Reason2-2B backbone, offline)",
            offline_settings=_offline_groot,
            model_inputs=_groot_inputs,
            uses_env_state=False,
            availability_problem=_first_problem(
                lambda: offline_build_problem("GR00T N1.7"), _needs_module("tree", "dm-tree", "groot")
            ),
            inference_steps_of=lambda p: p._groot_model.action_head.num_inference_timesteps,
            remote_code_fields=("base_model_path",),
            components=_GROOT_PARTS,
            pipeline_needs_hub=_GROOT_PIPELINE,
        ),
        Family(
            "xvla",
            summary="X-VLA-0.9B (Florence-2-large architecture, offline)",
            offline_settings=_offline_xvla,
            availability_problem=lambda: offline_build_problem("X-VLA"),
            tokenizer=_bart_tokenizer,
            uses_env_state=False,
            components=_XVLA_PARTS,
            compile_targets=lambda p: [(p.model, "transformer")],
        ),
        Family(
            "multi_task_dit",
            summary="multi-task diffusion transformer (CLIP ViT-B/16 encoders, offline)",
            offline_settings=_offline_multi_task_dit,
            tokenizer=_clip_dir,
            uses_env_state=False,
            profile_problem=_clip_crop,
            profile_solved_by=("image_resize_shape",),
            graph_default_device=False,
            components=_MULTI_TASK_DIT_PARTS,
            compile_targets=lambda p: [(p, "noise_predictor")],
        ),
        Family(
            "eo1",
            summary="EO-1 (Qwen2.5-VL-3B-Instruct architecture, offline)",
            offline_settings=_offline_eo1,
            model_inputs=_eo1_inputs,
            uses_env_state=False,
            pipeline_needs_hub=_EO1_PIPELINE,
            components=_EO1_PARTS,
        ),
        Family(
            "evo1",
            summary="Evo-1 (InternVL3-1B architecture, 14 language layers, offline)",
            offline_settings=_offline_evo1,
            task_in_batch=True,
            uses_env_state=False,
            inference_steps_of=lambda p: p.config.num_inference_timesteps,
            components=_EVO1_PARTS,
        ),
        Family(
            "vla_jepa",
            summary="VLA-JEPA (Qwen3-VL-2B-Instruct and V-JEPA 2 ViT-L architectures, offline)",
            offline_settings=_offline_vla_jepa,
            task_in_batch=True,
            uses_env_state=False,
            inference_steps_of=lambda p: p.config.num_inference_timesteps,
            components=_VLA_JEPA_PARTS,
        ),
        Family(
            "molmoact2",
            summary="MolmoAct2",
            curated=False,
            availability_problem=_needs_hub("molmoact2", "checkpoint_path", "its model"),
        ),
        Family(
            "wall_x",
            summary="WALL-OSS flow (Qwen2.5-VL-3B and an action expert, offline; built in bfloat16 as LeRobot runs it)",
            offline_settings=_offline_wall_x,
            task_in_batch=True,
            uses_env_state=False,
            inference_steps_of=_wall_x_steps,
            while_building=_built_in_bfloat16,
            remote_code_fields=("pretrained_name_or_path", "action_tokenizer_path"),
            availability_problem=_first_problem(
                lambda: offline_build_problem("WALL-OSS"),
                _needs_modules(("peft", "torchdiffeq", "qwen_vl_utils"), "wallx"),
                _needs_memory("wall_x", WALL_X_BUILD_BYTES, WALL_X_BUILD_WHY),
            ),
            problem_solved_by=("pretrained_name_or_path",),  # another (smaller) local WALL-OSS folder
            pipeline_needs_hub=_WALL_X_PIPELINE,
            components=_WALL_X_PARTS,
        ),
        Family(
            "fastwam",
            summary="FastWAM (Wan2.2 video model)",
            curated=False,
            availability_problem=_first_problem(
                _needs_memory("fastwam", FASTWAM_BUILD_BYTES, FASTWAM_BUILD_WHY),
                _needs_hub("fastwam", "text_encoder_model_id", "its Wan2.2 VAE and UMT5 text encoder"),
            ),
        ),
        Family(
            "sac",
            summary="Soft Actor-Critic's actor (LeRobot 0.4; gaussian_actor from 0.5)",
            curated=False,
            remote_code_fields=("vision_encoder_name",),
        ),
        *(
            Family(
                name,
                curated=False,
                summary="a reward model, not a control policy",
                availability_problem=_needs(
                    "a reward model for RL training: it computes rewards, not actions, "
                    "so it has no control step to time"
                ),
            )
            for name in ("reward_classifier", "sarm")
        ),
        Family(
            "lingbot_va",
            curated=False,
            summary=(
                "LingBot-VA (Wan2.2 video-action model, 5,089 M parameters): refused where the memory to build it is "
                "not free; its VAE and text encoder come from the hub at the first inference"
            ),
            availability_problem=_needs_memory(
                "lingbot_va",
                LINGBOT_VA_BUILD_BYTES,
                (
                    "5,089 M parameters, built in fp32 before LeRobot casts them to bfloat16: 20.5 GB peak RSS "
                    "measured on this project's CPU machine with LeRobot 0.6.1"
                ),
            ),
        ),
    )
}


def family(name: str) -> Family:
    """The curated family, or a generic one for a type known only from LeRobot's registry."""
    return FAMILIES.get(name) or Family(
        name,
        summary="registered by LeRobot; built from its default config (not tried by policybench)",
        curated=False,
    )


def registered_types() -> list[str]:
    """Every policy type the installed LeRobot registers: the curated ones first, in their order."""
    registered = registry.registered_policy_types()
    return [n for n in FAMILIES if n in registered] + sorted(set(registered) - set(FAMILIES))


class LeRobotPolicy(PolicyAdapter):
    # Where its weights come from, as accuracy figures must say: "random" (built from a name),
    # "checkpoint" (--policy-path), "given" (an object the caller built: unknown)
    weights = "random"

    def __init__(self, family: Family, policy, specs: list[InputSpec]):
        self.name = family.name
        self.family = family
        self.policy = policy
        self._specs = specs
        self._task = ""  # the task a policy that reads it as text is given (task_in_batch), set by extra_inputs

    def reset(self) -> None:
        self.policy.reset()

    def select_action(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        # As LeRobot's own deployment loop (predict_action) calls it, the task with it where the policy reads it.
        if self.family.task_in_batch and "task" not in obs:
            obs = {**obs, "task": [self._task]}  # type: ignore[dict-item]
        with torch.inference_mode():
            return self.policy.select_action(obs)

    def queued_actions(self) -> int:
        queue = find_queue(self.policy)
        return 0 if queue is None else len(queue)

    def predict_chunk(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """A fresh chunk through the policy's own select_action: reset, one refill, then drain
        the queue it filled. Shape (n_action_steps, action_dim)."""
        self.policy.reset()
        first = self.select_action(obs)
        queue = find_queue(self.policy)
        rest = list(queue) if queue is not None else []
        if queue is not None:
            queue.clear()
        return torch.cat([first, *rest], dim=0)

    def queue_contents(self) -> list[torch.Tensor]:
        """The actions left in the queue (for a CUDA graph to restore after each replay)."""
        queue = find_queue(self.policy)
        return [] if queue is None else list(queue)

    def refill_queue(self, actions: list[torch.Tensor]) -> None:
        queue = find_queue(self.policy)
        if queue is not None:
            queue.clear()
            queue.extend(actions)

    def input_specs(self) -> list[InputSpec]:
        return list(self._specs)

    def extra_inputs(self, task: str) -> dict[str, torch.Tensor]:
        if self.family.task_in_batch:
            self._task = task
        if self.family.model_inputs is not None:
            return self.family.model_inputs(self.policy, task, self._specs)
        if self.family.tokenizer is None:
            return {}
        cfg = self.policy.config
        return _tokenize_task(self.family.tokenizer(), cfg, self.family.prompt(cfg, task))

    def describe(self) -> dict[str, object]:
        cfg = self.policy.config
        info: dict[str, object] = {
            "chunk_size": _first_field(cfg, self.family.chunk_fields),
            "n_action_steps": _first_field(cfg, self.family.steps_fields),
            "inference_steps": (
                self.family.inference_steps_of(self.policy) if self.family.inference_steps_of else _inference_steps(cfg)
            ),
            "n_obs_steps": getattr(cfg, "n_obs_steps", None),
        }
        fields = {
            "chunk_size": _first_name(cfg, self.family.chunk_fields),
            "n_action_steps": _first_name(cfg, self.family.steps_fields),
            "inference_steps": _steps_name(cfg),
        }
        if find_queue(self.policy) is None:
            info["n_action_steps"] = 1  # no queue: every call computes
            fields.pop("n_action_steps")  # nor a chunk to set
        # what --set names them by (the budget's "what would hold"), and the type that prefixes them
        info["policy_type"] = self.family.name
        info["set_fields"] = {k: v for k, v in fields.items() if v is not None}
        if getattr(cfg, "down_dims", None):  # Diffusion's U-Net: its horizon a multiple of 2 ** its downsamplings
            info["chunk_multiple"] = 2 ** len(cfg.down_dims)
        for name in self.family.reported_fields:
            info[name] = getattr(cfg, name)
        return info

    def compile_targets(self) -> list[tuple[object, str]]:
        return self.family.compile_targets(self.policy)

    def anatomy(self) -> tuple[object, tuple[Component, ...]] | None:
        return (self.policy, self.family.components) if self.family.components else None

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.policy.parameters())

    def weight_bytes(self) -> int:
        tensors = [*self.policy.parameters(), *self.policy.buffers()]
        return sum(t.numel() * t.element_size() for t in tensors)


def _tokenize_task(tokenizer_dir: str, cfg, text: str) -> dict[str, torch.Tensor]:
    """The prompt as the policies' preprocessors tokenize it (``Family.prompt`` wrote it from the
    task): the VLM's tokenizer, right padding as the config says, at most ``tokenizer_max_length``."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    enc = tokenizer(
        [text],
        max_length=cfg.tokenizer_max_length,
        truncation=True,
        padding=getattr(cfg, "pad_language_to", getattr(cfg, "tokenizer_padding", "max_length")),
        padding_side="right",
        return_tensors="pt",
    )
    return {
        OBS_LANGUAGE_TOKENS: enc["input_ids"],
        OBS_LANGUAGE_ATTENTION_MASK: enc["attention_mask"].bool(),
    }


def config_fields(name: str) -> list[str]:
    return sorted(f.name for f in dataclasses.fields(registry.config_class(name)) if f.init)


def coerce_overrides(cls, overrides: dict[str, object]) -> dict[str, object]:
    """Values from the command line made to fit the config's fields: lists become tuples where
    LeRobot's default is a tuple; a whole float such as 1e3 becomes an int where the default is
    an int. A value of the wrong kind is a ``ValueError`` naming the field."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    out = {}
    for key, value in overrides.items():
        f = fields[key]
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        else:
            default = None
        if isinstance(value, list) and isinstance(default, tuple):
            value = tuple(value)
        elif isinstance(default, bool) and not isinstance(value, bool):
            raise ValueError(f"{key} takes true or false, got {value!r}")
        elif isinstance(default, int) and not isinstance(default, bool):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{key} takes an integer, got {value!r}")
        elif isinstance(default, float) and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"{key} takes a number, got {value!r}")
        out[key] = value
    return out


def _profile_inputs(family: Family, profile: Profile) -> list[tuple[str, str, tuple[int, ...]]]:
    inputs: list[tuple[str, str, tuple[int, ...]]] = [
        (c.key, "visual", (3, c.height, c.width)) for c in profile.cameras
    ]
    inputs.append((OBS_STATE, "state", (profile.state_dim,)))
    if profile.env_state_dim and family.uses_env_state:
        inputs.append((OBS_ENV_STATE, "env", (profile.env_state_dim,)))
    return inputs


class ProfileMismatch(Exception):
    """The robot profile has inputs this policy type cannot take; the message says what to do."""


def build_lerobot(name: str, profile: Profile, overrides: dict[str, object], device: str, seed: int) -> LeRobotPolicy:
    """Build a random-weight LeRobot policy for ``profile`` on ``device``."""
    fam = family(name)
    problem = fam.availability_problem()
    if problem and not set(overrides) & set(fam.problem_solved_by):
        raise RuntimeError(f"{name} cannot be built here: {problem}")
    mismatch = fam.profile_problem(profile)
    if mismatch and not set(overrides) & set(fam.profile_solved_by):
        raise ProfileMismatch(mismatch)
    cls = registry.config_class(name)
    inputs, outputs = registry.features(_profile_inputs(fam, profile), profile.action_dim)
    settings = {**fam.offline_settings(profile), **coerce_overrides(cls, overrides)}
    cfg = cls(device=device, input_features=inputs, output_features=outputs, **settings)
    # policybench's own stand-in folders (offline_backbones.py: checked to ask for no code) are no remote code.
    values = {k: v for k, v in vars(cfg).items() if not is_stand_in(v)}
    try:
        check_remote_code_config(values, fam.remote_code_fields, name)
    except CheckpointRefused as exc:
        raise RuntimeError(str(exc)) from None
    torch.manual_seed(seed)
    # LeRobot prints while building; transformers reports every weight a stand-in lacks (all of them).
    with contextlib.redirect_stdout(io.StringIO()), quiet_loading(), fam.while_building():
        policy = registry.policy_class(name)(cfg)
    policy.to(device)
    policy.eval()
    return LeRobotPolicy(fam, policy, input_specs(cfg.input_features))


def input_specs(features: dict, leave_out: Collection[str] = ()) -> list[InputSpec]:
    """The inputs named by a LeRobot config's ``input_features``, less those in ``leave_out``."""
    return [InputSpec(k, registry.feature_kind(f), tuple(f.shape)) for k, f in features.items() if k not in leave_out]
