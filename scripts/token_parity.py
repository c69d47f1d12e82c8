"""Token-id parity against HF `tokenizers` (Python), the reference docs/conventions.md names.

  token_parity.py run RUN_DIR TOKENIZER_JSON
      every row of RUN/tables/tokenized against encode(prompt) + encode(response) + [EOD]
      of its curated sample; prints a summary, exits 1 on any difference.
  token_parity.py jsonl FILE TOKENIZER_JSON
      for each {"prompt", "response"} line, prints {"input_ids", "prompt_tokens"}.
"""
import glob
import json
import sys

import pyarrow.parquet as pq
from tokenizers import Tokenizer

EOD = "<|endoftext|>"


def encode_sample(tok, eod, prompt, response):
    prompt_ids = tok.encode(prompt, add_special_tokens=False).ids
    response_ids = tok.encode(response, add_special_tokens=False).ids
    return prompt_ids + response_ids + [eod], len(prompt_ids)


def read_rows(table_dir, columns):
    for path in sorted(glob.glob(f"{table_dir}/*.parquet")):
        yield from pq.read_table(path, columns=columns).to_pylist()


def check_run(run, tokenizer_path):
    tok = Tokenizer.from_file(tokenizer_path)
    eod = tok.token_to_id(EOD)
    curated = {
        r["sample_id"]: (r["prompt"], r["response"])
        for r in read_rows(f"{run}/tables/curated", ["sample_id", "prompt", "response"])
    }
    checked = mismatches = 0
    for row in read_rows(f"{run}/tables/tokenized", ["sample_id", "input_ids", "prompt_tokens", "n_tokens"]):
        prompt, response = curated[row["sample_id"]]
        ids, prompt_tokens = encode_sample(tok, eod, prompt, response)
        checked += 1
        if ids != row["input_ids"] or prompt_tokens != row["prompt_tokens"] or len(ids) != row["n_tokens"]:
            mismatches += 1
            first = next((i for i, (a, b) in enumerate(zip(ids, row["input_ids"])) if a != b), min(len(ids), len(row["input_ids"])))
            print(f"MISMATCH {row['sample_id']}: first difference at token {first}", file=sys.stderr)
    print(f"{checked} documents checked against tokenizers {__import__('tokenizers').__version__}; {mismatches} mismatch(es)")
    return 1 if mismatches or checked == 0 else 0


def encode_jsonl(path, tokenizer_path):
    tok = Tokenizer.from_file(tokenizer_path)
    eod = tok.token_to_id(EOD)
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            doc = json.loads(line)
            ids, prompt_tokens = encode_sample(tok, eod, doc["prompt"], doc["response"])
            print(json.dumps({"input_ids": ids, "prompt_tokens": prompt_tokens}))
    return 0


if __name__ == "__main__":
    mode, target, tokenizer = sys.argv[1:4]
    sys.exit(check_run(target, tokenizer) if mode == "run" else encode_jsonl(target, tokenizer))
