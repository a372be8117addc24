#!/usr/bin/env bash
# Turn dist/Outpost.app into dist/Outpost-<version>-macos-<arch>.dmg (drag to Applications):
# verify the signature, notarize and staple when credentials are present, else warn and
# produce an unsigned build.
#
#   packaging/macos/make-dmg.sh
#
# Environment:
#   CODESIGN_IDENTITY   "Developer ID Application: Name (TEAMID)"; build.spec signs the app with
#                       it (hardened runtime + entitlements.plist); this script signs the dmg.
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD   notarytool credentials (app-specific password).
#   PYTHON              interpreter for packaging/metadata.py (default .venv/bin/python)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
python=${PYTHON:-$root/.venv/bin/python}
display_name=$("$python" packaging/metadata.py display_name)
version=$("$python" packaging/metadata.py version)
app="dist/$display_name.app"
[ -d "$app" ] || { echo "error: $app is missing: run pyinstaller build.spec first" >&2; exit 1; }
arch=$(lipo -archs "$app/Contents/MacOS/$("$python" packaging/metadata.py name)" | tr ' ' '-')
dmg="dist/$display_name-$version-macos-$arch.dmg"

warn() {  # $1: title, $2: message
    echo "warning: $2" >&2
    # Shown as an annotation on the workflow run.
    [ -z "${GITHUB_ACTIONS:-}" ] || echo "::warning title=$1::$2"
}

signed=false
notarize=false
if [ -n "${CODESIGN_IDENTITY:-}" ]; then
    signed=true
    echo "== verifying the signature of $app"
    codesign --verify --deep --strict --verbose=2 "$app"
    if [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
        notarize=true
    else
        warn "macOS build not notarized" "No notarization credentials (APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD): the app is signed but not notarized; Gatekeeper will warn users."
    fi
else
    warn "Unsigned macOS build" "No code signing certificate available: $dmg is unsigned. Users must right-click > Open the app the first time."
fi

notarize_and_staple() {  # $1: a .zip (for the app) or the .dmg itself; $2: what to staple
    echo "== notarizing $(basename "$2")"
    local result status id
    result=$(mktemp)
    xcrun notarytool submit "$1" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
        --password "$APPLE_APP_PASSWORD" --wait --timeout 30m --output-format plist > "$result"
    status=$(/usr/libexec/PlistBuddy -c "Print :status" "$result")
    id=$(/usr/libexec/PlistBuddy -c "Print :id" "$result")
    rm -f "$result"
    if [ "$status" != "Accepted" ]; then
        xcrun notarytool log "$id" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
            --password "$APPLE_APP_PASSWORD" >&2 || true
        echo "error: notarization of $(basename "$2") ended with status '$status' (submission $id)" >&2
        exit 1
    fi
    xcrun stapler staple "$2"
    xcrun stapler validate "$2"
}

if $notarize; then
    ditto -c -k --keepParent "$app" "dist/$display_name-notarize.zip"   # ditto keeps symlinks
    notarize_and_staple "dist/$display_name-notarize.zip" "$app"
    rm -f "dist/$display_name-notarize.zip"
    spctl --assess --type execute --verbose=2 "$app"
fi

echo "== building $dmg"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
ditto "$app" "$stage/$display_name.app"
ln -s /Applications "$stage/Applications"
rm -f "$dmg"
# hdiutil sometimes fails with "Resource busy" right after the files were written: retry.
for attempt in 1 2 3 4 5; do
    if hdiutil create -volname "$display_name $version" -srcfolder "$stage" -fs HFS+ \
        -format UDZO -ov "$dmg"; then
        break
    fi
    [ "$attempt" -lt 5 ] || { echo "error: hdiutil failed 5 times" >&2; exit 1; }
    sleep $((attempt * 5))
done

if $signed; then
    codesign --sign "$CODESIGN_IDENTITY" --timestamp "$dmg"
    codesign --verify --verbose=2 "$dmg"
fi
if $notarize; then
    notarize_and_staple "$dmg" "$dmg"
fi
echo "$dmg ($(du -h "$dmg" | cut -f1)), signed: $signed, notarized: $notarize"
