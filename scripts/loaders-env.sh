#!/usr/bin/env bash
# The trainers' readers for `just test-loaders` (torch, megatron-core, ai2-olmo-core, datatrove;
# about 5 GB of wheels). Installed once per machine into a cache folder named by the hash of the
# pins, and linked as .venv-loaders, so a fresh clone on the same machine (CI) reuses it.
# A resolver dry run comes first: pins that cannot be installed together fail here, loudly,
# with pip naming the conflicting requirements.
set -euo pipefail
cd "$(dirname "$0")/.."
req=scripts/loaders-requirements.txt
lock=scripts/loaders-lock.txt
hash=$(cat "$req" "$lock" | sha256sum | cut -c1-16)
cache=${SWE_CORPUS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/swe-corpus}
venv="$cache/venv-loaders-$hash"
link() {
    # An older checkout kept a real folder here.
    if [ -d .venv-loaders ] && [ ! -L .venv-loaders ]; then rm -rf .venv-loaders; fi
    ln -sfn "$venv" .venv-loaders
}
if [ -f "$venv/.complete" ]; then
    link
    exit 0
fi
mkdir -p "$cache"
rm -rf "$venv"
python3 -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
echo "loaders-env: checking that $req resolves (pip --dry-run)" >&2
if ! "${pip[@]}" install --quiet --dry-run -r "$req" -c "$lock" >&2; then
    echo "loaders-env: the pins in $req and $lock cannot be installed together; pip names the conflicting requirements above" >&2
    rm -rf "$venv"
    exit 1
fi
echo "loaders-env: installing $(grep -v '^#' "$req" | tr '\n' ' ')into $venv" >&2
"${pip[@]}" install --quiet -r "$req" -c "$lock"
touch "$venv/.complete"
link
