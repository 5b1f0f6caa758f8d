"""What a measuring job sets in its process and puts back after: torch's thread count and the
global random generators (a run seeds them for its own repeatability, not for its caller)."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Torch's intra-op thread count set to ``threads`` (None: left alone), restored after."""
    import torch

    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def random_state_kept() -> Iterator[None]:
    """The global generators of ``random``, numpy and torch (CPU and every initialized CUDA device)
    as they were before: a run seeds them for its own repeatability, not for its caller."""
    import numpy
    import torch

    python, numpy_state, torch_state = random.getstate(), numpy.random.get_state(), torch.random.get_rng_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    try:
        yield
    finally:
        random.setstate(python)
        numpy.random.set_state(numpy_state)
        torch.random.set_rng_state(torch_state)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)
