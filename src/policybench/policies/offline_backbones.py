"""Offline stand-ins for the backbones, tokenizers and processors that LeRobot's newer policy types
read from the hub while they build (offline_vlm.py holds SmolVLA's and pi0's).

Each stand-in is a folder written once into policybench's cache: the published architecture's
config (values from published.py, with their sources), a tokenizer built locally with the same
vocabulary size and special tokens, and, where LeRobot calls ``from_pretrained`` on a model
class, a ``model.safetensors`` that holds no tensor. transformers then builds the model from the
config and initializes every weight at random, as it does for any weight a checkpoint lacks:
the real architecture and parameter count, random weights, nothing downloaded. No file of a
stand-in asks for remote code (``remote_code_requests`` checks, and build_lerobot refuses a
stand-in that would).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from policybench.policies.offline_vlm import _build_tokenizer, _cached_folder, cache_root
from policybench.policies.published import (
    BART_LARGE_TOKENIZER,
    CLIP_VIT_B16,
    GR00T_N1_7,
    INTERNVL3_1B,
    INTERNVL3_TOKENIZER,
    QWEN2_5_VL_3B,
    QWEN2_5_VL_PROCESSOR,
    QWEN3_VL_2B,
    QWEN3_VL_PROCESSOR,
    WALL_OSS_FLOW,
    WALL_OSS_TOKENIZER,
    VJEPA2_VITL,
    Architecture,
)

NO_WEIGHTS_NOTE = "no weights: every tensor is missing, so transformers initializes each at random"


def clip_vit_b16_dir() -> Path:
    """openai/clip-vit-base-patch16: config, an empty weights file, a CLIP-sized tokenizer. The
    folder's name holds "clip", which multi_task_dit's config checks its encoder names for."""
    return _cached_folder("clip-vit-base-patch16-architecture", _write_clip_vit_b16)


def bart_large_tokenizer_dir() -> Path:
    """A tokenizer with facebook/bart-large's vocabulary size and special tokens (X-VLA's)."""
    return _cached_folder("bart-large-tokenizer", _write_bart_large_tokenizer)


def fast_action_tokenizer_dir() -> Path:
    """pi0_fast's FAST action tokenizer, fitted locally (fast_tokenizer.py)."""
    from policybench.policies.fast_tokenizer import write_fast_tokenizer

    return _cached_folder("fast-action-tokenizer", write_fast_tokenizer)


def groot_n1_7_dir() -> Path:
    """nvidia/GR00T-N1.7-3B: its config and an empty weights file (LeRobot builds the backbone from its
    own copy of the Cosmos-Reason2-2B config, without weights, and the rest from this config)."""
    return _cached_folder("gr00t-n1.7-3b-architecture", _write_groot_n1_7)


def qwen3_vl_processor_dir() -> Path:
    """nvidia/Cosmos-Reason2-2B's processor: a Qwen-sized tokenizer with its chat template, and the
    Qwen3-VL image and video processors (GR00T's preprocessor)."""
    return _cached_folder("cosmos-reason2-2b-processor", _write_qwen3_vl_processor)


def qwen2_5_vl_3b_dir() -> Path:
    """Qwen/Qwen2.5-VL-3B-Instruct: config, an empty weights file and its processor (EO-1's VLM)."""
    return _cached_folder("qwen2.5-vl-3b-instruct-architecture", _write_qwen2_5_vl_3b)


def wall_oss_flow_dir() -> Path:
    """x-square-robot/wall-oss-flow: its config (Qwen2.5-VL-3B with an action expert per layer), an empty
    weights file and its processor (Qwen2.5-VL's, with WALL-OSS's action tokens added)."""
    return _cached_folder("wall-oss-flow-architecture", _write_wall_oss_flow)


def internvl3_1b_dir() -> Path:
    """OpenGVLab/InternVL3-1B-hf: config, an empty weights file and an InternVL3-sized tokenizer (Evo-1's VLM)."""
    return _cached_folder("internvl3-1b-hf-architecture", _write_internvl3_1b)


def qwen3_vl_2b_dir() -> Path:
    """Qwen/Qwen3-VL-2B-Instruct: config, an empty weights file and its processor (VLA-JEPA's VLM)."""
    return _cached_folder("qwen3-vl-2b-instruct-architecture", _write_qwen3_vl_2b)


def vjepa2_vitl_dir() -> Path:
    """facebook/vjepa2-vitl-fpc64-256: config, an empty weights file and its video processor (VLA-JEPA's
    video encoder)."""
    return _cached_folder("vjepa2-vitl-fpc64-256-architecture", _write_vjepa2_vitl)


STAND_INS = {
    CLIP_VIT_B16.hub_id: clip_vit_b16_dir,
    QWEN2_5_VL_3B.hub_id: qwen2_5_vl_3b_dir,
    GR00T_N1_7.hub_id: groot_n1_7_dir,
    WALL_OSS_FLOW.hub_id: wall_oss_flow_dir,
    QWEN3_VL_PROCESSOR.hub_id: qwen3_vl_processor_dir,
    BART_LARGE_TOKENIZER.hub_id: bart_large_tokenizer_dir,
    "lerobot/fast-action-tokenizer": fast_action_tokenizer_dir,
    INTERNVL3_1B.hub_id: internvl3_1b_dir,
    QWEN3_VL_2B.hub_id: qwen3_vl_2b_dir,
    VJEPA2_VITL.hub_id: vjepa2_vitl_dir,
}


def write_no_weights(folder: Path) -> None:
    """An empty model.safetensors: ``from_pretrained`` finds the file, no tensor in it, and
    initializes the whole model at random."""
    from safetensors.torch import save_file

    save_file({}, str(folder / "model.safetensors"), metadata={"format": "pt", "policybench": NO_WEIGHTS_NOTE})


def _template(bos: str, eos: str):
    from tokenizers import processors

    return processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}", special_tokens=[(bos, 0), (eos, 0)]
    )


def _clip_tokenizer():
    from transformers import PreTrainedTokenizerFast

    text = CLIP_VIT_B16.values["text_config"]
    assert isinstance(text, dict)
    tok = _build_tokenizer(int(text["vocab_size"]), ["<|startoftext|>", "<|endoftext|>"])
    tok.post_processor = _template("<|startoftext|>", "<|endoftext|>")
    _fix_template_ids(tok)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|startoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        model_max_length=int(text["max_position_embeddings"]),
    )


def _fix_template_ids(tok) -> None:
    """TemplateProcessing needs the special tokens' real ids."""
    from tokenizers import processors

    state = json.loads(tok.post_processor.__getstate__())
    specials = [(name, tok.token_to_id(name)) for name in state["special_tokens"]]
    single = " ".join(p["SpecialToken"]["id"] if "SpecialToken" in p else "$A" for p in state["single"])
    pair = " ".join(
        p["SpecialToken"]["id"] if "SpecialToken" in p else f"${p['Sequence']['id']}" for p in state["pair"]
    )
    tok.post_processor = processors.TemplateProcessing(single=single, pair=pair, special_tokens=specials)


def _write_clip_vit_b16(folder: Path) -> None:
    from transformers import CLIPConfig

    CLIPConfig(**CLIP_VIT_B16.values).save_pretrained(folder)
    write_no_weights(folder)
    tokenizer = _clip_tokenizer()
    tokenizer.save_pretrained(folder)


def _write_bart_large_tokenizer(folder: Path) -> None:
    from transformers import PreTrainedTokenizerFast

    v = BART_LARGE_TOKENIZER.values
    names = {k: str(v[k]) for k in ("bos_token", "pad_token", "eos_token", "unk_token", "mask_token")}
    tok = _build_tokenizer(
        int(v["vocab_size"]),  # type: ignore[call-overload]
        [names["mask_token"]],
        leading=(names["bos_token"], names["pad_token"], names["eos_token"], names["unk_token"]),
    )
    tok.post_processor = _template(names["bos_token"], names["eos_token"])
    _fix_template_ids(tok)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        model_max_length=int(v["model_max_length"]),  # type: ignore[call-overload]
        **names,
    )
    assert len(tokenizer) == v["vocab_size"], len(tokenizer)
    tokenizer.save_pretrained(folder)


def _write_groot_n1_7(folder: Path) -> None:
    config = {**GR00T_N1_7.values, "architectures": ["GR00TN17"], "policybench": NO_WEIGHTS_NOTE}
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    write_no_weights(folder)


# ChatML as Qwen-VL writes it: each turn <|im_start|>role ... <|im_end|>, each image or video its pad token
# between <|vision_start|> and <|vision_end|> (the processor repeats the pad token once per merged patch).
_QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for item in message['content'] %}"
    "{% if item['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif item['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _qwen_tokenizer(arch: Architecture):
    from transformers import PreTrainedTokenizerFast

    specials = list(arch.values["special_tokens"])  # type: ignore[call-overload]
    size = int(arch.values["regular_tokens"]) + len(specials)  # type: ignore[call-overload]
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_build_tokenizer(size, specials),
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        model_max_length=131072,
        chat_template=_QWEN_CHAT_TEMPLATE,
    )
    assert tokenizer.convert_tokens_to_ids("<|image_pad|>") == 151655, tokenizer.convert_tokens_to_ids("<|image_pad|>")
    return tokenizer


def _write_qwen_processor(folder: Path, arch: Architecture, processor_cls, video_cls, tokenizer=None) -> None:
    from transformers import Qwen2VLImageProcessor

    v = arch.values
    patching = {k: v[k] for k in ("patch_size", "temporal_patch_size", "merge_size", "image_mean", "image_std")}
    if "min_pixels" in v:
        patching.update(min_pixels=v["min_pixels"], max_pixels=v["max_pixels"])
    tokenizer = tokenizer or _qwen_tokenizer(arch)
    processor = processor_cls(
        image_processor=Qwen2VLImageProcessor(**patching),
        tokenizer=tokenizer,
        video_processor=video_cls(**patching),
        chat_template=_QWEN_CHAT_TEMPLATE,
    )
    processor.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def _write_qwen3_vl_processor(folder: Path) -> None:
    from transformers import Qwen3VLProcessor, Qwen3VLVideoProcessor

    _write_qwen_processor(folder, QWEN3_VL_PROCESSOR, Qwen3VLProcessor, Qwen3VLVideoProcessor)


def _write_qwen2_5_vl_3b(folder: Path) -> None:
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLProcessor, Qwen2VLVideoProcessor

    Qwen2_5_VLConfig(**QWEN2_5_VL_3B.values).save_pretrained(folder)
    write_no_weights(folder)
    _write_qwen_processor(folder, QWEN2_5_VL_PROCESSOR, Qwen2_5_VLProcessor, Qwen2VLVideoProcessor)


def _wall_oss_tokenizer():
    """Qwen2.5-VL's tokenizer with WALL-OSS's tokens added as the authors add them (merge_tokenizer.py)."""
    v = WALL_OSS_TOKENIZER.values
    tokenizer = _qwen_tokenizer(QWEN2_5_VL_PROCESSOR)
    size = int(v["action_token_vocab_size"])  # type: ignore[call-overload]
    tokenizer.add_tokens([*v["added_tokens"], *(f"<|action_token_{i}|>" for i in range(size))])  # type: ignore[misc]
    tokenizer.init_kwargs["action_token_start_index"] = tokenizer.convert_tokens_to_ids("<|action_token_0|>")
    tokenizer.init_kwargs["action_token_vocab_size"] = size
    tokenizer.padding_side = tokenizer.init_kwargs["padding_side"] = str(v["padding_side"])
    return tokenizer


def _write_wall_oss_flow(folder: Path) -> None:
    from transformers import Qwen2_5_VLProcessor, Qwen2VLVideoProcessor

    # Written as the checkpoint's flat config.json is: LeRobot's own Wall-X config class reads it.
    config = {**WALL_OSS_FLOW.values, "policybench": NO_WEIGHTS_NOTE}
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    write_no_weights(folder)
    tokenizer = _wall_oss_tokenizer()
    _write_qwen_processor(folder, QWEN2_5_VL_PROCESSOR, Qwen2_5_VLProcessor, Qwen2VLVideoProcessor, tokenizer)


def _write_internvl3_1b(folder: Path) -> None:
    from transformers import InternVLConfig, PreTrainedTokenizerFast

    InternVLConfig(**INTERNVL3_1B.values).save_pretrained(folder)
    write_no_weights(folder)
    v = INTERNVL3_TOKENIZER.values
    specials = list(v["special_tokens"])  # type: ignore[call-overload]
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_build_tokenizer(int(v["regular_tokens"]) + len(specials), specials),  # type: ignore[call-overload]
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        model_max_length=int(v["model_max_length"]),  # type: ignore[call-overload]
    )
    image_token = tokenizer.convert_tokens_to_ids("<IMG_CONTEXT>")
    assert image_token == INTERNVL3_1B.values["image_token_id"], image_token
    tokenizer.save_pretrained(folder)


def _write_qwen3_vl_2b(folder: Path) -> None:
    from transformers import Qwen3VLConfig, Qwen3VLProcessor, Qwen3VLVideoProcessor

    Qwen3VLConfig(**QWEN3_VL_2B.values).save_pretrained(folder)
    write_no_weights(folder)
    _write_qwen_processor(folder, QWEN3_VL_PROCESSOR, Qwen3VLProcessor, Qwen3VLVideoProcessor)


def _write_vjepa2_vitl(folder: Path) -> None:
    from transformers import VJEPA2Config, VJEPA2VideoProcessor

    VJEPA2Config(**VJEPA2_VITL.values).save_pretrained(folder)
    write_no_weights(folder)
    VJEPA2VideoProcessor(crop_size=VJEPA2_VITL.values["crop_size"]).save_pretrained(folder)


def stand_in_folders() -> dict[str, Path]:
    """Every stand-in of this module and offline_vlm.py, written if need be: hub id -> folder."""
    from policybench.policies.offline_vlm import _STAND_INS

    return {hub_id: write() for hub_id, write in {**_STAND_INS, **STAND_INS}.items()}


def is_stand_in(value: object) -> bool:
    """Whether ``value`` names a finished stand-in folder of policybench's cache."""
    if not isinstance(value, str) or not value:
        return False
    path = Path(value)
    try:
        inside = path.resolve().parent == cache_root().resolve()
    except OSError:
        return False
    return inside and (path / "complete.json").is_file() and not remote_code_requests(path)


def remote_code_requests(folder: Path) -> list[str]:
    """What in ``folder``'s JSON files asks for remote code ("file: key"), or files of code."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".py", ".pyc", ".so"):
            found.append(f"{path.name}: code")
        if path.suffix != ".json" or not path.is_file():
            continue
        found += [f"{path.name}: {key}" for key in _code_keys(json.loads(path.read_text()))]
    return found


def _code_keys(data) -> list[str]:
    if isinstance(data, dict):
        keys = [k for k, v in data.items() if k == "auto_map" or (k == "trust_remote_code" and v)]
        return keys + [k for v in data.values() for k in _code_keys(v)]
    if isinstance(data, list):
        return [k for v in data for k in _code_keys(v)]
    return []


@contextlib.contextmanager
def quiet_loading():
    """transformers' report of the weights a stand-in lacks (all of them, by design) and its
    "Loading weights" bars left unprinted while a policy builds; both restored on exit."""
    from transformers.utils import logging

    previous, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(previous)
        if bars:
            logging.enable_progress_bar()
