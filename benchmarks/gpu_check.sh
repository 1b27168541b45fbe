#!/usr/bin/env bash
# Exercises every CUDA path of ganzoo on a machine with an NVIDIA GPU and writes what it found to
# one results file, line by line. CI runs it only dry (GPU_CHECK_DRY=1, on the CPU, in a fresh
# virtual environment: tests/e2e/test_gpu_check.py). docs/performance.md says how to run it and
# holds the figures it produced.
#
#   benchmarks/gpu_check.sh --prepare     # here, where MNIST is cached: gzip it into .gpu-data/ (11 MB)
#   benchmarks/gpu_check.sh [RESULTS]     # on the GPU machine, from a copy of the repository
#   GPU_CHECK_DRY=1 benchmarks/gpu_check.sh /tmp/dry.txt   # its plumbing, on a CPU
#
# GPU_CHECK_DATA=DIR names another folder of MNIST's four .gz files than .gpu-data/mnist.
# RESULTS defaults to $OUT/gpu_check.txt when OUT is set, else ./gpu_check.txt. Each check writes
# one line as it ends: "PASS name (S s): what it saw", "FAIL name (exit N, S s): why" or "SKIP name: why" (a
# check this machine cannot run, or one the time budget no longer allows); each benchmark's JSON
# follows its line, so a check cut short keeps what it measured. The exit status is the number of
# failed checks (2 with nothing run: ganzoo could not be installed).
#
# It installs this checkout into a folder of its own with the machine's torch (nothing is fetched:
# no index, --no-deps), runs every command outside the checkout (where `import ganzoo` could only
# find the checkout's files, without the built-in plugins), and aborts in one line if the built-in
# entry points are not registered. The whole check keeps to GPU_CHECK_BUDGET seconds (default
# 480): each check's time limit is what is left of it. GPU_CHECK_PLANT=NAME plants a failure in
# check NAME (resume: the resumed run starts from another seed), to show that the check catches it.
set -u -o pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-python3}

if [ "${1:-}" = "--prepare" ]; then
    src=${GANZOO_CACHE:-$HOME/.cache/ganzoo}/mnist
    mkdir -p "$REPO/.gpu-data/mnist"
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        gzip -c "$src/$f" >"$REPO/.gpu-data/mnist/$f.gz" || exit 1
    done
    grep -qx '/.gpu-data/' "$REPO/.git/info/exclude" 2>/dev/null || echo '/.gpu-data/' >>"$REPO/.git/info/exclude"
    du -sh "$REPO/.gpu-data"
    echo "carry .gpu-data with the checkout (the device tool: carry [\".gpu-data\"])"
    exit 0
fi

RESULTS=${1:-${OUT:-.}/gpu_check.txt}
case $RESULTS in /*) ;; *) RESULTS=$PWD/$RESULTS ;; esac
BUDGET=${GPU_CHECK_BUDGET:-480}
PLANT=${GPU_CHECK_PLANT:-}
WORK=$(mktemp -d)
LOG=$WORK/log
FAILED=0
START=$(date +%s)
: >"$RESULTS"
say() { echo "$*" | tee -a "$RESULTS"; }
left() { echo $((BUDGET - ($(date +%s) - START))); }
cd "$WORK" || exit 2 # never the checkout: its ganzoo/ would shadow the installed one

# -- install ----------------------------------------------------------------------------------------
# pip from the checkout without an index (it needs setuptools in the environment: --no-build-isolation);
# where that fails, the same layout by hand: the package, its plugins as ganzoo.plugins, zoo.toml, and
# a dist-info carrying pyproject.toml's entry points, which is all ganzoo reads to find its plugins.
SITE=$WORK/site
if ! $PY -m pip install -q --no-deps --no-index --no-build-isolation --target "$SITE" "$REPO" >"$WORK/pip.log" 2>&1; then
    rm -rf "$SITE" && mkdir -p "$SITE" || exit 2
    cp -r "$REPO/ganzoo" "$SITE/ganzoo" && cp -r "$REPO/plugins" "$SITE/ganzoo/plugins" &&
        cp "$REPO/zoo.toml" "$SITE/ganzoo/zoo.toml" &&
        $PY "$REPO/benchmarks/gpu_check.py" dist-info "$REPO" "$SITE" >>"$WORK/pip.log" 2>&1 ||
        { say "FAIL install: $(tail -n 3 "$WORK/pip.log" | tr '\n' ' ')"; exit 2; }
fi
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
if ! $PY "$REPO/benchmarks/gpu_check.py" installed "$SITE" >"$LOG" 2>&1; then
    say "FAIL install: $(tail -n 1 "$LOG")"
    exit 2
fi
say "# ganzoo gpu_check, $(date -u +%Y-%m-%dT%H:%MZ), budget ${BUDGET} s"
say "# $(cat "$LOG")"
say "# $($PY -c 'import torch; c = torch.cuda.is_available(); print("torch", torch.__version__, "CUDA", torch.version.cuda, "|", torch.cuda.get_device_name(0) if c else "no GPU", "|", torch.cuda.device_count(), "GPU(s)")' 2>&1)"
NGPU=$($PY -c 'import torch; print(torch.cuda.device_count())' 2>/dev/null || echo 0)

# check NAME CMD...: runs CMD (a command or an exported function) within what is left of the budget;
# PASS when it exits 0, with its last line; SKIP when the budget is spent.
check() {
    local name=$1 limit
    shift
    limit=$(left)
    if [ "$limit" -lt 15 ]; then
        say "SKIP $name: the ${BUDGET} s budget is spent"
        return
    fi
    [ "$limit" -gt 240 ] && limit=240
    local began=$(date +%s)
    if timeout "$limit" bash -c '"$@"' _ "$@" >"$LOG" 2>&1; then
        say "PASS $name ($(($(date +%s) - began)) s): $(tail -n 1 "$LOG" | cut -c1-400)"
    else
        local status=$?
        [ "$status" -eq 124 ] && echo "(cut at the ${limit} s left of the budget)" >>"$LOG"
        say "FAIL $name (exit $status, $(($(date +%s) - began)) s): $(tail -n 5 "$LOG" | tr '\n' ' ' | cut -c1-600)"
        FAILED=$((FAILED + 1))
    fi
}
skip() { say "SKIP $1: $2"; }

CHECK="$PY $REPO/benchmarks/gpu_check.py"
DATA_DIR=${GPU_CHECK_DATA:-$REPO/.gpu-data/mnist} # MNIST's four .gz files (CI's dry run: the test fixtures)
if [ -d "$DATA_DIR" ]; then
    DATA=(mnist --data-dir "$DATA_DIR")
else
    $CHECK images "$WORK/images" >/dev/null
    DATA=(image-folder --data-dir "$WORK/images" --set dataset.image_size=32)
    say "# no .gpu-data/mnist (benchmarks/gpu_check.sh --prepare, then carry it): training checks on generated images, no eval"
fi
# GPU_CHECK_DRY=1: the plumbing on the CPU in a few minutes (2-iteration runs, one-block benchmarks;
# the CUDA-only checks fail there, as they should).
# The dry run benchmarks batch 128 only: batch 512's bf16 side alone took 71 s on a CPU without native
# bf16 (AMD EPYC), a third of the dry run, and checks no plumbing that batch 128 does not.
DEVICE=cuda N=100 BLOCKS=5 BENCH_IT=20 ZOO=(--seconds 1.5) EVAL_N=2000 BATCHES="128 512"
if [ -n "${GPU_CHECK_DRY:-}" ]; then
    DEVICE=cpu N=2 BLOCKS=1 BENCH_IT=1 ZOO=(--smoke) EVAL_N=64 BATCHES=128
fi
GANZOO="$PY -m ganzoo"
TRAIN="train dcgan ${DATA[*]} --seed 0 --json --set log_every=10 --device $DEVICE"
export PY GANZOO CHECK TRAIN WORK DEVICE N REPO

# trains RUN with the extra options, then checks its last figures are finite
train() {
    local run=$1
    shift
    $GANZOO $TRAIN --out "$WORK/$run" "$@" >"$WORK/$run.json" && $CHECK finite "$WORK/$run.json"
}
export -f train

# 1. device selection: auto picks CUDA; cuda:N past the last GPU is one sentence and a non-zero exit
check device-auto $CHECK device
check device-missing $CHECK missing-device "$NGPU" ${DATA[*]}

# 2. the dcgan recipe as users run it (bf16 where native, lazy R1's double backward, the EMA)
check recipe bash -c "train recipe --iterations $((3 * N)) && $CHECK recipe $WORK/recipe"

# 3. exact resume: straight against stopped-and-resumed, and straight against straight (the control)
RESUME_SEED=0
[ "$PLANT" = resume ] && RESUME_SEED=1
check resume bash -c "$GANZOO $TRAIN --iterations $((2 * N)) --checkpoint-every $N --out $WORK/straight -q &&
    $GANZOO $TRAIN --iterations $((2 * N)) --checkpoint-every $N --out $WORK/again -q &&
    $GANZOO ${TRAIN/--seed 0/--seed $RESUME_SEED} --iterations $N --checkpoint-every $N --out $WORK/half -q &&
    $GANZOO train --resume $WORK/half --iterations $((2 * N)) -q &&
    $CHECK same-weights $WORK/straight $WORK/half $WORK/again"

# 4. a CUDA checkpoint resumed on the CPU: loads (re-seeded streams, with a note), never "damaged"
check resume-cpu bash -c "$GANZOO train --resume $WORK/straight --iterations $((2 * N + 2)) --device cpu \
    >$WORK/moved.txt 2>&1 && $CHECK moved $WORK/straight $WORK/moved.txt"

# 5. a class-conditional run (conditional BatchNorm, projection D, ACGAN) and eval with the classifier
if [ -d "$DATA_DIR" ]; then
    check conditional train conditional --conditional --iterations $N
    check eval bash -c "$GANZOO eval $WORK/recipe --device $DEVICE --data-dir $DATA_DIR -n $EVAL_N --json \
        >$WORK/eval.json && $CHECK eval-json $WORK/eval.json"
else
    skip conditional "no .gpu-data/mnist: the generated images have no classes"
    skip eval "no .gpu-data/mnist: ganzoo ships no classifier for generated images"
fi

# 6. no host-device synchronisation inside a training step (torch.cuda.set_sync_debug_mode)
check syncs $CHECK syncs $DEVICE ${DATA[*]}

# 7. the precisions: fp32 (no TF32), bf16 autocast, fp16 autocast with its GradScaler; finite figures
for p in fp32 bf16 fp16; do
    if [ "$p" = fp16 ] && [ "$DEVICE" = cpu ]; then
        skip train-fp16 "fp16 autocast on the CPU takes minutes an iteration (measured: over 2 min for one)"
        continue
    fi
    check "train-$p" bash -c "train $p --precision $p --iterations $N && $CHECK precision $WORK/$p $p"
done

# 8. what deterministic kernels cost: the same seeded run with and without them
check deterministic bash -c "train det-on --iterations $((2 * N)) --set deterministic=true &&
    train det-off --iterations $((2 * N)) --set deterministic=false &&
    $CHECK cost $WORK/det-on.json $WORK/det-off.json"

# 9. memory formats, torch.compile
for m in channels_last contiguous; do
    check "memory-$m" train "$m" --set memory_format=$m --iterations $N
done
if [ "$DEVICE" = cpu ]; then
    skip compile "torch.compile on the CPU builds C++ kernels for minutes (a dry run checks no compiler)"
else
    check compile train compile --compile --iterations $N
fi

# 10. torchrun with NCCL, one process a GPU: the dcgan recipe (BatchNorm in D, lazy R1) under DDP
if [ "$NGPU" -ge 2 ]; then
    check torchrun-nccl bash -c "$PY -m torch.distributed.run --standalone --nproc-per-node $NGPU -m ganzoo \
        $TRAIN --iterations $N --out $WORK/ddp >$WORK/ddp.json && $CHECK finite $WORK/ddp.json &&
        $CHECK world $WORK/ddp $NGPU"
else
    skip torchrun-nccl "$NGPU GPU(s): NCCL needs one GPU a process, so DDP on CUDA is not checked here"
fi

# 11. streamed data: an image folder over max_memory_mb goes through a DataLoader into pinned memory
[ -d "$WORK/images" ] || $CHECK images "$WORK/images" >/dev/null
check streamed-pinned $CHECK streamed "$WORK/images"
check train-streamed bash -c "$GANZOO train dcgan image-folder --data-dir $WORK/images \
    --set dataset.image_size=32 --set dataset.max_memory_mb=1 --device $DEVICE --iterations $N \
    --seed 0 --json --out $WORK/streamed >$WORK/streamed.json && $CHECK finite $WORK/streamed.json"

# 12. dcgan img/s at batch 128 and 512, fp32 and bf16 (the bench's variants), and every recipe's step
[ "$BATCHES" = 128 ] && skip bench-dcgan-512 "a dry run benchmarks batch 128 only"
for b in $BATCHES; do
    check "bench-dcgan-$b" bash -c "$PY $REPO/benchmarks/bench_dcgan.py --device $DEVICE --batch-size $b \
        --shape 3x32x32 --blocks $BLOCKS --iterations $BENCH_IT --warmup 1 --json >$WORK/bench-$b.json &&
        $CHECK img-per-s $WORK/bench-$b.json"
    [ -s "$WORK/bench-$b.json" ] && cat "$WORK/bench-$b.json" >>"$RESULTS"
done
check bench-zoo bash -c "$PY $REPO/benchmarks/bench_zoo.py --device $DEVICE ${ZOO[*]} >$WORK/zoo.txt && tail -n 3 $WORK/zoo.txt"
[ -s "$WORK/zoo.txt" ] && cat "$WORK/zoo.txt" >>"$RESULTS"

say ""
say "# $FAILED check(s) failed; $(($(date +%s) - START)) s of the ${BUDGET} s budget"
exit $FAILED
