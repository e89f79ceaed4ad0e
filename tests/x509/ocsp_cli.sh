#!/bin/sh
# `moat ocsp` over the responses of make_ocsp.sh: what it prints and its
# exit status for good, revoked, unknown, expired, another certificate's
# response and a usage error.  Prints "ocsp-cli: ok" when all pass.
#   sh tests/x509/ocsp_cli.sh MOAT
set -u
MOAT=${1:?usage: ocsp_cli.sh MOAT}
here=$(cd "$(dirname "$0")" && pwd)
d=$(mktemp -d "${TMPDIR:-/tmp}/moat-ocsp-cli.XXXXXX")
trap 'rm -rf "$d"' EXIT INT TERM
sh "$here/make_ocsp.sh" "$d" || exit 1
fail=0
# check NAME WANT_RC TEXT CERT RESP [options]
check() {
  name=$1 want=$2 text=$3 cert=$4 resp=$5
  shift 5
  out=$("$MOAT" ocsp --issuer "$d/ca.pem" "$@" "$d/$cert.pem" "$d/$resp.resp" 2>&1)
  rc=$?
  if [ "$rc" -ne "$want" ] || ! printf '%s\n' "$out" | grep -qF -- "$text"; then
    echo "FAIL: $name (exit $rc, want $want and '$text'):"
    printf '%s\n' "$out"
    fail=1
  else
    echo "ok: $name"
  fi
}
check good 0 "status: good" good good
check revoked 1 "reason: keyCompromise" revoked revoked
check revoked-time 1 "revoked-at: 2024-01-01 00:00:00 UTC" revoked revoked
check unknown 1 "status: unknown" unknown unknown
check expired 1 "OCSP response refused: expired" good good --at 2099-01-01
check certid 1 "certID mismatch" good good2
check delegated 0 "status: good" good delegated
check not-a-responder 1 "not authorised for OCSP signing" good notresp
"$MOAT" ocsp "$d/good.pem" "$d/good.resp" >/dev/null 2>&1
if [ $? -ne 2 ]; then
  echo "FAIL: no --issuer is a usage error (exit 2)"
  fail=1
fi
[ $fail -eq 0 ] && echo "ocsp-cli: ok"
exit $fail
