"""Python `tokenizers` on the same documents as tokenizer-bench (same cutting), for its table.
Prints `NAME=SECONDS,DIFFERING;` where DIFFERING counts documents whose ids differ from the
ids in IDS_FILE (one JSON list per line, ours). Usage: bench-tokenizers.py TOKENIZER IDS FILE..."""
import json
import sys
import time

from tokenizers import Tokenizer

PIECE = 16 * 1024


def documents(files):
    for name in files:
        try:
            text = open(name, "rb").read().decode("utf-8", errors="replace")
        except OSError:
            continue
        data = text.encode()
        start = 0
        while start < len(data):
            end = min(start + PIECE, len(data))
            while end < len(data) and (data[end] & 0xC0) == 0x80:
                end += 1
            if end < len(data):
                nl = data.rfind(b"\n", start, end)
                if nl >= 0:
                    end = nl + 1
            yield data[start:end].decode()
            start = end


tokenizer, ids_file, *files = sys.argv[1:]
tok = Tokenizer.from_file(tokenizer)
docs = list(documents(files))
ours = [json.loads(line) for line in open(ids_file)]
started = time.perf_counter()
ids = [tok.encode(d, add_special_tokens=False).ids for d in docs]
seconds = time.perf_counter() - started
differing = sum(1 for a, b in zip(ids, ours) if a != b) + abs(len(ids) - len(ours))
print(f"Python tokenizers {__import__('tokenizers').__version__}={seconds},{differing};", end="")

# Python tiktoken with Qwen's ranks (byte-level vocabulary decoded back to bytes), when installed.
try:
    import tiktoken
except ImportError:
    sys.exit(0)
doc = json.load(open(tokenizer, encoding="utf-8"))
printable = [b for b in range(256) if 33 <= b <= 126 or 161 <= b <= 172 or b >= 174]
byte_of = {chr(b): b for b in printable}
n = 0
for b in range(256):
    if b not in printable:
        byte_of[chr(256 + n)] = b
        n += 1
ranks = {bytes(byte_of[c] for c in token): rank for token, rank in doc["model"]["vocab"].items()}
special = {t["content"]: t["id"] for t in doc["added_tokens"]}
pattern = doc["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"]
encoding = tiktoken.Encoding("qwen", pat_str=pattern, mergeable_ranks=ranks, special_tokens=special)
started = time.perf_counter()
ids = [encoding.encode(d, allowed_special="all") for d in docs]
seconds = time.perf_counter() - started
differing = sum(1 for a, b in zip(ids, ours) if a != b) + abs(len(ids) - len(ours))
print(f"Python tiktoken {tiktoken.__version__} with Qwen's ranks={seconds},{differing};", end="")
