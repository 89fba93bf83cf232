#!/usr/bin/env bash
# The GPU check, one script, under 8 minutes on one H200-class GPU. Everything it measures goes
# to OUT (first argument, else $OUT, else results/device_check): a log per step and a summary.
#
#   bash bench/device_check.sh [OUT] [--cpu-dry-run]
#
# Steps (each with its own time limit; a failing step is recorded and the next one runs):
#   1 banner      the device, versions, nvidia-smi
#   2 tests       the fast tests with JAX on the GPU (tests/ core files, parity/test_parity.py)
#   3 main        the main job: experiments/convergence.py, 16 seeds, cold then warm cache
#   4 encoder     bench/bench_replicate.py: definitive-size encoder step, JAX (GPU) vs torch (CPU)
#   5 sparse      bench/bench_sparse.py: the faithful sparse pipeline, JAX (GPU) vs torch (CPU)
#   6 definitive  bench/definitive_full.py: the full-length definitive preset (3 models, 8 seeds)
#                 for the time left, checkpointed; rerunning the script on the same machine
#                 resumes it (CKPT below survives between runs, OUT need not)
#
# --cpu-dry-run runs every step on the CPU at smoke-test sizes: it proves the script runs, it
# measures nothing. Without it the script refuses to start when JAX sees no GPU.
# Environment: PYTHON (default python3), CKPT (default results/device_check_ckpt),
# BUDGET_S (whole script, default 460), LIMIT_SCALE (multiplies every time limit and the budget,
# default 1: for a dry run on a slow or loaded CPU).
set -uo pipefail
cd "$(dirname "$0")/.."

DRY=0
POS=()
for a in "$@"; do
  case "$a" in
    --cpu-dry-run) DRY=1 ;;
    -h|--help) sed -n 2,22p "$0"; exit 0 ;;
    *) POS+=("$a") ;;
  esac
done
OUTDIR=${POS[0]:-${OUT:-results/device_check}}
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
PY=${PYTHON:-python3}
CKPT=${CKPT:-results/device_check_ckpt}
LIMIT_SCALE=${LIMIT_SCALE:-1}
BUDGET_S=$(( ${BUDGET_S:-460} * LIMIT_SCALE ))
START=$(date +%s)
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# a fresh compilation cache for this check, outside OUT (many small files)
export JAXBESPOKE_COMPILE_CACHE=${JAXBESPOKE_COMPILE_CACHE:-/tmp/jaxbespoke_device_check_cache}
if [ "$DRY" = 1 ]; then
  export JAX_PLATFORMS=cpu
  DEV=cpu
else
  DEV=gpu
fi
SUMMARY="$OUTDIR/summary.txt"
: >"$SUMMARY"

left() { echo $(( BUDGET_S - ($(date +%s) - START) )); }

# step NAME LIMIT_S COMMAND...: run with a time limit, log to OUT/NAME.log, note the outcome
step() {
  local name=$1 limit=$(( $2 * LIMIT_SCALE )); shift 2
  local l; l=$(left)
  if [ "$l" -lt 20 ]; then
    echo "$name: skipped (budget spent)" | tee -a "$SUMMARY"; return 0
  fi
  [ "$limit" -gt "$l" ] && limit=$l
  local t0; t0=$(date +%s)
  echo "== $name (limit ${limit} s)"
  timeout --signal=TERM --kill-after=15 "$limit" "$@" >"$OUTDIR/$name.log" 2>&1
  local rc=$?
  local t=$(( $(date +%s) - t0 ))
  local what="ok"
  [ $rc -eq 124 ] && what="TIMED OUT"
  [ $rc -ne 0 ] && [ $rc -ne 124 ] && what="FAILED (exit $rc)"
  echo "$name: $what in ${t} s" | tee -a "$SUMMARY"
  tail -n 4 "$OUTDIR/$name.log" | sed 's/^/    /' | tee -a "$SUMMARY"
}

# 1 banner --------------------------------------------------------------------------------------
{
  date -u; uname -a; uptime
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version \
    --format=csv,noheader
  "$PY" - <<'EOF'
import jax, jaxlib, flax, optax, numpy
from jaxbespoke import device, parallel
print("jax", jax.__version__, "jaxlib", jaxlib.__version__, "flax", flax.__version__,
      "optax", optax.__version__, "numpy", numpy.__version__)
if jax.__version__ == "0.10.2":
    raise SystemExit("jax 0.10.2 miscompiles on CPU (jax-ml/jax#39103): use another version")
info = device.select("auto")
print(device.banner(info), "| all devices:", jax.devices())
print("seeds split over", parallel.split(16).summary())
EOF
} >"$OUTDIR/banner.log" 2>&1
BANNER_RC=$?
cat "$OUTDIR/banner.log" | tee -a "$SUMMARY"
if [ $BANNER_RC -ne 0 ]; then
  echo "banner failed: $PY cannot run JAX here (set PYTHON to an interpreter that has jax)" \
    | tee -a "$SUMMARY"
  exit 2
fi
if [ "$DRY" = 0 ] && ! "$PY" -c "import jax,sys; sys.exit(0 if jax.default_backend()=='gpu' else 1)" 2>/dev/null; then
  echo "JAX sees no GPU: nothing to check (use --cpu-dry-run to exercise the script on a CPU)" \
    | tee -a "$SUMMARY"
  exit 2
fi

# 2 fast tests on the device --------------------------------------------------------------------
TESTS=(tests/test_train.py tests/test_parallel.py tests/test_encoders.py tests/test_checkpoint.py
       tests/test_embeddings.py tests/test_sparse.py parity/test_parity.py)
if [ "$DRY" = 1 ]; then TESTS=(tests/test_parallel.py -k "not four and not two"); fi
step tests 150 "$PY" -m pytest -q -x -p no:cacheprovider "${TESTS[@]}"

# 3 the main job, cold then warm compilation cache ----------------------------------------------
rm -rf "$JAXBESPOKE_COMPILE_CACHE"
MAIN=(experiments/convergence.py --device "$DEV" --no-progress --out "$OUTDIR/main")
if [ "$DRY" = 1 ]; then MAIN+=(--quick --seeds 4); else MAIN+=(--seeds 16); fi
step main_cold 120 "$PY" "${MAIN[@]}"
step main_warm 90 "$PY" "${MAIN[@]}"

# 4 the definitive-size encoder step ------------------------------------------------------------
if [ "$DRY" = 1 ]; then ENC=(--quick --torch-threads 1); else ENC=(--steps 300 --torch-threads "$(nproc)"); fi
step encoder 120 "$PY" bench/bench_replicate.py "${ENC[@]}" --out "$OUTDIR/bench_replicate.json"

# 5 the sparse pipeline -------------------------------------------------------------------------
if [ "$DRY" = 1 ]; then SP=(--quick --torch-threads 1); else SP=(--torch-threads "$(nproc)"); fi
step sparse 150 "$PY" bench/bench_sparse.py "${SP[@]}" --out "$OUTDIR/bench_sparse.json"

# 6 the full-length definitive preset, for the time left ----------------------------------------
L=$(( $(left) - 25 ))
if [ "$L" -ge 30 ]; then
  DEF=(bench/definitive_full.py --device "$DEV" --no-progress --budget-s "$L" --ckpt "$CKPT"
       --out "$OUTDIR/definitive")
  [ "$DRY" = 1 ] && DEF+=(--quick --seeds 2)
  step definitive $(( (L + 20) / LIMIT_SCALE + 1 )) "$PY" "${DEF[@]}"
else
  echo "definitive: skipped (budget spent)" | tee -a "$SUMMARY"
fi

echo "total $(( $(date +%s) - START )) s; logs and JSON in $OUTDIR" | tee -a "$SUMMARY"
