#!/usr/bin/env bash
# The pinned Python tools the tests compare against (HF tokenizers for id parity, pyarrow for
# the README's loader example), in .venv. Idempotent: reinstalls only when the pins change.
set -euo pipefail
cd "$(dirname "$0")/.."
pins="scripts/python-requirements.txt"
stamp=".venv/.pins-$(sha256sum "$pins" | cut -c1-16)"
if [ -f "$stamp" ]; then
    exit 0
fi
echo "python-env: installing $(tr '\n' ' ' < "$pins")into .venv" >&2
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$pins"
rm -f .venv/.pins-*
touch "$stamp"
