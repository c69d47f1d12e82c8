#!/usr/bin/env bash
# Benchmarks on the same history, in the same run:
# - `extract` (git history to Parquet: every PR's diff from its merge base, every commit of
#   every PR, every main-line commit, blobs, trees) against `git log -p --no-renames` (every
#   commit's diff as text), one and two cores;
# - `format` (patches to Agentless samples): PRs and samples per second per core, against
#   extraction's PRs per second (format must not be the bottleneck).
# - `tokenize`, `mix`, `shard`: tokens per second on one core and peak RSS (the shard stage
#   holds one shard in memory: its budget is `[shard] target_mib` of ids plus their text);
# - every export format: tokens per second on one core against `cp` of the same bytes, and
#   the compressed Parquet formats also against `zstd -1` of the same uncompressed bytes;
# - every Qwen encoder that builds here on the same documents (tokenizer-bench), with Python
#   `tokenizers` from .venv when present, each with its ratio to ours and an exactness check;
# - `synthesize`: trajectories per second per core, and the tool emulator's grep over git
#   objects against real `grep -rn` on a checkout of the same tree (synth-bench);
# - the crawl (crawl-bench): a mock org of 50 repositories and 20k PRs under rate limits,
#   killed and resumed, requests per PR;
# - the dedup barrier (dedup-bench) on generated PRs at two sizes under one memory budget
#   (peak RSS stays near the budget as the input grows), against Python datasketch MinHashLSH.
# Usage: bench.sh BINARY TOKENIZER_BENCH ["REPO_PATH..."]   (none: the demo set only)
set -euo pipefail
bin=$(realpath "$1")
tokbench=$(realpath "$2")
synthbench="$(dirname "$tokbench")/synth-bench"
# REPO_PATHS: one or several repositories, separated by spaces (BENCH_REPO="a b c").
read -r -a repos <<< "${3:-}"
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The zstd CLI times the compressed exports' limit (a Debian package, like git).
if ! command -v zstd > /dev/null 2>&1 && command -v apt-get > /dev/null 2>&1; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get install -y -qq zstd > /dev/null || echo "bench: zstd not installed; the compressed exports get no zstd limit" >&2
fi

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
fastest() { if [ -z "$1" ]; then echo "$2"; else awk -v a="$1" -v b="$2" 'BEGIN { print (b < a) ? b : a }'; fi; }
extract_table=()

bench_repo() {
    local label=$1 path=$2
    local first_parent_commits
    first_parent_commits=$(git -C "$path" rev-list --first-parent --count HEAD)
    cat > "$work/bench.toml" <<TOML
name = "bench"
[inputs]
repos = [{ path = "$path", name = "bench/$(basename "$path" .git | tr -c 'a-zA-Z0-9_.\n-' '-')" }]
[extract]
max_file_bytes = 1048576
max_diff_bytes = 8388608
[synthesize]
enabled = true
variants = 4
TOML
    # Warm the page cache so both tools read from memory.
    git -C "$path" log -p --no-renames HEAD > /dev/null

    # Each side the fastest of three runs: this machine's timings swing by 20% run to run.
    local t0 t1 git_s one_s two_s i s
    git_s=""; one_s=""; two_s=""
    for i in 1 2 3; do
        t0=$(now)
        git -C "$path" log -p --no-renames HEAD > "$work/log.txt"
        t1=$(now); s=$(secs "$t0" "$t1"); git_s=$(fastest "$git_s" "$s")

        rm -rf "$work/run1"
        t0=$(now)
        RAYON_NUM_THREADS=1 SWE_CORPUS_LOG=warn "$bin" run --recipe "$work/bench.toml" --run "$work/run1" --tasks 1 --only extract > /dev/null 2>&1
        t1=$(now); s=$(secs "$t0" "$t1"); one_s=$(fastest "$one_s" "$s")

        rm -rf "$work/run2"
        t0=$(now)
        RAYON_NUM_THREADS=2 SWE_CORPUS_LOG=warn "$bin" run --recipe "$work/bench.toml" --run "$work/run2" --tasks 1 --only extract > /dev/null 2>&1
        t1=$(now); s=$(secs "$t0" "$t1"); two_s=$(fastest "$two_s" "$s")
    done
    extract_table+=("$(printf '| %s | %s | %s | %s | %s s | %s | %s s | %s |' "$label" "$first_parent_commits" \
        "$(SWE_CORPUS_LOG=warn "$bin" sql --run "$work/run1" --format csv "select count(*) as n from patches where pr_number is not null" | tail -1)" \
        "$git_s" "$one_s" "$(ratio "$git_s" "$one_s")" "$two_s" "$(ratio "$git_s" "$two_s")")")

    local patches prs
    patches=$(SWE_CORPUS_LOG=warn "$bin" sql --run "$work/run1" --format csv "select count(*) as n from patches" | tail -1)
    prs=$(SWE_CORPUS_LOG=warn "$bin" sql --run "$work/run1" --format csv "select count(*) as n from patches where pr_number is not null" | tail -1)
    printf '%-24s extract: %6s first-parent commits, %6s patches | git log -p %7ss | swe-corpus 1 core %7ss (ratio %s) | 2 cores %7ss (ratio %s)\n' \
        "$label" "$first_parent_commits" "$patches" "$git_s" "$one_s" "$(ratio "$git_s" "$one_s")" "$two_s" "$(ratio "$git_s" "$two_s")"

    local fmt_s samples
    t0=$(now)
    RAYON_NUM_THREADS=1 SWE_CORPUS_LOG=warn "$bin" run --recipe "$work/bench.toml" --run "$work/run1" --tasks 1 --only format > /dev/null 2>&1
    t1=$(now); fmt_s=$(secs "$t0" "$t1")
    samples=$(SWE_CORPUS_LOG=warn "$bin" sql --run "$work/run1" --format csv "select count(*) as n from samples" | tail -1)
    printf '%-24s format: %6s PRs -> %6s samples in %7ss on 1 core: %s PRs/s, %s samples/s (extract: %s PRs/s; format/extract %s)\n' \
        "$label" "$prs" "$samples" "$fmt_s" "$(ratio "$prs" "$fmt_s")" "$(ratio "$samples" "$fmt_s")" "$(ratio "$prs" "$one_s")" \
        "$(ratio "$(ratio "$prs" "$fmt_s")" "$(ratio "$prs" "$one_s")")"
    # Synthesis (deterministic engine, four variants a PR as the 150B recipe has it): PRs per
    # second on one core against extraction's (the target: at least as fast), trajectories per
    # second,
    # the share of PRs that yield one, drops per reason and tokens (characters / 3.2) a
    # trajectory; then the emulator's grep over git objects against real grep on a checkout.
    t0=$(now)
    RAYON_NUM_THREADS=1 SWE_CORPUS_LOG=warn "$bin" run --recipe "$work/bench.toml" --run "$work/run1" --tasks 1 --only synthesize > /dev/null 2>&1
    t1=$(now); stage_s=$(secs "$t0" "$t1")
    local trajectories served chars
    trajectories=$(SWE_CORPUS_LOG=warn "$bin" sql --run "$work/run1" --format csv "select count(*) as n from trajectories" | tail -1)
    served=$(SWE_CORPUS_LOG=warn "$bin" sql --run "$work/run1" --format csv "select count(distinct pr_number) as n from trajectories" | tail -1)
    chars=$(SWE_CORPUS_LOG=warn "$bin" sql --run "$work/run1" --format csv "select coalesce(avg(length(text)), 0) as n from synthetic_samples where sample_kind = 'synthetic_agentic'" | tail -1)
    printf '%-24s synthesize: %6s trajectories in %7ss on 1 core: %s trajectories/s; %s of %s PRs yield one; about %s tokens a trajectory\n' \
        "$label" "$trajectories" "$stage_s" "$(ratio "$trajectories" "$stage_s")" "$served" "$prs" "$(awk -v c="$chars" 'BEGIN { printf "%.0f", c / 3.2 }')"
    printf '%-24s synthesize: %6s PRs in %7ss on 1 core: %s PRs/s (all variants) | extract %s PRs/s | synthesize/extract per PR %s\n' \
        "$label" "$prs" "$stage_s" "$(ratio "$prs" "$stage_s")" "$(ratio "$prs" "$one_s")" "$(ratio "$one_s" "$stage_s")"
    # The same at the 150B recipe's shares (the PRs its synthetic budgets need): the cost per
    # PR of the recipe's run.
    local shares share_s
    shares=$(grep -E '^(agentic|reasoning)_share = ' "$root/pipelines/kimi-dev-150b.toml" || true)
    if [ -n "$shares" ]; then
        { cat "$work/bench.toml"; echo "$shares"; } > "$work/bench-shares.toml"
        rm -rf "$work/run3"
        cp -r "$work/run1" "$work/run3"
        t0=$(now)
        RAYON_NUM_THREADS=1 SWE_CORPUS_LOG=warn "$bin" run --recipe "$work/bench-shares.toml" --run "$work/run3" --tasks 1 --only synthesize > /dev/null 2>&1
        t1=$(now); share_s=$(secs "$t0" "$t1")
        printf '%-24s synthesize at the 150B recipe'"'"'s shares (%s): %7ss on 1 core | synthesize/extract per PR %s\n' \
            "$label" "$(echo $shares)" "$share_s" "$(ratio "$one_s" "$share_s")"
    fi
    local reasoning rserved rchars
    reasoning=$(SWE_CORPUS_LOG=warn "$bin" sql --run "$work/run1" --format csv "select count(*) as n from synthetic_samples where sample_kind = 'synthetic_reasoning'" | tail -1)
    rserved=$(SWE_CORPUS_LOG=warn "$bin" sql --run "$work/run1" --format csv "select count(distinct pr_number) as n from synthetic_samples where sample_kind = 'synthetic_reasoning'" | tail -1)
    rchars=$(SWE_CORPUS_LOG=warn "$bin" sql --run "$work/run1" --format csv "select coalesce(avg(length(text)), 0) as n from synthetic_samples where sample_kind = 'synthetic_reasoning'" | tail -1)
    printf '%-24s synthesize: %6s localization-reasoning rows; %s of %s PRs yield one; about %s tokens a row\n' \
        "$label" "$reasoning" "$rserved" "$prs" "$(awk -v c="$rchars" 'BEGIN { printf "%.0f", c / 3.2 }')"
    SWE_CORPUS_LOG=warn "$bin" sql --run "$work/run1" "select reason, count(*) as prs from drops where stage = 'synthesize' group by reason order by prs desc"
    local checkout="$work/checkout" term emu_s real_s
    rm -rf "$checkout" && mkdir -p "$checkout" && git -C "$path" archive HEAD | tar -x -C "$checkout"
    for term in def import self return TODO; do
        read -r _ emu_s _ _ < <("$synthbench" "$path" "$term")
        t0=$(now)
        (cd "$checkout" && LC_ALL=C grep -rn "$term" . > /dev/null 2>&1 || true)
        t1=$(now); real_s=$(secs "$t0" "$t1")
        printf '%-24s emulator grep -rn %-8s %7ss over git objects | real grep -rn on a checkout %7ss (real/emulator %s)\n' \
            "$label" "$term" "$emu_s" "$real_s" "$(ratio "$real_s" "$emu_s")"
    done

    # Decontamination (with a content index of this history's own PR texts, half of them, as a
    # stand-in benchmark file) and curation (secrets, quality, exact + MinHash dedup):
    # samples per second on one core and the process's peak RSS.
    SWE_CORPUS_LOG=warn "$bin" sql --run "$work/run1" --format json \
        "select concat(repo, '-', cast(pr_number as varchar)) as instance_id, repo, title || ' ' || body as problem_statement, code_diff as patch, test_diff as test_patch from patches where pr_number is not null and pr_number % 2 = 0" \
        > "$work/bench.jsonl"
    printf '[decontam]\nbenchmark_files = ["%s"]\n' "$work/bench.jsonl" >> "$work/bench.toml"
    local stage stage_s rss
    for stage in decontaminate curate; do
        t0=$(now)
        RAYON_NUM_THREADS=1 SWE_CORPUS_LOG=warn "$bin" run --recipe "$work/bench.toml" --run "$work/run1" --tasks 1 --only "$stage" > /dev/null 2>&1
        t1=$(now); stage_s=$(secs "$t0" "$t1")
        rss=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(round(max(s['peak_rss_mib'] for s in r['stages']), 1))" "$work/run1/report.json")
        printf '%-24s %s: %6s samples in %7ss on 1 core: %s samples/s, peak RSS %s MiB\n' \
            "$label" "$stage" "$samples" "$stage_s" "$(ratio "$samples" "$stage_s")" "$rss"
    done
    local tokens
    for stage in tokenize mix shard; do
        t0=$(now)
        RAYON_NUM_THREADS=1 SWE_CORPUS_LOG=warn "$bin" run --recipe "$work/bench.toml" --run "$work/run1" --tasks 1 --only "$stage" > /dev/null 2>&1
        t1=$(now); stage_s=$(secs "$t0" "$t1")
        rss=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(round(max(s['peak_rss_mib'] for s in r['stages']), 1))" "$work/run1/report.json")
        tokens=$(SWE_CORPUS_LOG=warn "$bin" sql --run "$work/run1" --format csv "select coalesce(sum(n_tokens), 0) as n from tokenized" | tail -1)
        printf '%-24s %s: %10s tokens in %7ss on 1 core: %s tokens/s, peak RSS %s MiB (shard budget: target_mib 512 of ids + text)\n' \
            "$label" "$stage" "$tokens" "$stage_s" "$(ratio "$tokens" "$stage_s")" "$rss"
    done
    # The copy this disk manages for a folder: the median of three `cp -r` + `sync` (one copy
    # alone swings 2-5x with the writeback state the export left behind).
    median_copy_secs() {
        local runs=() t0 t1
        for _ in 1 2 3; do
            rm -rf "$2"; sync
            t0=$(now); cp -r "$1" "$2"; sync; t1=$(now)
            runs+=("$(secs "$t0" "$t1")")
        done
        rm -rf "$2"
        printf '%s\n' "${runs[@]}" | sort -g | sed -n 2p
    }
    # Exports on a real-size corpus: this history's first shard linked 100 times (one
    # manifest listing them), so fixed costs do not hide the throughput. Tokens per second on
    # one thread and peak RSS, against `cp` of the export's bytes.
    local format out_dir bytes cp_s raw_cp_s=0 rss_kib big="$work/big"
    mkdir -p "$big/tables/shards" && cp "$work/run1/recipe.toml" "$big/"
    python3 - "$work/run1/tables/shards" "$big/tables/shards" <<'PY'
import json, os, sys
src, dst = sys.argv[1:3]
manifest = json.load(open(f"{src}/_manifest.json"))
first = next(p for p in manifest["parts"] if p["file"].startswith("shard-"))
manifest["parts"] = []
for i in range(100):
    name = f"shard-{i:05}.parquet"
    os.link(f"{src}/{first['file']}", f"{dst}/{name}")
    manifest["parts"].append(dict(first, file=name))
manifest["rows"] = sum(p["rows"] for p in manifest["parts"])
json.dump(manifest, open(f"{dst}/_manifest.json", "w"))
PY
    tokens=$(SWE_CORPUS_LOG=warn "$bin" sql --run "$big" --format csv "select sum(n_tokens) as n from shards" | tail -1)
    # Each export is timed like the copy it is compared with: from a synced disk to its
    # bytes synced, the median of three (the first run after a big delete can take 2x).
    # Prints the median seconds and the largest peak RSS (KiB) of the three.
    median_export_secs() {
        local runs=() t0 t1 kib rss=0
        for _ in 1 2 3; do
            rm -rf "$2"; sync
            t0=$(now)
            kib=$(python3 -c 'import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' \
                env SWE_CORPUS_LOG=warn "$bin" export --run "$big" --format "$1" --out "$2" --threads 1)
            sync; t1=$(now)
            runs+=("$(secs "$t0" "$t1")")
            [ "$kib" -gt "$rss" ] && rss=$kib
        done
        echo "$(printf '%s\n' "${runs[@]}" | sort -g | sed -n 2p) $rss"
    }
    # The compressed formats' limit: `zstd -1` on one core over the raw int32 ids (the megatron
    # export's .bin files), synced like the copy; hf and Bridge hold 8 bytes a token (two
    # int32 columns), so their limit is twice that.
    median_zstd_secs() {
        local runs=() t0 t1 f
        for _ in 1 2 3; do
            rm -rf "$2"; mkdir -p "$2"; sync
            t0=$(now)
            for f in "$1"/*.bin; do zstd -1 -T1 -q -f "$f" -o "$2/$(basename "$f").zst"; done
            sync; t1=$(now)
            runs+=("$(secs "$t0" "$t1")")
        done
        rm -rf "$2"
        printf '%s\n' "${runs[@]}" | sort -g | sed -n 2p
    }
    local zstd_s=0 limit
    for format in megatron megatron-bridge olmo datatrove hf; do
        out_dir="$work/exports/$format"
        read -r stage_s rss_kib < <(median_export_secs "$format" "$out_dir")
        bytes=$(du -sb "$out_dir" | cut -f1)
        cp_s=$(median_copy_secs "$out_dir" "$work/exports/copy-$format")
        # The megatron export is the raw int32 ids: its copy is the limit for writing the
        # tokens uncompressed, which the compressed Parquet formats are also compared with.
        if [ "$format" = megatron ]; then
            raw_cp_s=$cp_s
            command -v zstd > /dev/null && zstd_s=$(median_zstd_secs "$out_dir" "$work/exports/zstd")
        fi
        limit=""
        case $format in
            hf | megatron-bridge)
                limit="; zstd -1 of its 8 bytes a token $(awk -v z="$zstd_s" 'BEGIN { printf "%.3f", 2 * z }')s (export/zstd $(ratio "$stage_s" "$(awk -v z="$zstd_s" 'BEGIN { print 2 * z }')"))" ;;
        esac
        printf '%-24s export %-16s %10s tokens, %6s MB in %7ss on 1 core (median of 3): %s tokens/s; median cp of the same bytes %7ss (export/cp %s; /cp of the raw int32 ids %s)%s; peak RSS %s MiB\n' \
            "$label" "$format" "$tokens" "$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')" "$stage_s" "$(ratio "$tokens" "$stage_s")" "$cp_s" "$(ratio "$stage_s" "$cp_s")" "$(ratio "$stage_s" "$raw_cp_s")" "$limit" "$(awk -v k="$rss_kib" 'BEGIN { printf "%.1f", k / 1024 }')"
        rm -rf "$out_dir"
    done
    rm -rf "$work/exports" "$big"
    SWE_CORPUS_LOG=warn "$bin" sql --run "$work/run1" "select sample_kind, count(*) as samples from samples group by sample_kind order by sample_kind"
    SWE_CORPUS_LOG=warn "$bin" sql --run "$work/run1" "select stage, reason, count(*) as drops from drops group by stage, reason order by stage, drops desc"
    rm -rf "$work/run1" "$work/run2"
}

echo "extract vs git log -p --no-renames (ratio = git time / swe-corpus time; above 1 means swe-corpus is faster)"
SWE_CORPUS_LOG=warn "$bin" demo --out "$work/demo" > /dev/null
label_of() { echo "$(basename "$(dirname "$(realpath "$1")")")/$(basename "$1")"; }
bench_repo "demo acme/widgets" "$work/demo/repos/acme+widgets"
for repo in "${repos[@]}"; do
    bench_repo "$(label_of "$repo")" "$(realpath "$repo")"
done
echo
echo "extract against git log -p --no-renames, fastest of three runs each (ratio = git / swe-corpus; 1.0 or more: as fast as git)"
echo "| repository | first-parent commits | PRs | git log -p | extract, 1 core | ratio | extract, 2 cores | ratio |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${extract_table[@]}"

# Encoders on the same documents: the files at HEAD plus the history's diffs (up to 60 MB).
bench_tokenizers() {
    local label=$1 path=$2 docs="$work/docs"
    rm -rf "$docs" && mkdir -p "$docs/tree"
    git -C "$path" archive HEAD | tar -x -C "$docs/tree"
    git -C "$path" log -p --no-renames HEAD | head -c 60000000 > "$docs/history.diff"
    local files
    files=$(find "$docs/tree" -type f \( -name '*.py' -o -name '*.rs' -o -name '*.md' -o -name '*.rst' -o -name '*.txt' \) | sort)
    local tokenizer="$root/.tools/tokenizers/qwen2.5/tokenizer.json"
    local python_seconds=""
    if [ -x "$root/.venv/bin/python" ]; then
        # Benchmark-only: Python tiktoken (not in the test pins).
        "$root/.venv/bin/python" -c "import tiktoken" 2>/dev/null \
            || "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check tiktoken==0.14.0 || true
        "$tokbench" --ids "$work/ids.jsonl" "$tokenizer" $files "$docs/history.diff" > /dev/null
        python_seconds=$("$root/.venv/bin/python" "$root/scripts/bench-tokenizers.py" "$tokenizer" "$work/ids.jsonl" $files "$docs/history.diff")
    fi
    echo "$label:"
    PYTHON_SECONDS="$python_seconds" "$tokbench" "$tokenizer" $files "$docs/history.diff"
}
echo
echo "tokenizers (Qwen2.5 vocabulary; ours/this = how many times faster ours is)"
bench_tokenizers "demo acme/widgets" "$work/demo/repos/acme+widgets"
for repo in "${repos[@]}"; do
    bench_tokenizers "$(label_of "$repo")" "$(realpath "$repo")"
done

# Dedup at scale: the barrier on generated PRs (a quarter fork copies, a tenth edited copies),
# two sizes under one budget, then the Python pipeline a user would otherwise run on the same
# PRs: datasketch MinHash + MinHashLSH (benchmark-only, not in the test pins).
dedupbench="$(dirname "$tokbench")/dedup-bench"
echo
echo "dedup barrier (1 core; budget 32 MiB)"
for n in 100000 400000; do
    "$dedupbench" "$n" 32
done
if [ -x "$root/.venv/bin/python" ]; then
    "$root/.venv/bin/python" -c "import datasketch" 2>/dev/null \
        || "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check datasketch==1.6.5 || true
    "$dedupbench" 20000 32 --jsonl "$work/prs.jsonl"
    ours=$("$dedupbench" 20000 32)
    echo "ours:       $ours"
    read -r py_s py_n py_rss py_found < <("$root/.venv/bin/python" "$root/scripts/bench-dedup.py" "$work/prs.jsonl")
    ours_s=$(echo "$ours" | sed -E 's/.* in ([0-9.]+)s .*/\1/')
    echo "datasketch: $py_n PRs in ${py_s}s on 1 core, $py_found duplicates, peak RSS $py_rss MiB (ours is $(ratio "$py_s" "$ours_s")x faster)"
fi

# The crawl at the issue's scale: a mock GitHub org on 127.0.0.1 (50 repositories, 20k merged
# PRs, a primary limit per token, secondary limits, 502s, an HTML page, truncated JSON), crawled
# by the real binary, killed partway and resumed; requests per PR and the projection for 100k
# repositories.
crawlbench="$(dirname "$tokbench")/crawl-bench"
echo
echo "crawl (mock GitHub org; SIGKILL partway, then resumed)"
"$crawlbench" "$bin" "$work/crawl"
