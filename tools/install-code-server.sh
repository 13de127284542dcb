#!/usr/bin/env bash
# Installs code-server (a complete VS Code: server + web workbench) for the integration tests,
# using only the npm registry and Debian packages — nothing from GitHub or nodejs.org.
# Idempotent: the install lives in .vscode-test/code-server-<version>/ (git-ignored) and a marker
# file, written last, says it is complete. Usage: tools/install-code-server.sh [dest-dir]
# code-server 4.100.3 (VS Code 1.100.3) is the newest release that runs on Node 20.
set -euo pipefail

VERSION=4.100.3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=${1:-$ROOT/.vscode-test/code-server-$VERSION}
MARKER=$DEST/.install-complete

if [ -f "$MARKER" ]; then
  echo "code-server $VERSION already installed in $DEST"
  exit 0
fi

# --- Debian packages: native builds need krb5 and libsecret headers; VS Code search needs ripgrep;
#     the tests drive Debian's chromium. Installed only when missing, and only when we may.
missing=()
for pkg in chromium libkrb5-dev libsecret-1-dev ripgrep build-essential python3 pkg-config; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "apt-get install ${missing[*]}"
    [ "${CI:-}" = true ] && apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  else
    echo "Missing Debian packages: ${missing[*]}"
    echo "Install them with: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

# --- node-gyp must compile against the running Node's own headers (downloading them fails offline).
NODE_PREFIX=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
if [ ! -f "$NODE_PREFIX/include/node/node.h" ]; then
  echo "No Node headers under $NODE_PREFIX/include/node (Debian: they come with the nodejs package)"
  exit 1
fi
export npm_config_nodedir=$NODE_PREFIX
# node-pty's install step runs `npx node-gyp`; without this npx would stop and ask.
export npm_config_yes=true
# Do not inherit the project's .npmrc settings (we install in another folder anyway).
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

echo "Installing code-server $VERSION into $DEST (node $(node --version), npm $(npm --version))"
START=$SECONDS
rm -rf "$DEST"
mkdir -p "$DEST"
cd "$DEST"
echo '{ "name": "code-server-install", "private": true }' > package.json

# code-server's own postinstall downloads ripgrep and Node headers, so skip it and do its work by hand.
npm install --ignore-scripts --no-save "code-server@$VERSION"
# argon2 is loaded even with `auth: none`; its prebuilt binary comes from GitHub, so build it.
npm rebuild argon2 --build-from-source > "$DEST/argon2-build.log" 2>&1

VSCODE=$DEST/node_modules/code-server/lib/vscode
cd "$VSCODE"
npm install --omit=dev --ignore-scripts
# @vscode/ripgrep's postinstall would fetch rg from GitHub; the Debian binary does the same job.
if [ -d node_modules/@vscode/ripgrep ]; then
  mkdir -p node_modules/@vscode/ripgrep/bin
  cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
fi
# Compile the native modules (kerberos, spdlog, watchdog, node-pty, ...). node-pty's last install step
# may fail after its binary is built, so the exit status is judged by the checks below instead.
npm rebuild --foreground-scripts > "$DEST/native-build.log" 2>&1 || echo "npm rebuild exited $? — checking binaries"

require_one() {
  local name=$1
  shift
  for file in "$@"; do
    if [ -f "$file" ]; then
      echo "  ok  $name"
      return 0
    fi
  done
  echo "  MISSING $name (see $DEST/native-build.log)"
  exit 1
}
require_one kerberos node_modules/kerberos/build/Release/kerberos.node
require_one spdlog node_modules/@vscode/spdlog/build/Release/spdlog.node
require_one native-watchdog node_modules/native-watchdog/build/Release/watchdog.node \
  node_modules/@vscode/native-watchdog/build/Release/watchdog.node
require_one node-pty node_modules/node-pty/build/Release/pty.node node_modules/node-pty/prebuilds/linux-x64/pty.node
require_one argon2 "$DEST"/node_modules/argon2/build/Release/argon2.node \
  "$DEST"/node_modules/argon2/lib/binding/*/argon2.node

# The remaining steps of code-server's postinstall.
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
cd extensions
npm install --omit=dev --ignore-scripts
node postinstall.mjs > /dev/null

# XDG dirs into the install: code-server writes a default config file and logs even for --version.
XDG_CONFIG_HOME="$DEST/.xdg" XDG_DATA_HOME="$DEST/.xdg" "$DEST/node_modules/.bin/code-server" --version
date -u +%FT%TZ > "$MARKER"
echo "code-server $VERSION installed in $((SECONDS - START)) s"
