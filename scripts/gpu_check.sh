#!/usr/bin/env bash
# One prepared GPU check: every CUDA path of policybench in a single call of a few minutes.
#
# On a bare GPU machine (Python 3.12, torch and transformers installed, no LeRobot, no network)
# it installs the wheels found in .whl/ (LeRobot 0.6.1 and what it needs that the machine lacks,
# see docs/gpu-check.md) into a private folder, then runs, on cuda:
#   verify; run --variant all for ACT, Diffusion (100 denoising steps) and SmolVLA, each policy in
#   a process of its own (a failed CUDA graph capture can poison a process); run --pipeline;
#   run pi0 and pi05; realtime --simulate on the results; realtime --remote through LeRobot's
#   PolicyServer; and writes the results files, a log and a Markdown table under $OUT.
# The table is written only when every expected figure is there (scripts/gpu_table.py); the
# script exits non-zero otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-check-out}
mkdir -p "$OUT"
LOG="$OUT/gpu-check.log"
exec > >(tee -a "$LOG") 2>&1

SITE=${POLICYBENCH_SITE:-/tmp/policybench-site}
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl || exit 1
    export PYTHONPATH="$SITE:$PWD/src"
else
    export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
fi
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 POLICYBENCH_CACHE=${POLICYBENCH_CACHE:-/tmp/policybench-cache}
pb() { echo "+ $(date +%T) policybench $*"; timeout "${STEP_TIMEOUT:-300}" python3 -m policybench "$@"; echo "(exit $?)"; }

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -c "import torch, transformers, lerobot; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'transformers', transformers.__version__, 'lerobot', lerobot.__version__ if hasattr(lerobot, '__version__') else '?')"

COMMON=(--device cuda --profile so100)
pb verify "${COMMON[@]}" --policies act,smolvla,diffusion
for p in act diffusion smolvla; do
    pb run "${COMMON[@]}" --policies "$p" --variant all --refills 5 --warmup 1 --max-seconds 30 --json "$OUT/$p.json"
done
pb run "${COMMON[@]}" --policies act,smolvla,diffusion --pipeline --refills 5 --warmup 1 --max-seconds 20 --json "$OUT/pipeline.json"
pb realtime --simulate "$OUT/act.json" --hz 30,50,100,200,500 --threshold 0.3,0.5
pb realtime --simulate "$OUT/diffusion.json" --hz 10,30,50,100 --threshold 0.3,0.5
pb realtime --simulate "$OUT/smolvla.json" --hz 10,30,50,100 --threshold 0.3,0.5
STEP_TIMEOUT=120 pb realtime "${COMMON[@]}" --policies act --hz 30 --seconds 3 --remote --remote-calls 5
pb run "${COMMON[@]}" --policies pi0,pi05 --variant eager,bf16,cudagraph --refills 3 --warmup 1 --max-seconds 30 --json "$OUT/pi.json"

python3 scripts/gpu_table.py "$OUT/gpu-check.md" "$OUT/act.json" "$OUT/diffusion.json" "$OUT/smolvla.json" \
    --expect act,diffusion,smolvla
