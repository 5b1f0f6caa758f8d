"""pi0_fast's FAST action tokenizer, rebuilt locally from its published algorithm.

FAST (Pertsch et al. 2025, arXiv 2501.09747) turns an action chunk (time x action dimensions)
into tokens: a discrete cosine transform along time of each dimension (orthonormal), the
coefficients scaled (by 10) and rounded to integers, flattened, shifted by the smallest
coefficient (``min_token``) so that each becomes a character, and the string compressed by a
byte-pair encoding of 1024 tokens. Decoding runs the same steps backwards.

LeRobot loads the published tokenizer (``lerobot/fast-action-tokenizer``) with
``AutoProcessor.from_pretrained(..., trust_remote_code=True)``, which runs the Python file that
comes with it. Here the same algorithm is policybench's own code, its byte-pair encoding fitted
on synthetic smooth trajectories (``fit``), saved in a folder whose processor_config.json names
this class; ``registered()`` lets transformers' AutoProcessor find the class by that name while
a policy builds, so nothing is downloaded and no code is read from a folder. LeRobot reads
``bpe_tokenizer``, ``min_token`` and ``scale`` of it when it decodes a chunk.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from policybench.policies.published import FAST_ACTION_TOKENIZER

VOCAB_SIZE = int(FAST_ACTION_TOKENIZER.values["vocab_size"])  # type: ignore[call-overload]
SCALE = float(FAST_ACTION_TOKENIZER.values["scale"])  # type: ignore[arg-type]
CONFIG_FILE = "processor_config.json"
CLASS_NAME = "PolicybenchFastActionTokenizer"


class PolicybenchFastActionTokenizer:
    """FAST: DCT along time, scale and round, byte-pair encode (and back)."""

    def __init__(self, bpe_tokenizer, scale: float = SCALE, vocab_size: int = VOCAB_SIZE, min_token: int = 0):
        self.bpe_tokenizer = bpe_tokenizer
        self.scale = scale
        self.vocab_size = vocab_size
        self.min_token = min_token

    def __call__(self, chunk: np.ndarray) -> list[int]:
        """Tokens of one action chunk, shape (time, action dimensions)."""
        return list(self.bpe_tokenizer(_to_string(chunk, self.scale, self.min_token))["input_ids"])

    def decode(self, tokens, time_horizon: int, action_dim: int) -> np.ndarray:
        """The chunk of ``tokens``, (time, action dimensions); of a batch of token lists (as WALL-OSS hands the
        published processor), (batch, time, action dimensions), a chunk that does not decode all zeros as there."""
        if tokens and isinstance(tokens[0], (list, tuple)):
            return np.stack([self._decode_or_zeros(list(t), time_horizon, action_dim) for t in tokens])
        return self._decode_one(tokens, time_horizon, action_dim)

    def _decode_or_zeros(self, tokens: list[int], time_horizon: int, action_dim: int) -> np.ndarray:
        try:
            return self._decode_one(tokens, time_horizon, action_dim)
        except ValueError:  # not time_horizon x action_dim coefficients
            return np.zeros((time_horizon, action_dim))

    def _decode_one(self, tokens: list[int], time_horizon: int, action_dim: int) -> np.ndarray:
        from scipy.fft import idct

        text = self.bpe_tokenizer.decode(tokens)
        coefficients = np.array([ord(c) for c in text], dtype=np.float64) + self.min_token
        return idct(coefficients.reshape(time_horizon, action_dim) / self.scale, axis=0, norm="ortho")

    @classmethod
    def fit(cls, chunks: list[np.ndarray], scale: float = SCALE, vocab_size: int = VOCAB_SIZE):
        """The tokenizer fitted on ``chunks`` (each time x action dimensions), as FAST fits it."""
        from tokenizers import ByteLevelBPETokenizer
        from tokenizers.trainers import BpeTrainer
        from transformers import PreTrainedTokenizerFast

        coefficients = [_quantized(c, scale) for c in chunks]
        low = int(min(c.min() for c in coefficients))
        high = int(max(c.max() for c in coefficients))
        if high - low >= vocab_size:
            raise ValueError(f"FAST: {high - low + 1} distinct coefficients do not fit {vocab_size} tokens")
        bpe = ByteLevelBPETokenizer()
        trainer = BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=2,
            show_progress=False,
            special_tokens=[],
            initial_alphabet=[chr(i) for i in range(high - low + 1)],
            max_token_length=10000,
        )
        bpe._tokenizer.train_from_iterator(("".join(map(chr, c - low)) for c in coefficients), trainer=trainer)
        tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, clean_up_tokenization_spaces=False)
        return cls(tokenizer, scale=scale, vocab_size=vocab_size, min_token=low)

    def save_pretrained(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.bpe_tokenizer.save_pretrained(folder)
        settings = {
            "processor_class": CLASS_NAME,
            "scale": self.scale,
            "vocab_size": self.vocab_size,
            "min_token": self.min_token,
        }
        (folder / CONFIG_FILE).write_text(json.dumps(settings, indent=2))

    @classmethod
    def from_pretrained(cls, folder, **kwargs):
        """Read from ``folder`` (what AutoProcessor calls; its other arguments do not apply)."""
        from transformers import PreTrainedTokenizerFast

        settings = json.loads((Path(folder) / CONFIG_FILE).read_text())
        return cls(
            PreTrainedTokenizerFast.from_pretrained(folder),
            scale=settings["scale"],
            vocab_size=settings["vocab_size"],
            min_token=settings["min_token"],
        )


def _quantized(chunk: np.ndarray, scale: float) -> np.ndarray:
    from scipy.fft import dct

    return np.around(dct(np.asarray(chunk, dtype=np.float64), axis=0, norm="ortho") * scale).astype(np.int64).ravel()


def _to_string(chunk: np.ndarray, scale: float, min_token: int) -> str:
    return "".join(map(chr, np.maximum(_quantized(chunk, scale) - min_token, 0)))


def synthetic_chunks(n: int = 2000, seed: int = 0) -> Iterator[np.ndarray]:
    """Smooth action chunks in [-1, 1] (normalized actions): per dimension a sum of a few low
    frequencies with random phases and a little noise; 50 steps, 6 to 14 dimensions."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, 50)[:, None]
    for _ in range(n):
        dims = int(rng.integers(6, 15))
        chunk = np.zeros((t.shape[0], dims))
        for _k in range(3):
            freq = rng.uniform(0.1, 2.0, dims)
            chunk += rng.uniform(0.0, 0.4, dims) * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi, dims))
        chunk += rng.normal(0.0, 0.01, chunk.shape)
        yield np.clip(chunk, -1.0, 1.0)


def write_fast_tokenizer(folder: Path) -> None:
    """Fit the tokenizer on synthetic chunks and save it into ``folder``."""
    PolicybenchFastActionTokenizer.fit(list(synthetic_chunks())).save_pretrained(folder)


@contextlib.contextmanager
def registered():
    """transformers' AutoProcessor finds this class by the name in processor_config.json while
    inside (policybench's own class, nothing read from the folder); removed again on exit."""
    from transformers import AutoProcessor, PretrainedConfig
    from transformers.models.auto.processing_auto import PROCESSOR_MAPPING

    class PolicybenchFastConfig(PretrainedConfig):
        model_type = "policybench_fast"

    AutoProcessor.register(PolicybenchFastConfig, PolicybenchFastActionTokenizer, exist_ok=True)
    try:
        yield
    finally:
        PROCESSOR_MAPPING._extra_content.pop(PolicybenchFastConfig, None)
