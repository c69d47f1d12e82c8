"""Reads an `hf` export with the real HF `datasets` reader and compares every document with the
shards (read with pyarrow): token ids, boundaries, and labels (-100 on prompt tokens; packed
rows also on each document's first token). Packed at SEQUENCE_LENGTH, documents longer than it
are left out of the export, and so of the comparison.
Usage: check_hf_export.py EXPORT_DIR SHARDS_DIR [SEQUENCE_LENGTH]"""
import glob
import sys

import datasets
import pyarrow.parquet as pq

export_dir, shards_dir = sys.argv[1:3]
sequence_length = int(sys.argv[3]) if len(sys.argv) > 3 else None
datasets.disable_progress_bars()
checked = problems = 0
for split in ("train", "validation"):
    files = sorted(glob.glob(f"{export_dir}/data/{split}-*.parquet"))
    shard_prefix = "shard" if split == "train" else "validation"
    expected = []
    for path in sorted(glob.glob(f"{shards_dir}/{shard_prefix}-*.parquet")):
        for row in pq.read_table(path, columns=["input_ids", "prompt_tokens"]).to_pylist():
            expected.append(row)
    if not files:
        if expected:
            print(f"{split}: no export files for {len(expected)} documents")
            problems += 1
        continue
    ds = datasets.load_dataset("parquet", data_files={split: files}, split=split)
    packed = "cu_seqlens" in ds.column_names
    if packed and sequence_length is not None:
        expected = [row for row in expected if len(row["input_ids"]) <= sequence_length]
    docs = []
    for row in ds:
        if packed:
            cu = row["cu_seqlens"]
            for a, b in zip(cu, cu[1:]):
                docs.append((row["input_ids"][a:b], row["labels"][a:b]))
        else:
            docs.append((row["input_ids"], row["labels"]))
    if len(docs) != len(expected):
        print(f"{split}: datasets read {len(docs)} documents, the shards have {len(expected)}")
        problems += 1
        continue
    for (ids, labels), want in zip(docs, expected):
        mask = [0] * want["prompt_tokens"] + [1] * (len(want["input_ids"]) - want["prompt_tokens"])
        if packed:
            mask[0] = 0
        want_labels = [t if m else -100 for t, m in zip(want["input_ids"], mask)]
        checked += 1
        if ids != want["input_ids"] or labels != want_labels:
            problems += 1
print(f"datasets {datasets.__version__}: {checked} documents checked, {problems} problem(s)")
sys.exit(1 if problems or checked == 0 else 0)
