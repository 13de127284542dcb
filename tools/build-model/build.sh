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
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
MAX_STEPS="${MAX_STEPS:-2200}"

node tools/build-model/corpus.mjs
$PY tools/build-model/train_tokenizer.py --vocab 4096
node tools/build-model/verify-tokenizer.mjs tools/build-model/out/tokenizer/tokenizer.json
$PY tools/build-model/train.py --max-steps "$MAX_STEPS"
$PY tools/build-model/export.py --ckpt tools/build-model/out/ckpt/latest.pt
node tools/build-model/verify-tokenizer.mjs models/tiny-lm/tokenizer.json
node tools/build-model/verify-onnx.mjs models/tiny-lm
