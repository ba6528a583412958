#!/usr/bin/env bash
# The GPU run of issue 4 in one command: the whole test suite on NumPy, CuPy and PyTorch (then
# PyTorch on CUDA), and the benchmark suite, with the GPU's name, driver, CUDA and CuPy versions.
#
#   1. here, once (needs pip and PyPI): the packages the GPU machine lacks, as wheels in .whl/
#        bash benchmarks/gpu_session.sh prepare
#   2. on the GPU machine (the device tool: run, carry [".whl"]), from the repository root:
#        bash benchmarks/gpu_session.sh run
#      It writes into $OUT (at most 8 files, as the device tool brings back): environment.txt,
#      tests-<gpu>.log, tests-torch-cuda-<gpu>.log, bench-<gpu>.log, bench-<gpu>.tar.gz (the
#      pytest-benchmark JSON, Markdown report and plots of `arraynet bench`) and summary.txt.
#      Unpack the archive into benchmarks/results/ and commit it with the logs.
#
#      Call it with timeout_s=600; "prepare" must have run in the checkout the call sends.
#
# Settings (environment): PHASES (default "tests torch-cuda bench"; "minibatch", in a call of its
# own, runs benchmarks/minibatch_peers.py's GPU peers: MINIBATCH_PEERS, MINIBATCH_BATCHES,
# MINIBATCH_ROUNDS, MINIBATCH_TIMEOUT; it writes minibatch-<date>-gpu.{json,md} and its log), TEST_BACKENDS (default
# numpy,cupy,torch), BENCH_SIZE (quick, the default, or full), BENCH_BACKENDS (default every
# usable target: numpy,torch-cpu,cupy,torch-cuda), BENCH_TIMEOUT (seconds; default what is left
# of 570 s since the start). Not yet timed on a GPU machine (the quick suite took 4 minutes on
# NumPy and PyTorch on 2 shared CPU cores). The suite writes its results only when it ends: if
# it runs out of time, a second call with PHASES=bench (and BENCH_BACKENDS=cupy,torch-cuda,numpy,
# say) runs it alone.
# The machine has cupy, torch, pytest, pytest-benchmark, matplotlib, h5py, scikit-learn and tqdm;
# array-api-compat and array-api-strict come from .whl/.
set -uo pipefail
cd "$(dirname "$0")/.."

# what the machine may lack: arraynet depends on threadpoolctl since 0.2.0; the Dask tests (CuPy
# chunks) need dask, distributed and zarr with their dependencies
WHEELS=(array-api-compat array-api-strict threadpoolctl
        dask distributed zarr numcodecs donfig google-crc32c cloudpickle fsspec toolz partd locket
        click msgpack psutil sortedcontainers tblib tornado zict pyyaml importlib_metadata zipp)

prepare() {
    grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
    rm -rf .whl && mkdir .whl
    local name version
    for name in "${WHEELS[@]}"; do
        version=$(python3 -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p')
        python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
            --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
            -d .whl "$name${version:+==$version}" || return 1
    done
    ls -l .whl
}

run() {
    local out=${OUT:?OUT must name the folder for the results (the device tool sets it)}
    local phases=${PHASES:-tests torch-cuda bench} size=${BENCH_SIZE:-quick}
    export PYTHONUNBUFFERED=1
    if compgen -G ".whl/*.whl" > /dev/null; then
        python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target /tmp/site .whl/*.whl || return 1
        export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
    fi
    # the package from this tree; where pip cannot install it, the tree's src/ on the path
    python3 -m pip install -q --no-index --no-deps --no-build-isolation -e . \
        || export PYTHONPATH=$PWD/src:$PYTHONPATH

    local gpu
    gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 \
          | tr '[:upper:]' '[:lower:]' | tr -cs 'a-z0-9' '-' | sed 's/-$//')
    gpu=${gpu:-no-gpu}
    {
        date -u +"date: %Y-%m-%dT%H:%M:%SZ"
        echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
        nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
        python3 - <<'EOF'
import platform, numpy
print("python", platform.python_version(), "| numpy", numpy.__version__)
try:
    import cupy
    rt = cupy.cuda.runtime
    props = rt.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    print("cupy", cupy.__version__, "| CUDA runtime", rt.runtimeGetVersion(), "| driver supports CUDA",
          rt.driverGetVersion(), "| device 0:", name, "| devices:", rt.getDeviceCount())
except Exception as exc:
    print("cupy: not usable:", type(exc).__name__, exc)
try:
    import torch
    print("torch", torch.__version__, "| CUDA", torch.version.cuda, "| available:", torch.cuda.is_available())
except Exception as exc:
    print("torch: not usable:", type(exc).__name__, exc)
EOF
        python3 -m arraynet info
    } 2>&1 | tee "$out/environment.txt"

    local -A rc=()
    if [[ " $phases " == *" tests "* ]]; then
        ARRAYNET_TEST_BACKENDS=${TEST_BACKENDS:-numpy,cupy,torch} python3 -m pytest tests -p no:cacheprovider -ra \
            2>&1 | tee "$out/tests-$gpu.log"
        rc[tests]=${PIPESTATUS[0]}
    fi
    if [[ " $phases " == *" torch-cuda "* ]]; then
        ARRAYNET_TEST_BACKENDS=torch ARRAYNET_TEST_TORCH_DEVICE=cuda:0 \
            python3 -m pytest tests -p no:cacheprovider -ra 2>&1 | tee "$out/tests-torch-cuda-$gpu.log"
        rc[torch-cuda]=${PIPESTATUS[0]}
    fi
    if [[ " $phases " == *" bench "* ]]; then
        local results=/tmp/arraynet-bench
        rm -rf "$results"
        # the rest of one 10-minute device call, less a margin to pack the results
        timeout "${BENCH_TIMEOUT:-$(( SECONDS < 480 ? 570 - SECONDS : 90 ))}" python3 -m arraynet bench "--$size" --output "$results" \
            ${BENCH_BACKENDS:+--backends "$BENCH_BACKENDS"} 2>&1 | tee "$out/bench-$gpu.log"
        rc[bench]=${PIPESTATUS[0]}
        if compgen -G "$results/*" > /dev/null; then
            tar -czf "$out/bench-$gpu.tar.gz" -C "$results" .
        fi
    fi

    if [[ " $phases " == *" minibatch "* ]]; then
        # issue 19's task on the GPU: arraynet on CuPy and PyTorch CUDA against PyTorch CUDA's loop
        # (and NumPy's epoch on the host for scale), batches of 256 and 1024 (at 8192 nothing reaches
        # 95% in 20 epochs at this learning rate); the report is rewritten after each round, so a
        # timeout keeps the rounds done
        timeout "${MINIBATCH_TIMEOUT:-$(( SECONDS < 480 ? 570 - SECONDS : 90 ))}" python3 benchmarks/minibatch_peers.py \
            --peers "${MINIBATCH_PEERS:-arraynet-cupy,arraynet-torch-cuda,torch-loop-cuda,arraynet-numpy}" \
            --batch-sizes "${MINIBATCH_BATCHES:-256,1024}" --rounds "${MINIBATCH_ROUNDS:-2}" \
            --output "$out" 2>&1 | tee "$out/minibatch-$gpu.log"
        rc[minibatch]=${PIPESTATUS[0]}
    fi

    local phase
    for phase in "${!rc[@]}"; do
        echo "$phase: exit code ${rc[$phase]}"
    done | tee "$out/summary.txt"
    ! grep -qv ': exit code 0$' "$out/summary.txt"
}

case "${1:-}" in
    prepare) prepare ;;
    run) run ;;
    *) echo "usage: $0 prepare|run (see the comments at the top)" >&2; exit 2 ;;
esac
