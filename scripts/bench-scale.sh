#!/usr/bin/env bash
# The 150B projection from a measured run: the pipeline with the 150B recipe's settings
# (pipelines/kimi-dev-150b.toml: profile, 4 synthetic variants, tokenizer, shards, exports) on
# the given repositories, its budget relaxed so the run takes what they hold (each source at
# most max_repeat times), then `plan --project` scales the run's rates to the recipe's
# budget: PRs and repositories needed, core-hours per stage, disk, API requests.
# Usage: bench-scale.sh BINARY ["REPO_PATH..."]   (none: the embedded demo)
#   TASKS (default 2), PRS_PER_REPO (PRs per repository among those still to crawl),
#   KEEP_RUN=1 keeps the run folder.
set -euo pipefail
bin=$(realpath "$1")
read -r -a repos <<< "${2:-}"
root=$(cd "$(dirname "$0")/.." && pwd)
big="$root/pipelines/kimi-dev-150b.toml"
work=$(mktemp -d)
[ "${KEEP_RUN:-0}" = 1 ] && echo "bench-scale: run kept in $work" || trap 'rm -rf "$work"' EXIT

recipe="$work/scale.toml"
if [ ${#repos[@]} -eq 0 ]; then
    echo "bench-scale: no repositories given (BENCH_REPO=\"/path/a /path/b\"): the demo's rates, far too small to trust"
    run_args=()
else
    {
        echo 'name = "bench-scale"'
        echo 'seed = 20250923'
        echo '[inputs]'
        printf 'repos = ['
        sep=""
        for path in "${repos[@]}"; do
            path=$(realpath "$path")
            name="scale/$(basename "$path" .git | tr -c 'a-zA-Z0-9_.\n-' '-')"
            [ "$(basename "$path")" = repo ] && name="scale/$(basename "$(dirname "$path")" | tr -c 'a-zA-Z0-9_.\n-' '-')"
            printf '%s{ path = "%s", name = "%s" }' "$sep" "$path" "$name"
            sep=", "
        done
        echo ']'
        # Everything after [inputs] and [crawl] as the 150B recipe has it, its budget relaxed.
        awk '/^\[/ { section = 1; skip = ($0 == "[inputs]" || $0 == "[crawl]") }
             !skip && !(!section && /^(name|seed) =/)' "$big" \
            | sed 's/^allow_shortfall = false/allow_shortfall = true/'
    } > "$recipe"
    run_args=(--recipe "$recipe")
fi

start=$(date +%s)
SWE_CORPUS_LOG=warn "$bin" run "${run_args[@]}" --run "$work/run" --tasks "${TASKS:-2}"
echo "bench-scale: the run took $(( $(date +%s) - start )) s on $(nproc) cores ($(date -u +%F), $(uname -m))"
project=(plan --project --recipe "$big" --run "$work/run")
[ -n "${PRS_PER_REPO:-}" ] && project+=(--prs-per-repo "$PRS_PER_REPO")
echo
echo "=== projection onto $(basename "$big")"
SWE_CORPUS_LOG=warn "$bin" "${project[@]}"
