"""The dedup a user would otherwise run: datasketch MinHash + MinHashLSH (the same 128
permutations as 16 bands of 8 rows, 5-word shingles of lower-cased words, threshold 0.8) plus
exact dedup with a hash of the normalized text, over the PRs dedup-bench wrote.
Prints "SECONDS PRS PEAK_RSS_MIB FOUND"."""

import hashlib
import json
import re
import resource
import sys
import time

from datasketch import MinHash, MinHashLSH



def words(text):
    return [w.lower() for w in re.split(r"[^0-9A-Za-z]+", text) if w]


def normalized(problem, diff):
    changed = [
        line.rstrip()
        for line in diff.splitlines()
        if (line.startswith("+") and not line.startswith("+++"))
        or (line.startswith("-") and not line.startswith("---"))
    ]
    return " ".join(words(problem)) + "\0" + "\n".join(changed)


def main():
    path = sys.argv[1]
    prs = [json.loads(line) for line in open(path)]
    prs.sort(key=lambda p: (p["merged_at"], p["repo"], p["pr"]))
    started = time.perf_counter()
    lsh = MinHashLSH(threshold=0.8, num_perm=128, params=(16, 8))
    exact = {}
    found = 0
    for i, pr in enumerate(prs):
        text = normalized(pr["problem"], pr["diff"])
        key = hashlib.blake2b(text.encode(), digest_size=16).digest()
        if key in exact:
            found += 1
            continue
        exact[key] = i
        ws = words(text)
        shingles = [" ".join(ws[j : j + 5]).encode() for j in range(max(1, len(ws) - 4))]
        m = MinHash(num_perm=128)
        m.update_batch(shingles)
        if lsh.query(m):
            found += 1
            continue
        lsh.insert(str(i), m)
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{seconds:.3f} {len(prs)} {rss:.1f} {found}")


if __name__ == "__main__":
    main()
