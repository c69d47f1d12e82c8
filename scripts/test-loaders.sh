#!/usr/bin/env bash
# `just test-loaders`: the demo corpus exported in every format and read back by the trainers'
# own readers (scripts/test_loaders.py in .venv-loaders; HF datasets in .venv), also packed at a
# short sequence length so documents longer than it are left out and packs hold several
# documents; then the same check on a deliberately broken copy of the exports, which must fail
# and name every reader. Usage: test-loaders.sh SWE_CORPUS_BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "$1")
run=runs/loaders
short=512
export SWE_CORPUS_LOG=${SWE_CORPUS_LOG:-warn}
# megatron-core warns at import that Transformer Engine and Apex are absent (CPU machine).
export PYTHONWARNINGS=${PYTHONWARNINGS:-ignore::UserWarning}
rm -rf "$run" "$run-broken"   # a scratch run: one left by an older swe-corpus has another schema
"$bin" run --run "$run" > /dev/null
"$bin" export --run "$run" --format megatron-bridge --sequence-length "$short" --out "$run/exports-short/megatron-bridge" > /dev/null
"$bin" export --run "$run" --format hf --packed --sequence-length "$short" --out "$run/exports-short/hf-packed" > /dev/null
"$bin" verify --run "$run" > /dev/null

echo "== the trainers' readers on the demo exports"
.venv-loaders/bin/python scripts/test_loaders.py "$run" --bridge "$run/exports-short/megatron-bridge:$short"
echo "== HF datasets on the packed export at $short tokens"
.venv/bin/python scripts/check_hf_export.py "$run/exports-short/hf-packed" "$run/tables/shards" "$short"

echo "== the same check on a broken copy must fail, naming each reader"
mkdir -p "$run-broken"
cp -r "$run/exports" "$run-broken/exports"
.venv-loaders/bin/python - "$run-broken/exports" <<'PY'
import glob, sys
import numpy as np
import pyarrow as pa, pyarrow.parquet as pq
root = sys.argv[1]
def flip(path, dtype, index):
    data = np.fromfile(path, dtype=dtype)
    data[index] = data[index] + 1 if data[index] < np.iinfo(dtype).max else 0
    data.tofile(path)
flip(sorted(glob.glob(f"{root}/megatron/*.bin"))[0], np.int32, 3)           # one token id
flip(sorted(glob.glob(f"{root}/olmo/*.label_mask.npy"))[0], np.uint8, 70)   # one mask byte
flip(sorted(glob.glob(f"{root}/datatrove/*.ds"))[0], np.uint32, 5)          # one token id
path = sorted(glob.glob(f"{root}/megatron-bridge/*.idx.parquet"))[0]        # one mask value
table = pq.read_table(path)
masks = table.column("loss_mask").to_pylist()
masks[0][0] = 1 - masks[0][0]
table = table.set_column(table.schema.get_field_index("loss_mask"), "loss_mask",
                         pa.array(masks, type=table.schema.field("loss_mask").type))
pq.write_table(table, path)
PY
if .venv-loaders/bin/python scripts/test_loaders.py "$run" --exports "$run-broken/exports" > "$run-broken/report.txt" 2>&1; then
    cat "$run-broken/report.txt"
    echo "test-loaders: the broken exports passed: the check cannot fail" >&2
    exit 1
fi
for reader in megatron-core ai2-olmo-core datatrove "megatron-bridge rules"; do
    if ! grep -q "^PROBLEM $reader: " "$run-broken/report.txt"; then
        cat "$run-broken/report.txt"
        echo "test-loaders: $reader did not notice its broken file" >&2
        exit 1
    fi
done
echo "broken copy: $(grep -c '^PROBLEM' "$run-broken/report.txt") problem(s) reported, every reader named: ok"
rm -rf "$run-broken"
