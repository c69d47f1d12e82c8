"""`just test-loaders`: the exports of a run read by the readers trainers use (megatron-core's
IndexedDataset, OLMo-core's numpy dataset and document indices, datatrove's DatatroveFileDataset),
and Megatron-Bridge's packed Parquet (its reader needs CUDA builds: checked with pyarrow against
the format's documented rules), compared with the shards (pyarrow) for every document: token
ids, boundaries, loss masks.

Usage: test_loaders.py RUN_DIR [--exports DIR] [--bridge DIR:SEQUENCE_LENGTH]...
  --exports  the exports folder to read (default RUN_DIR/exports); a copy can be checked
  --bridge   also check a megatron-bridge export packed at another sequence length
Exit status 1 when any reader disagrees with the shards."""
import argparse
import glob
import os
import sys
import tomllib

import numpy as np
import pyarrow.parquet as pq

EOD = 151643
parser = argparse.ArgumentParser()
parser.add_argument("run")
parser.add_argument("--exports")
parser.add_argument("--bridge", action="append", default=[])
args = parser.parse_args()
run = args.run
exports = args.exports or f"{run}/exports"
problems = []


def shards():
    for path in sorted(glob.glob(f"{run}/tables/shards/*.parquet")):
        stem = os.path.basename(path)[: -len(".parquet")]
        rows = pq.read_table(path, columns=["input_ids", "prompt_tokens"]).to_pylist()
        docs = [(r["input_ids"], [0] * r["prompt_tokens"] + [1] * (len(r["input_ids"]) - r["prompt_tokens"])) for r in rows]
        yield stem, docs


current = "setup"


def check(name, ok, what):
    if not ok:
        problems.append(f"{current}: {name}: {what}")


def megatron():
    from megatron.core.datasets.indexed_dataset import IndexedDataset

    n = 0
    for stem, docs in shards():
        ds = IndexedDataset(f"{exports}/megatron/{stem}")
        check(stem, len(ds) == len(docs), f"megatron has {len(ds)} sequences, shard {len(docs)}")
        check(stem, list(ds.get_document_indices()) == list(range(len(docs) + 1)), "document indices")
        for i, (ids, _) in enumerate(docs):
            check(stem, list(map(int, ds[i])) == ids, f"megatron sequence {i} differs")
            n += 1
    return n


def olmo():
    from olmo_core.data.numpy_dataset import NumpyFSLDataset
    from olmo_core.data.utils import iter_document_indices, load_array_slice

    n = 0
    for stem, docs in shards():
        path = f"{exports}/olmo/{stem}.npy"
        spans = list(iter_document_indices(path, eos_token_id=EOD, dtype=np.uint32, use_array_if_local=True))
        check(stem, len(spans) == len(docs), f"olmo finds {len(spans)} documents, shard {len(docs)}")
        for (start, end), (ids, _) in zip(spans, docs):
            check(stem, list(map(int, load_array_slice(path, start, end, np.uint32))) == ids, f"olmo document at {start}")
            n += 1
        all_ids = [t for ids, _ in docs for t in ids]
        all_mask = [m for _, mask in docs for m in mask]
        seq = 64
        if len(all_ids) >= seq:
            ds = NumpyFSLDataset(
                path, sequence_length=seq, pad_token_id=151643, eos_token_id=EOD, vocab_size=151936,
                dtype=np.uint32, label_mask_paths=[f"{exports}/olmo/{stem}.label_mask.npy"],
            )
            ds.prepare()
            for i in range(len(ds)):
                item = ds[i]
                check(stem, list(map(int, item["input_ids"])) == all_ids[i * seq:(i + 1) * seq], f"olmo instance {i} ids")
                check(stem, list(map(int, item["label_mask"])) == all_mask[i * seq:(i + 1) * seq], f"olmo instance {i} label mask")
    return n


def datatrove():
    from datatrove.utils.dataset import DatatroveFileDataset

    n = 0
    for stem, docs in shards():
        all_ids = [t for ids, _ in docs for t in ids]
        positions = [p for ids, _ in docs for p in range(len(ids))]
        seq = 63
        ds = DatatroveFileDataset(f"{exports}/datatrove/{stem}.ds", seq_len=seq, token_size=4, return_positions=True)
        for i in range(len(ds)):
            item = ds[i]
            window = slice(i * (seq + 1), (i + 1) * (seq + 1))
            check(stem, list(map(int, item["input_ids"])) == all_ids[window], f"datatrove window {i} ids")
            got = list(map(int, item["positions"]))
            # A window starts mid-document: datatrove counts from the window start there.
            want = positions[window]
            first_doc_end = next((k for k in range(1, len(want)) if want[k] == 0), len(want))
            check(stem, got[first_doc_end:] == want[first_doc_end:], f"datatrove window {i} boundaries")
        n += len(docs)
    return n


def pack(docs, sequence_length):
    """Sequential greedy packing in shard order; longer documents are left out."""
    packs, open_, tokens, left_out = [], [], 0, 0
    for ids, mask in docs:
        if len(ids) > sequence_length:
            left_out += 1
            continue
        if tokens + len(ids) > sequence_length:
            packs.append(open_)
            open_, tokens = [], 0
        open_.append((ids, mask))
        tokens += len(ids)
    if open_:
        packs.append(open_)
    return packs, left_out


def bridge_at(folder, sequence_length):
    """Megatron-Bridge packed Parquet against the shards: the documented rules (seq_start_id
    starts at 0, increases, stays below the row length; loss_mask as long as input_ids) and
    the label-aligned mask (loss_mask[j] = m[j + 1], 0 at each document's last token)."""
    n = left = 0
    for stem, docs in shards():
        rows = pq.read_table(f"{folder}/{stem}.idx.parquet").to_pylist()
        packs, left_out = pack(docs, sequence_length)
        left += left_out
        check(stem, len(rows) == len(packs), f"bridge has {len(rows)} packed rows, expected {len(packs)}")
        for i, (row, packed) in enumerate(zip(rows, packs)):
            ids, starts, mask = row["input_ids"], row["seq_start_id"], row["loss_mask"]
            check(stem, starts and starts[0] == 0, f"bridge row {i}: seq_start_id does not start at 0")
            check(stem, all(a < b for a, b in zip(starts, starts[1:])), f"bridge row {i}: seq_start_id not increasing")
            check(stem, all(s < len(ids) for s in starts), f"bridge row {i}: a start past the row")
            check(stem, len(mask) == len(ids), f"bridge row {i}: loss_mask length")
            want_ids, want_starts, want_mask = [], [], []
            for doc_ids, doc_mask in packed:
                want_starts.append(len(want_ids))
                want_ids.extend(doc_ids)
                want_mask.extend(doc_mask[1:] + [0])
            check(stem, ids == want_ids, f"bridge row {i} ids differ")
            check(stem, starts == want_starts, f"bridge row {i} document starts differ")
            check(stem, mask == want_mask, f"bridge row {i} loss_mask differs")
            n += len(packed)
    return n, left


def bridge():
    with open(f"{run}/recipe.toml", "rb") as f:
        sequence_length = tomllib.load(f).get("shard", {}).get("sequence_length", 32768)
    n, _ = bridge_at(f"{exports}/megatron-bridge", sequence_length)
    for spec in args.bridge:
        folder, length = spec.rsplit(":", 1)
        m, left = bridge_at(folder, int(length))
        check(folder, left > 0, f"no document is longer than {length}: the left-out path is not exercised")
        n += m
    return n


# The masks must be exercised at both edges: documents with an empty prompt (commit packs) and
# documents with one.
prompts = [sum(1 for t in mask if t == 0) for _, docs in shards() for _, mask in docs]
check("shards", any(p == 0 for p in prompts) and any(p > 0 for p in prompts), "need documents with and without a prompt")

readers = (("megatron-core", megatron), ("ai2-olmo-core", olmo), ("datatrove", datatrove), ("megatron-bridge rules", bridge))
for name, reader in readers:
    current = name
    before = len(problems)
    try:
        count = reader()
        print(f"{name}: {count} documents compared, {len(problems) - before} problem(s)")
    except Exception as e:  # a reader that cannot run is a failure, not a skip
        problems.append(f"{name}: {type(e).__name__}: {e}")
        print(f"{name}: failed: {type(e).__name__}: {e}")
for p in problems[:20]:
    print("PROBLEM", p)
print(f"{len(problems)} problem(s)")
sys.exit(1 if problems else 0)
