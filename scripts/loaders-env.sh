#!/usr/bin/env bash
# The torch-based loader readers for `just test-loaders` (about 4 GB of wheels), in .venv-loaders.
set -euo pipefail
cd "$(dirname "$0")/.."
pins="torch==2.15.0 megatron-core==0.16.1 ai2-olmo-core==3.0.0 datatrove==0.10.1 pyarrow==26.0.1"
stamp=".venv-loaders/.pins-$(echo "$pins" | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
    exit 0
fi
echo "loaders-env: installing $pins into .venv-loaders" >&2
python3 -m venv .venv-loaders
.venv-loaders/bin/python -m pip install --quiet --disable-pip-version-check $pins
rm -f .venv-loaders/.pins-*
touch "$stamp"
