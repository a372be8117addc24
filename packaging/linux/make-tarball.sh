#!/usr/bin/env bash
# Package the PyInstaller onedir build as dist/outpost-<version>-linux-<arch>.tar.gz.
#
#   packaging/linux/make-tarball.sh [DIST_DIR]     (default: dist; needs DIST_DIR/outpost)
#
# Layout: outpost-<version>-linux-<arch>/{bundle/, icons/, app.outpost.Outpost.desktop, install.sh}
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
dist=${1:-$root/dist}
python=${PYTHON:-$root/.venv/bin/python}
version=$("$python" "$root/packaging/metadata.py" version)
name=$("$python" "$root/packaging/metadata.py" name)
arch=$(uname -m)
stage_name=$name-$version-linux-$arch
stage=$dist/$stage_name

[ -x "$dist/$name/$name" ] || { echo "error: no build at $dist/$name; run pyinstaller build.spec first" >&2; exit 1; }
rm -rf "$stage"
mkdir -p "$stage/icons"
cp -R "$dist/$name" "$stage/bundle"   # -R keeps PyInstaller's symlinks as symlinks
cp "$root"/resources/icons/app/outpost-{16,32,48,64,128,256,512}.png "$stage/icons/"
cp "$root/packaging/linux/app.outpost.Outpost.desktop" "$root/packaging/linux/install.sh" "$stage/"
chmod +x "$stage/install.sh"
tar -C "$dist" -czf "$dist/$stage_name.tar.gz" "$stage_name"
rm -rf "$stage"
echo "$dist/$stage_name.tar.gz"
