#!/usr/bin/env python
"""Compatibility with the replaced script: build ACT, SmolVLA and Diffusion and run one inference
each, printing ✓/✗ per policy; exit code 0 only when all pass.

Same as `policybench verify --profile seed`; extra arguments are passed on.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from policybench.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["verify", "--profile", "seed", "--policies", "act,smolvla,diffusion", *sys.argv[1:]]))
