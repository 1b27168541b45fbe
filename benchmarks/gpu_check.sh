#!/usr/bin/env bash
# Exercises every CUDA path of ganzoo on one machine with an NVIDIA GPU and writes what it found
# to one results file; sized for under 8 minutes (runs of 100-300 iterations, short benchmarks). CI never runs it. docs/performance.md says how to run
# it and holds the figures it produced.
#
#   benchmarks/gpu_check.sh --prepare     # here, where MNIST is cached: gzip it into .gpu-data/
#   benchmarks/gpu_check.sh [RESULTS]     # on the GPU machine, from the repository root
#   GPU_CHECK_DRY=1 benchmarks/gpu_check.sh /tmp/dry.txt   # its plumbing, on a CPU
#
# RESULTS defaults to $OUT/gpu_check.txt when OUT is set, else ./gpu_check.txt. Each check prints
# one line, "PASS name: what it saw" or "FAIL name: why", and the file ends with the dcgan img/s
# at batch 128 and 512 (fp32 and bf16, channels-last) as bench_dcgan.py's JSON. With .gpu-data/mnist
# present the training checks run on MNIST; without it, on a folder of generated 32x32 images.
# The exit status is the number of failed checks.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if [ "${1:-}" = "--prepare" ]; then
    src=${GANZOO_CACHE:-$HOME/.cache/ganzoo}/mnist
    mkdir -p .gpu-data/mnist
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        gzip -c "$src/$f" >".gpu-data/mnist/$f.gz" || exit 1
    done
    grep -qx '/.gpu-data/' .git/info/exclude 2>/dev/null || echo '/.gpu-data/' >>.git/info/exclude
    du -sh .gpu-data
    exit 0
fi

RESULTS=${1:-${OUT:-.}/gpu_check.txt}
WORK=$(mktemp -d)
LOG=$WORK/log
FAILED=0
START=$(date +%s)
: >"$RESULTS"
say() { echo "$*" | tee -a "$RESULTS"; }

# ganzoo from this checkout, with the machine's own torch (no index needed: --no-deps)
# (an editable install; where the environment is read-only, a copy on PYTHONPATH)
if ! $PY -c "import ganzoo.cli" 2>/dev/null; then
    if ! $PY -m pip install -q --no-deps --no-build-isolation --no-index -e . >"$WORK/pip.log" 2>&1; then
        $PY -m pip install -q --no-deps --no-build-isolation --no-index --target "$WORK/site" . \
            >>"$WORK/pip.log" 2>&1 || { say "FAIL install: $(tail -n 3 "$WORK/pip.log")"; exit 1; }
        export PYTHONPATH="$WORK/site${PYTHONPATH:+:$PYTHONPATH}"
    fi
fi
GANZOO="$PY -m ganzoo"
say "# ganzoo gpu_check, $(date -u +%Y-%m-%dT%H:%MZ)"
say "# $($PY -c 'import torch; c = torch.cuda.is_available(); print("torch", torch.__version__, "CUDA", torch.version.cuda, "|", torch.cuda.get_device_name(0) if c else "no GPU", "|", torch.cuda.device_count(), "GPU(s)")' 2>&1)"
NGPU=$($PY -c 'import torch; print(torch.cuda.device_count())' 2>/dev/null || echo 0)

# check NAME CMD...: runs CMD (a command or an exported function) with a time limit, PASS when it exits 0
check() {
    local name=$1
    shift
    if timeout 240 bash -c '"$@"' _ "$@" >"$LOG" 2>&1; then
        say "PASS $name: $(tail -n 1 "$LOG" | cut -c1-300)"
    else
        say "FAIL $name (exit $?): $(tail -n 5 "$LOG" | tr '\n' ' ' | cut -c1-600)"
        FAILED=$((FAILED + 1))
    fi
}

CHECK="$PY benchmarks/gpu_check.py"
if [ -d .gpu-data/mnist ]; then
    DATA=(mnist --data-dir .gpu-data/mnist)
else
    $CHECK images "$WORK/images" >/dev/null
    DATA=(image-folder --data-dir "$WORK/images" --set dataset.image_size=32)
fi
# GPU_CHECK_DRY=1 runs the plumbing on the CPU in a few minutes: 2-iteration runs, one-block
# benchmarks (the CUDA-only checks fail there, as they should)
DEVICE=cuda N=100 BLOCKS=5 BENCH_IT=20 ZOO=(--seconds 1.5)
if [ -n "${GPU_CHECK_DRY:-}" ]; then
    DEVICE=cpu N=2 BLOCKS=1 BENCH_IT=1 ZOO=(--smoke)
fi
TRAIN="train dcgan ${DATA[*]} --seed 0 --json --set log_every=20 --device $DEVICE"
export PY GANZOO CHECK TRAIN WORK

# trains RUN with the extra options, then checks its last figures are finite
train() {
    local run=$1
    shift
    $GANZOO $TRAIN --out "$WORK/$run" "$@" >"$WORK/$run.json" && $CHECK finite "$WORK/$run.json"
}
export -f train

# 1. device selection: auto picks CUDA; cuda:N past the last GPU is one sentence and a non-zero exit
check device-auto $CHECK device
check device-missing bash -c "! $GANZOO train dcgan ${DATA[*]} --device cuda:$NGPU --iterations 1 \
    --out $WORK/none >$WORK/none.txt 2>&1 && ! grep -q Traceback $WORK/none.txt && cat $WORK/none.txt"

# 2. the precisions: fp32, bf16 autocast, fp16 autocast with its GradScaler; finite figures
for p in fp32 bf16 fp16; do
    check "train-$p" train "$p" --precision $p --iterations $((3 * N))
    check "precision-$p" $CHECK precision "$WORK/$p" $p
done

# 3. memory formats: channels-last (what auto picks on CUDA) and contiguous
for m in channels_last contiguous; do
    check "memory-$m" train "$m" --set memory_format=$m --iterations $N
done

# 4. torch.compile
check compile train compile --compile --iterations $N

# 5. torchrun with NCCL on every GPU of the machine
check torchrun-nccl bash -c "$PY -m torch.distributed.run --standalone --nproc-per-node $NGPU -m ganzoo \
    $TRAIN --iterations $N --out $WORK/ddp >$WORK/ddp.json && $CHECK finite $WORK/ddp.json"

# 6. streamed data: an image folder over max_memory_mb goes through a DataLoader into pinned memory
[ -d "$WORK/images" ] || $CHECK images "$WORK/images" >/dev/null
check streamed-pinned $CHECK streamed "$WORK/images"
check train-streamed bash -c "$GANZOO train dcgan image-folder --data-dir $WORK/images \
    --set dataset.image_size=32 --set dataset.max_memory_mb=0.01 --device $DEVICE --iterations $N \
    --seed 0 --json --out $WORK/streamed >$WORK/streamed.json && $CHECK finite $WORK/streamed.json"

# 7. exact resume on the GPU: 200 straight vs 100 then --resume to 200, G's weights compared
check resume bash -c "$GANZOO $TRAIN --iterations $((2 * N)) --checkpoint-every $N --out $WORK/straight -q &&
    $GANZOO $TRAIN --iterations $N --checkpoint-every $N --out $WORK/half -q &&
    $GANZOO train --resume $WORK/half --iterations $((2 * N)) -q &&
    $CHECK same-weights $WORK/straight $WORK/half"

# 8. eval on the GPU with the shipped classifier (MNIST only)
if [ -d .gpu-data/mnist ]; then
    check eval bash -c "$GANZOO eval $WORK/fp32 --device $DEVICE --data-dir .gpu-data/mnist --json | tr -d '\n ' | cut -c1-300"
fi

# 9. dcgan img/s at batch 128 and 512, fp32 and bf16 (the bench's variants), and every recipe's step
for b in 128 512; do
    check "bench-dcgan-$b" bash -c "$PY benchmarks/bench_dcgan.py --device $DEVICE --batch-size $b \\
        --shape 3x32x32 --blocks $BLOCKS --iterations $BENCH_IT --warmup 1 --json >$WORK/bench-$b.json && $CHECK img-per-s $WORK/bench-$b.json"
done
check bench-zoo bash -c "$PY benchmarks/bench_zoo.py --device $DEVICE ${ZOO[*]} >$WORK/zoo.txt && tail -n 3 $WORK/zoo.txt"

say ""
say "# $FAILED check(s) failed; $(($(date +%s) - START)) s"
for f in "$WORK"/bench-128.json "$WORK"/bench-512.json "$WORK"/zoo.txt; do
    [ -f "$f" ] && { say "## $(basename "$f")"; cat "$f" >>"$RESULTS"; }
done
exit $FAILED
