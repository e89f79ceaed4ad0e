#!/bin/sh
# moat ech keygen / show, and ECH key files between moat and OpenSSL 4.0:
#   sh tests/interop/ech_keygen.sh MOAT_BINARY [ECH_TOOL]
# moat's own checks always run.  With ../shared/peers/openssl-4.0 (or
# $MOAT_OPENSSL40) present: `openssl ech -in` must read moat's file with the
# same fields, moat must read files `openssl ech` wrote with the same
# fields, and an OpenSSL 4.0 s_server holding moat's key must accept ECH
# from an OpenSSL s_client given the base64 list moat printed (and must not
# with another key's list); and with ECH_TOOL (tests/interop/ech_tool.c),
# moat's HPKE must open the encrypted inner ClientHello such a client sends
# to moat's config, and refuse it when its aad was changed.  Without
# OpenSSL 4.0, that half is skipped with one line.  Ends with "ech-keygen: ok" or exits 1 at the first failure.
set -u
moat=${1:?usage: sh tests/interop/ech_keygen.sh MOAT_BINARY [ECH_TOOL]}
ech_tool=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ossl_dir=${MOAT_OPENSSL40:-$root/../shared/peers/openssl-4.0}
d=$(mktemp -d "${TMPDIR:-/tmp}/moat-ech.XXXXXX")
srv_pid=""
cleanup() {
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null
  exec 3>&- 2>/dev/null
  rm -rf "$d"
}
trap cleanup EXIT INT TERM

fail() {
  echo "ech-keygen: FAILED: $*"
  exit 1
}
# expect FILE TEXT: FILE holds TEXT (fixed string).
expect() {
  grep -qF -- "$2" "$1" || { echo "--- $1:"; cat "$1"; fail "no \"$2\" in $1"; }
}

# ---- moat alone ------------------------------------------------------------
"$moat" ech keygen --public-name public.example --config-id 0x2a \
  --max-name-len 40 --out "$d/moat.pem" >"$d/b64" 2>"$d/keygen.err" ||
  fail "keygen: $(cat "$d/keygen.err")"
[ "$(stat -c %a "$d/moat.pem")" = 600 ] || fail "the key file is not mode 0600"
[ "$(head -1 "$d/moat.pem")" = "-----BEGIN PRIVATE KEY-----" ] ||
  fail "the key file does not start with the PRIVATE KEY block"
expect "$d/moat.pem" "-----BEGIN ECHCONFIG-----"
# The base64 printed is the ECHCONFIG block's body.
body=$(sed -n '/BEGIN ECHCONFIG/,/END ECHCONFIG/p' "$d/moat.pem" |
  grep -v -- ----- | tr -d '\n')
[ "$(cat "$d/b64")" = "$body" ] || fail "printed base64 differs from the file"
"$moat" ech show "$d/moat.pem" >"$d/show" 2>&1 || fail "show: $(cat "$d/show")"
expect "$d/show" "private key (X25519), 1 config"
expect "$d/show" "config_id 42 (0x2a), version 0xfe0d, KEM 0x0020"
expect "$d/show" "maximum_name_length 40, public_name public.example"
expect "$d/show" "HKDF-SHA256 AES-128-GCM, HKDF-SHA256 AES-256-GCM"
expect "$d/show" ": usable"
pk=$(sed -n 's/.*public key \([0-9a-f]*\),.*/\1/p' "$d/show")
[ ${#pk} -eq 64 ] || fail "no 32-byte public key in: $(cat "$d/show")"

# Refusals: an existing file, a name clients must ignore, no name.
"$moat" ech keygen --public-name public.example --out "$d/moat.pem" \
  >/dev/null 2>"$d/err" && fail "keygen overwrote an existing file"
expect "$d/err" "--force overwrites"
"$moat" ech keygen --public-name 10.0.0.1 --out "$d/ip.pem" >/dev/null \
  2>"$d/err" && fail "keygen took an IPv4 literal as public name"
expect "$d/err" "RFC 9849 6.1.7"
[ ! -e "$d/ip.pem" ] || fail "a refused keygen left a file"
"$moat" ech keygen --out "$d/x.pem" >/dev/null 2>&1
[ $? -eq 2 ] || fail "keygen without --public-name is not a usage error"
"$moat" ech keygen --public-name a.example --config-id 256 >/dev/null 2>&1
[ $? -eq 2 ] || fail "--config-id 256 is not a usage error"
printf 'not a key file\n' >"$d/junk.pem"
"$moat" ech show "$d/junk.pem" >"$d/err" 2>&1 && fail "show read junk"
expect "$d/err" "BAD_PEM"
"$moat" ech keygen --public-name public.example --out "$d/moat.pem" --force \
  >"$d/b64b" 2>/dev/null || fail "--force did not overwrite"
[ "$(cat "$d/b64")" != "$(cat "$d/b64b")" ] || fail "--force kept the old key"
"$moat" ech keygen --public-name public.example --config-id 0x2a \
  --max-name-len 40 --out "$d/moat.pem" --force >"$d/b64" 2>/dev/null
"$moat" ech show "$d/moat.pem" >"$d/show" 2>&1
pk=$(sed -n 's/.*public key \([0-9a-f]*\),.*/\1/p' "$d/show")

# ---- against OpenSSL 4.0 ---------------------------------------------------
ossl="$ossl_dir/bin/openssl"
if [ ! -x "$ossl" ]; then
  echo "ech-keygen: OpenSSL 4.0 part skipped: $ossl_dir not found"
  echo "ech-keygen: ok"
  exit 0
fi
if [ -d "$ossl_dir/lib64" ]; then lib="$ossl_dir/lib64"; else lib="$ossl_dir/lib"; fi
run_ossl() { LD_LIBRARY_PATH="$lib" "$ossl" "$@"; }
run_ossl version | grep -q "^OpenSSL 4\." || fail "$ossl is not OpenSSL 4"

# OpenSSL reads moat's file: [version,config_id,public_name,[kem,kdf,aead
# ...],public key,maximum_name_length,extensions].
run_ossl ech -in "$d/moat.pem" -text >"$d/ossl-text" 2>&1 ||
  fail "openssl ech -in refused moat's file: $(cat "$d/ossl-text")"
expect "$d/ossl-text" "(has private key)"
expect "$d/ossl-text" "[fe0d,2a,public.example,[0020,0001,0001,0020,0001,0002,0020,0001,0003],$pk,28,00]"

# moat reads OpenSSL's files.
run_ossl ech -public_name ossl.example -max_name_len 17 -suite 0x20,1,3 \
  -out "$d/ossl.pem" >/dev/null 2>&1 || fail "openssl ech could not make a key"
run_ossl ech -in "$d/ossl.pem" -text >"$d/ossl-text" 2>&1
opk=$(sed -n 's/.*\],\([0-9a-f]\{64\}\),.*/\1/p' "$d/ossl-text")
ocid=$(sed -n 's/.*\[fe0d,\([0-9a-f]*\),.*/\1/p' "$d/ossl-text")
[ ${#opk} -eq 64 ] || fail "no public key in: $(cat "$d/ossl-text")"
"$moat" ech show "$d/ossl.pem" >"$d/show" 2>&1 ||
  fail "moat refused openssl's file: $(cat "$d/show")"
expect "$d/show" "private key (X25519), 1 config"
expect "$d/show" "(0x$ocid), version 0xfe0d, KEM 0x0020"
expect "$d/show" "public key $opk, suites [HKDF-SHA256 CHACHA20-POLY1305]"
expect "$d/show" "maximum_name_length 17, public_name ossl.example"
# A P-256 key (KEM 0x0010) is refused, saying so.
run_ossl ech -public_name p256.example -suite 0x10,1,1 -out "$d/p256.pem" \
  >/dev/null 2>&1 || fail "openssl ech could not make a P-256 key"
"$moat" ech show "$d/p256.pem" >"$d/err" 2>&1 && fail "moat took a P-256 key"
expect "$d/err" "UNSUPPORTED"
expect "$d/err" "X25519 KEM"

# An OpenSSL server holding moat's key, an OpenSSL client with moat's
# base64 list: ECH must succeed; with the list of another key it must not.
if ! command -v openssl >/dev/null; then
  echo "ech-keygen: handshake part skipped: no system openssl to make a certificate"
  echo "ech-keygen: ok"
  exit 0
fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$d/key.pem" -out "$d/cert.pem" -days 2 -subj /CN=public.example \
  -addext "subjectAltName=DNS:public.example,DNS:secret.example" \
  >/dev/null 2>&1 || fail "could not make a test certificate"
mkfifo "$d/in" || fail "mkfifo"
# handshake LIST: one s_server with moat's key, one s_client with LIST.
handshake() {
  exec 3<>"$d/in"
  # Emptied here, not by the background job's redirection, so the loop
  # below never reads the last server's port.
  : >"$d/srv.log"
  LD_LIBRARY_PATH="$lib" "$ossl" s_server -accept 127.0.0.1:0 -tls1_3 \
    -cert "$d/cert.pem" -key "$d/key.pem" -ech_key "$d/moat.pem" -naccept 1 \
    <"$d/in" >>"$d/srv.log" 2>&1 &
  srv_pid=$!
  port=""
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    port=$(sed -n 's/^ACCEPT .*:\([0-9][0-9]*\)$/\1/p' "$d/srv.log")
    [ -n "$port" ] && break
    sleep 0.25
  done
  [ -n "$port" ] || fail "s_server did not start: $(cat "$d/srv.log")"
  run_ossl s_client -connect "127.0.0.1:$port" -servername secret.example \
    -CAfile "$d/cert.pem" -verify_hostname secret.example \
    -ech_config_list "$1" </dev/null >"$d/cli.log" 2>&1
  kill "$srv_pid" 2>/dev/null
  wait "$srv_pid" 2>/dev/null
  srv_pid=""
  exec 3>&-
}
handshake "$(cat "$d/b64")"
grep -q "^ECH: success" "$d/cli.log" ||
  fail "ECH with moat's key and list did not succeed: $(grep -i ech "$d/cli.log")"
expect "$d/cli.log" "ECH: inner: secret.example"
other=$(sed -n '/BEGIN ECHCONFIG/,/END ECHCONFIG/p' "$d/ossl.pem" |
  grep -v -- ----- | tr -d '\n')
handshake "$other"
grep -q "^ECH: success" "$d/cli.log" &&
  fail "ECH succeeded with another key's config"
# Rejected, the server offers its config (moat's) as retry_configs.
expect "$d/cli.log" "ECH: failed+retry-configs"
expect "$d/cli.log" "$pk,28,00]"
echo "ech-keygen: OpenSSL 4.0 reads moat's key file, moat reads its files, and its s_server accepts ECH with moat's key"

# An OpenSSL client encrypting its inner ClientHello to moat's config; moat's
# HPKE opens it with moat's key (the inner server name comes out).
if [ -z "$ech_tool" ] || ! command -v python3 >/dev/null; then
  echo "ech-keygen: ClientHello part skipped: no ech_tool or python3"
  echo "ech-keygen: ok"
  exit 0
fi
python3 - "$d/ch.bin" "$d/port" <<'PY' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
s.settimeout(20)
open(sys.argv[2] + ".tmp", "w").write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
c, _ = s.accept()
c.settimeout(10)
data = b""
while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
    chunk = c.recv(65536)
    if not chunk:
        break
    data += chunk
open(sys.argv[1], "wb").write(data)
c.close()
PY
rec_pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  [ -f "$d/port" ] && break
  sleep 0.25
done
[ -f "$d/port" ] || fail "the recording listener did not start"
run_ossl s_client -connect "127.0.0.1:$(cat "$d/port")" \
  -servername secret.example -ech_config_list "$(cat "$d/b64")" \
  </dev/null >"$d/cli.log" 2>&1
wait "$rec_pid" || fail "no ClientHello was recorded"
"$ech_tool" "$d/moat.pem" "$d/ch.bin" >"$d/open.log" 2>&1 ||
  fail "moat's HPKE did not open OpenSSL's ClientHello: $(cat "$d/open.log")"
expect "$d/open.log" "inner server_name secret.example"
"$ech_tool" "$d/moat.pem" "$d/ch.bin" flip >"$d/open.log" 2>&1 &&
  fail "a changed outer ClientHello (aad) still opened"
expect "$d/open.log" "DECRYPT_ERROR"
"$ech_tool" "$d/ossl.pem" "$d/ch.bin" >"$d/open.log" 2>&1 &&
  fail "another key file opened the ClientHello"
echo "ech-keygen: moat's HPKE opens the inner ClientHello an OpenSSL 4.0 client encrypted to moat's config"
echo "ech-keygen: ok"
