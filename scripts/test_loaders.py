"""`just test-loaders`: the exports of a run read by the readers trainers use (megatron-core's
IndexedDataset, OLMo-core's numpy dataset and document indices, datatrove's DatatroveFileDataset),
compared with the shards (pyarrow) for every document: token ids, boundaries, loss masks.
Usage: test_loaders.py RUN_DIR"""
import glob
import os
import sys

import numpy as np
import pyarrow.parquet as pq

EOD = 151643
run = sys.argv[1]
exports = f"{run}/exports"
problems = []


def shards():
    for path in sorted(glob.glob(f"{run}/tables/shards/*.parquet")):
        stem = os.path.basename(path)[: -len(".parquet")]
        rows = pq.read_table(path, columns=["input_ids", "prompt_tokens"]).to_pylist()
        docs = [(r["input_ids"], [0] * r["prompt_tokens"] + [1] * (len(r["input_ids"]) - r["prompt_tokens"])) for r in rows]
        yield stem, docs


def check(name, ok, what):
    if not ok:
        problems.append(f"{name}: {what}")


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


for name, reader in (("megatron-core", megatron), ("ai2-olmo-core", olmo), ("datatrove", datatrove)):
    try:
        count = reader()
        print(f"{name}: {count} documents compared")
    except Exception as e:  # a reader that cannot run is a failure, not a skip
        problems.append(f"{name}: {type(e).__name__}: {e}")
for p in problems[:20]:
    print("PROBLEM", p)
print(f"{len(problems)} problem(s)")
sys.exit(1 if problems else 0)
