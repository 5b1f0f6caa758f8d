#!/usr/bin/env python
"""Compatibility with the replaced script: ACT, SmolVLA and Diffusion on the `seed` profile.

Same as `policybench run --profile seed --policies act,smolvla,diffusion`; extra arguments
are passed on (e.g. `--device cuda`, `--json results.json`).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from policybench.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["run", "--profile", "seed", "--policies", "act,smolvla,diffusion", *sys.argv[1:]]))
