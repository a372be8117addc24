#!/bin/sh
# Install Outpost for the current user from this unpacked tarball (no root needed).
#
#   ./install.sh              install into ~/.local (app in ~/.local/opt/outpost)
#   ./install.sh --uninstall  remove the app, its menu entry and icons; your data stays in
#                             ~/.local/share/Outpost (delete that folder yourself to remove it)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
prefix=${XDG_DATA_HOME:-$HOME/.local/share}
app_dir=$HOME/.local/opt/outpost
bin_dir=$HOME/.local/bin
app_id=app.outpost.Outpost

if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$app_dir"
    rm -f "$bin_dir/outpost" "$prefix/applications/$app_id.desktop"
    find "$prefix/icons/hicolor" -name "$app_id.png" -delete 2>/dev/null || true
    command -v update-desktop-database >/dev/null && update-desktop-database -q "$prefix/applications" || true
    echo "Outpost removed. Your posts and settings are still in $prefix/Outpost."
    exit 0
fi

mkdir -p "$(dirname "$app_dir")" "$bin_dir" "$prefix/applications"
rm -rf "$app_dir"
cp -R "$here/bundle" "$app_dir"   # cp -R keeps the bundle's symlinks
ln -sf "$app_dir/outpost" "$bin_dir/outpost"
for icon in "$here"/icons/outpost-*.png; do
    size=$(basename "$icon" .png | sed 's/outpost-//')
    mkdir -p "$prefix/icons/hicolor/${size}x${size}/apps"
    cp "$icon" "$prefix/icons/hicolor/${size}x${size}/apps/$app_id.png"
done
sed "s|^Exec=outpost|Exec=$app_dir/outpost|" "$here/$app_id.desktop" > "$prefix/applications/$app_id.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$prefix/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$prefix/icons/hicolor" || true
echo "Outpost installed: $app_dir (menu entry added; run 'outpost' if $bin_dir is on your PATH)."
