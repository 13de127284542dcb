#!/usr/bin/env bash
# End-to-end build of models/tiny-lm: corpus -> tokenizer -> train -> export -> verify.
#
# Needs Node (with this repo's node_modules installed) and Debian's PyTorch:
#   apt-get install -y python3-torch python3-numpy python3-onnx python3-regex libopenblas0-pthread
# and runs /usr/bin/python3 explicitly (a pyenv python3 on PATH does not see Debian's packages).
#
# Training takes ~40 min on 2 CPU cores. It checkpoints to tools/build-model/out/ckpt/ and
# resumes if interrupted: just run this script again.
#   MAX_STEPS=2200 bash tools/build-model/build.sh
# On a shared/busy machine set TIME_BUDGET (seconds of training time): the cosine schedule then
# follows wall-clock progress and training stops at whichever of MAX_STEPS / TIME_BUDGET comes first
# (the committed model was trained this way: see models/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
MAX_STEPS="${MAX_STEPS:-2200}"
TIME_BUDGET="${TIME_BUDGET:-0}"

node tools/build-model/corpus.mjs
$PY tools/build-model/train_tokenizer.py --vocab 4096
node tools/build-model/verify-tokenizer.mjs tools/build-model/out/tokenizer/tokenizer.json
$PY tools/build-model/train.py --max-steps "$MAX_STEPS" --time-budget "$TIME_BUDGET" --ckpt-every 100
$PY tools/build-model/export.py --ckpt tools/build-model/out/ckpt/latest.pt
node tools/build-model/verify-tokenizer.mjs models/tiny-lm/tokenizer.json
node tools/build-model/verify-onnx.mjs models/tiny-lm
