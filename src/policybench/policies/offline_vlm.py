"""Offline stand-ins for the vision-language backbones and tokenizers that LeRobot loads from the hub.

pi0 and pi0.5 build their PaliGemma backbone from LeRobot's own code, but their task string goes
through the PaliGemma tokenizer (``google/paligemma-3b-pt-224``, 257152 tokens):
``paligemma_tokenizer_dir`` writes a tokenizer built locally with that vocabulary size.

SmolVLA calls ``AutoConfig.from_pretrained(vlm_model_name)`` and
``AutoProcessor.from_pretrained(vlm_model_name)`` while it builds. With no hub access we
point ``vlm_model_name`` at a local folder, written once into policybench's cache, that
holds the SmolVLM2-500M *architecture* (config), a tokenizer built locally with the same
vocabulary size and special tokens, and a SmolVLM image processor. No weights are stored:
the policy is built with random weights.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

# Bump when the written files change, so stale cache folders are rewritten.
_FORMAT_VERSION = 1

SMOLVLM2_500M_VOCAB_SIZE = 49280
PALIGEMMA_VOCAB_SIZE = 257152

# Special tokens SmolVLM's processor and LeRobot's SmolVLA read by attribute name.
_SPECIAL_TOKENS = {
    "fake_image_token": "<fake_token_around_image>",
    "image_token": "<image>",
    "global_image_token": "<global-img>",
    "end_of_utterance_token": "<end_of_utterance>",
}
_CONTROL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

# A small English corpus of manipulation instructions: the tokenizer's merges are learned
# from it so that a task string splits into a realistic number of tokens (about one per
# word), not one per character.
_TASK_CORPUS = """
pick up the red cube and place it in the bin
pick the blue block and put it on the plate
grasp the cup and move it to the left
push the t shaped block into the target
fold the towel in half
open the drawer and take out the sponge
insert the peg into the hole
stack the green cube on top of the yellow cube
transfer the cube from the right arm to the left arm
pour the water into the bowl
close the lid of the box
wipe the table with the cloth
hand over the object to the other gripper
place the pen in the pen holder
rotate the knob clockwise
slide the block to the right side of the table
"""


def cache_root() -> Path:
    """Folder for files policybench writes once and reuses (``$POLICYBENCH_CACHE`` or ~/.cache)."""
    env = os.environ.get("POLICYBENCH_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "policybench"


def smolvlm2_500m_dir() -> Path:
    """Return a local folder with the SmolVLM2-500M architecture, writing it on first use."""
    return _cached_folder("smolvlm2-500m-architecture", _write_smolvlm2_500m)


def paligemma_tokenizer_dir() -> Path:
    """Return a local folder with a PaliGemma-sized tokenizer, writing it on first use."""
    return _cached_folder("paligemma-tokenizer", _write_paligemma_tokenizer)


def writer_key() -> str:
    """What the cached files depend on besides their format: the major version of transformers
    that wrote them (transformers 5 writes a tokenizer that transformers 4 cannot read, and a
    machine may have both, one per LeRobot)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"transformers{version('transformers').split('.')[0]}"
    except PackageNotFoundError:
        return "notransformers"


def _cached_folder(name: str, write) -> Path:
    target = cache_root() / f"{name}-v{_FORMAT_VERSION}-{writer_key()}"
    if (target / "complete.json").exists():
        return target
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    write(tmp)
    (tmp / "complete.json").write_text(json.dumps({"format_version": _FORMAT_VERSION}))
    try:
        tmp.rename(target)
    except OSError:
        # Another process finished first; its folder is as good as ours.
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _build_tokenizer(vocab_size: int, specials: list[str], leading: tuple[str, ...] = ()):
    """A byte-level BPE tokenizer learned from the task corpus, its vocabulary padded to
    ``vocab_size`` with entries no merge can reach; ``leading`` special tokens take the first ids
    (as BART's <s> <pad> </s> <unk> do), ``specials`` the last ones."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=2000,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_TASK_CORPUS.strip().splitlines() * 4, trainer=trainer)
    # Pad the vocabulary to the real size with entries no merge can reach, so token ids and
    # the embedding table have the real model's extent; the special tokens take the last ids.
    learned = sorted(tok.get_vocab().items(), key=lambda item: item[1])
    merges = json.loads(tok.to_str())["model"]["merges"]
    vocab = {token: i for i, token in enumerate(leading)}
    for token, _ in learned:
        vocab[token] = len(vocab)
    n_fill = vocab_size - len(specials) - len(vocab)
    for i in range(n_fill):
        vocab[f"<|unused_{i}|>"] = len(vocab)
    for token in specials:
        vocab[token] = len(vocab)
    bpe = models.BPE(vocab=vocab, merges=[tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in merges])
    full = Tokenizer(bpe)
    full.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    full.decoder = decoders.ByteLevel()
    full.add_special_tokens([*leading, *specials])
    return full


def _smolvlm_tokenizer():
    from transformers import PreTrainedTokenizerFast

    specials = _CONTROL_TOKENS + list(_SPECIAL_TOKENS.values())
    return PreTrainedTokenizerFast(
        tokenizer_object=_build_tokenizer(SMOLVLM2_500M_VOCAB_SIZE, specials),
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        extra_special_tokens=dict(_SPECIAL_TOKENS),
        model_max_length=8192,
    )


def _write_smolvlm2_500m(folder: Path) -> None:
    from transformers import SmolVLMConfig, SmolVLMImageProcessor, SmolVLMProcessor

    tokenizer = _smolvlm_tokenizer()
    assert len(tokenizer) == SMOLVLM2_500M_VOCAB_SIZE, len(tokenizer)
    config = SmolVLMConfig(
        image_token_id=tokenizer.convert_tokens_to_ids(_SPECIAL_TOKENS["image_token"]),
        pad_token_id=tokenizer.pad_token_id,
        scale_factor=4,
        tie_word_embeddings=False,
        text_config={
            "model_type": "llama",
            "hidden_size": 960,
            "intermediate_size": 2560,
            "num_hidden_layers": 32,
            "num_attention_heads": 15,
            "num_key_value_heads": 5,
            "head_dim": 64,
            "vocab_size": SMOLVLM2_500M_VOCAB_SIZE,
            "rope_theta": 100000.0,
            "rms_norm_eps": 1e-5,
            "max_position_embeddings": 8192,
            "tie_word_embeddings": False,
            "pad_token_id": tokenizer.pad_token_id,
        },
        vision_config={
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "image_size": 512,
            "patch_size": 16,
        },
    )
    config.save_pretrained(folder)
    image_processor = SmolVLMImageProcessor(
        size={"longest_edge": 2048},
        max_image_size={"longest_edge": 512},
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
    )
    tokenizer.save_pretrained(folder)
    image_seq_len = (512 // 16) ** 2 // (4**2)  # 64 image tokens
    try:
        from transformers import SmolVLMVideoProcessor

        video_processor = SmolVLMVideoProcessor()
    except Exception:  # pragma: no cover - older transformers without a video processor class
        video_processor = None
    processor = SmolVLMProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=video_processor,
        image_seq_len=image_seq_len,
    )
    processor.save_pretrained(folder)


def _write_paligemma_tokenizer(folder: Path) -> None:
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<image>"]
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_build_tokenizer(PALIGEMMA_VOCAB_SIZE, specials),
        bos_token="<bos>",
        eos_token="<eos>",
        pad_token="<pad>",
        unk_token="<unk>",
        model_max_length=8192,
    )
    assert len(tokenizer) == PALIGEMMA_VOCAB_SIZE, len(tokenizer)
    tokenizer.save_pretrained(folder)


# The hub ids LeRobot's configs and saved processors name, and the local stand-in for each.
SMOLVLM2_500M_HUB_ID = "HuggingFaceTB/SmolVLM2-500M-Video-Instruct"  # SmolVLA's vlm_model_name
PALIGEMMA_TOKENIZER_HUB_ID = "google/paligemma-3b-pt-224"  # pi0's and pi0.5's tokenizer
_STAND_INS = {SMOLVLM2_500M_HUB_ID: smolvlm2_500m_dir, PALIGEMMA_TOKENIZER_HUB_ID: paligemma_tokenizer_dir}


def local_stand_in(hub_id: str) -> Path | None:
    """The local folder that stands in for ``hub_id`` offline (written on first use), or None."""
    write = _STAND_INS.get(hub_id)
    return write() if write else None
