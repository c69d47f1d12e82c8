# swe-corpus front door. `just --list` shows every recipe.

set shell := ["bash", "-euo", "pipefail", "-c"]

# The optimized binary used for corpora and benchmarks (profile `fast`: release tuned for
# build time, see Cargo.toml).
bin := "target/fast/swe-corpus"

default:
    @just --list

# Install what a fresh machine lacks (Rust components, git); idempotent.
setup:
    bash scripts/setup.sh

# Build the demo corpus end to end (embedded recipe: no GitHub, no token).
build-corpus: setup
    cargo build --profile fast --bin swe-corpus
    {{bin}} run
    {{bin}} sql "select kind, count(*) as prs from patches group by kind order by kind"
    {{bin}} verify

# Everything CI runs: format, lints, unit and end-to-end tests (with a real one-node Slurm).
test: setup
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
    bash scripts/slurm-up.sh || echo "Slurm not started: its test skips outside CI and fails in CI"
    cargo test --workspace --no-fail-fast

# Benchmarks; BENCH_REPO=/path/to/repo adds a real repository's history.
bench repo=env_var_or_default("BENCH_REPO", ""): setup
    cargo build --profile fast --bin swe-corpus
    bash scripts/bench.sh {{bin}} "{{repo}}"

# Query the latest run: just sql "select count(*) from patches"
sql query:
    {{bin}} sql "{{query}}"

fmt:
    cargo fmt --all

lint:
    cargo clippy --workspace --all-targets -- -D warnings
