# swe-corpus front door. `just --list` shows every recipe.

set shell := ["bash", "-euo", "pipefail", "-c"]

# The optimized binary used for corpora and benchmarks (profile `fast`: release tuned for
# build time, see Cargo.toml).
# Cargo's target folder, wherever CARGO_TARGET_DIR puts it.
target := env_var_or_default("CARGO_TARGET_DIR", "target")
bin := target / "fast/swe-corpus"

default:
    @just --list

# Install what a fresh machine lacks (Rust components, git, the Qwen tokenizers); idempotent.
setup:
    bash scripts/setup.sh
    bash scripts/fetch-tokenizer.sh

# The pinned Python reference tools (HF tokenizers, pyarrow) in .venv.
python-env:
    bash scripts/python-env.sh

# Build the demo corpus end to end (embedded recipe: no GitHub, no token).
build-corpus: setup
    cargo build --profile fast --bin swe-corpus
    {{bin}} run
    {{bin}} sql "select kind, count(*) as prs from patches group by kind order by kind"
    {{bin}} sql "select source, split, count(*) as documents, sum(n_tokens) as tokens from shards group by source, split order by source, split"
    {{bin}} verify

# Everything CI runs: format, lints, unit and end-to-end tests (with a real one-node Slurm, a
# real S3 server (SeaweedFS) and the pinned Python tokenizers). Default members only: `just bench` builds the benchmark crate.
test: setup python-env
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
    bash scripts/slurm-up.sh || echo "Slurm not started: its test skips outside CI and fails in CI"
    bash scripts/s3-setup.sh
    cargo test --no-fail-fast

# Benchmarks; BENCH_REPO="/path/a /path/b" adds real repositories (space-separated).
bench repo=env_var_or_default("BENCH_REPO", ""): setup python-env
    cargo build --profile fast --bin swe-corpus
    cargo build --profile fast -p tokenizer-bench -p dedup-bench -p synth-bench -p crawl-bench
    bash scripts/bench.sh {{bin}} {{target}}/fast/tokenizer-bench "{{repo}}"

# The 150B projection from a measured run on real repositories (the demo when none):
# BENCH_REPO="/path/a /path/b" just bench-scale. PRS_PER_REPO=N for the repositories to crawl.
bench-scale repo=env_var_or_default("BENCH_REPO", ""): setup
    cargo build --profile fast --bin swe-corpus
    bash scripts/bench-scale.sh {{bin}} "{{repo}}"

# The trainers' own readers (megatron-core, ai2-olmo-core, datatrove; torch, ~5 GB installed
# once per machine from scripts/loaders-lock.txt) and HF datasets on every export of the demo
# corpus, also packed at a short sequence length, then on a deliberately broken copy, which
# must fail. CI runs it after `just test`.
test-loaders: setup python-env
    bash scripts/loaders-env.sh
    cargo build --bin swe-corpus
    bash scripts/test-loaders.sh {{target}}/debug/swe-corpus

# Query the latest run: just sql "select count(*) from patches"
sql query:
    {{bin}} sql "{{query}}"

fmt:
    cargo fmt --all

lint:
    cargo clippy --workspace --all-targets -- -D warnings
