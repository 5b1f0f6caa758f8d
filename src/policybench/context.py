"""The one run context: what a run does to the process, done on entry and undone on exit.

A run resolves its device (once), checks its output paths before anything is measured, sets
torch's thread count, closes or opens the Hugging Face hub, allows or refuses a model's own Python
files, silences warnings and LeRobot's log lines, draws from the global random generators, and
turns SIGINT and SIGTERM into ``Interrupted``. ``RunContext`` does all of it and puts every piece
back as it found it, after an error too: a notebook that calls ``policybench.run`` twice sees the
same process both times.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

from policybench.procenv import environment_variable, hub_access, quiet_libraries  # noqa: F401 - a run's pieces


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


class RunContext:
    """Everything a run changes in this process, for the length of a ``with`` block.

    ``device`` is resolved once on entry (``ctx.device``); ``outputs`` (files) and ``folders`` ({path: the setting that names it}) are checked
    before anything runs; ``isolate`` says whether named policies run in a child process each.
    ``signals`` makes SIGINT and SIGTERM raise Interrupted inside (interrupt.py)."""

    def __init__(self, device: str = "auto", *, threads: int | None = None, hub: bool = False,
                 trust_remote_code: bool = False, outputs: tuple[str, ...] = (),
                 folders: dict[str, str] | None = None, isolate: bool = True, signals: bool = True):
        self.requested, self.threads, self.hub, self.trust = device, threads, hub, trust_remote_code
        self.outputs, self.folders, self.isolate, self.signals = outputs, folders or {}, isolate, signals
        self.device = ""  # resolved on entry
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "RunContext":
        from policybench.interrupt import interruptible
        from policybench.policies.checkpoint_guard import remote_code

        self._check()
        with contextlib.ExitStack() as stack:
            if self.signals:
                stack.enter_context(interruptible())
            for part in (hub_access(self.hub), quiet_libraries(), remote_code(self.trust),
                         torch_threads(self.threads), random_state_kept()):
                stack.enter_context(part)
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.__exit__(*exc_info)

    def _check(self) -> None:
        """The device and every output, before anything is set or built (a UsageError each)."""
        from policybench.environment import resolve_device
        from policybench.outputs import check_folder, check_writable

        self.device = resolve_device(self.requested)
        for path in self.outputs:
            check_writable(path)
        for path, field in self.folders.items():
            check_folder(path, field)
