#!/usr/bin/env bash
# The embedded model's denoiser on a GPU for a fixed time: a new run from the shipped weights, then as
# many steps as fit, with the learning rate annealed over exactly those steps.
#   scripts/gpu_train.sh DEST [SECONDS]
# 1. A first leg of 100 steps renders the clips on every core, runs the decoder stage and the pool,
#    and measures the step rate; 2. the second leg resumes it with the step total that fits the time
#    left. Only the end is evaluated. The run, less its clips and pool, comes back as DEST/run.tar.part-*
#    (parts of 15 MB); to continue it on a CPU, join the parts, untar into runs/ and give it the pool and
#    text cache of a CPU run of the same preset and seed before --resume.
# Environment: PYTHON (python3), PRESET (previz), DEVICE (cuda), INIT (resources/models/previz-v1; empty
# for none), BATCH (32), POOL_PAIRS (1500: half the preset's pairs, rendering is the slow part), RUN.
set -uo pipefail
dest=$1
budget=${2:-540}
py=${PYTHON:-python3}
preset=${PRESET:-previz}
device=${DEVICE:-cuda}
init_from=${INIT-resources/models/previz-v1}
run=${RUN:-runs/gpu}
start=$SECONDS
mkdir -p "$dest"

pack() {
  local name
  name=$(basename "$run")
  (cd "$(dirname "$run")" && tar -cf - --ignore-failed-read "$name"/{checkpoint,best,log.jsonl,train_state.json}) \
    | split -b 15m - "$dest/run.tar.part-"
}
trap pack EXIT

init=()
[ -n "$init_from" ] && init=(--init-from "$init_from")
sets=(--set "batch=${BATCH:-32}" --set "pool_pairs=${POOL_PAIRS:-1500}" --set eval_every=1000000
      --set checkpoint_every=250)
timeout $((budget - 60)) "$py" -m engine.train --preset "$preset" --device "$device" --out "$run" \
  "${init[@]}" "${sets[@]}" --steps 100
# The checkpoint is saved before the evaluation at the end: a leg that failed there still trained.
"$py" -c "import json, sys; sys.exit(json.load(open('$run/train_state.json'))['step'] < 100)" || exit 1

# Steps a second from the first leg's step log (its cumulative wall_s), and the seconds left for the second
# leg after its evaluation at the end and the packing.
rate=$("$py" - "$run/log.jsonl" <<'EOF'
import json, sys
steps = [r for r in map(json.loads, open(sys.argv[1])) if r.get("stage") == "dit" and "loss" in r]
print((steps[-1]["step"] - steps[0]["step"]) / max(1e-6, steps[-1]["wall_s"] - steps[0]["wall_s"]))
EOF
)
left=$((budget - (SECONDS - start) - 75))
total=$("$py" -c "print(100 + max(0, int($rate * $left)))")
echo "first leg done at $((SECONDS - start)) s: $rate steps/s, $left s left: to step $total"
[ "$total" -gt 100 ] || exit 0
timeout $((left + 60)) "$py" -m engine.train --preset "$preset" --device "$device" --resume "$run" \
  --steps "$total"
echo "second leg done at $((SECONDS - start)) s"
