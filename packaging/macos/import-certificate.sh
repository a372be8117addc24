#!/usr/bin/env bash
# CI only: put the Developer ID certificate into a throw-away keychain so codesign can use it.
#
#   MACOS_CERTIFICATE (base64 of the .p12) and MACOS_CERTIFICATE_PASSWORD must be set.
#   Prints nothing secret; the keychain lives in $RUNNER_TEMP (or /tmp) and dies with the runner.
set -euo pipefail

: "${MACOS_CERTIFICATE:?base64 .p12 needed}" "${MACOS_CERTIFICATE_PASSWORD:?.p12 password needed}"
dir=${RUNNER_TEMP:-/tmp}
keychain=$dir/outpost-signing.keychain-db
keychain_password=$(openssl rand -base64 24)

echo "$MACOS_CERTIFICATE" | base64 --decode > "$dir/certificate.p12"
security create-keychain -p "$keychain_password" "$keychain"
security set-keychain-settings -lut 3600 "$keychain"
security unlock-keychain -p "$keychain_password" "$keychain"
security import "$dir/certificate.p12" -k "$keychain" -P "$MACOS_CERTIFICATE_PASSWORD" \
    -T /usr/bin/codesign -T /usr/bin/security
rm -f "$dir/certificate.p12"
# Let codesign use the key without a UI prompt.
security set-key-partition-list -S apple-tool:,apple: -s -k "$keychain_password" "$keychain" >/dev/null
# Search this keychain first, keep the user's others (a loop, not mapfile: macOS bash is 3.2).
keychains=("$keychain")
while IFS= read -r line; do
    line=${line#"${line%%[![:space:]]*}"}
    keychains+=("${line//\"/}")
done < <(security list-keychains -d user)
security list-keychains -d user -s "${keychains[@]}"
security find-identity -v -p codesigning "$keychain"
