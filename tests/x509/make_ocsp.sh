#!/bin/sh
# Makes OCSP responses (RFC 6960) with `openssl ocsp` into DIR, for
# tests/unit/test_ocsp.c (which runs it into a temporary directory) and
# for the fuzz seed corpus.  EC P-256 throughout:
#   ca          the issuer; leaves good (serial 0x10), good2 (0x11),
#               revoked (0x12, keyCompromise on 2024-01-01), unknown (0x13,
#               not in the responder's index)
#   resp        a responder issued by ca with id-kp-OCSPSigning
#   notresp     a responder issued by ca with serverAuth only
#   critresp    a responder issued by ca with OCSPSigning and an unknown
#               critical extension
#   otherca, otherresp   another CA and its OCSPSigning responder
#   fakeca      a self-signed certificate named like ca, with its own key
# Responses (DER, NAME.resp; nextUpdate one day after thisUpdate unless
# said otherwise):
#   good good_sha256 good_bykey revoked unknown multi (good + revoked)
#   short (nextUpdate 10 minutes after thisUpdate) no_next (no nextUpdate)
#   delegated notresp critresp otherresp fakeca sha1 (signed with
#   ECDSA-SHA1) good2
# With CORPUS, also writes fuzz_ocsp seeds there: each is the issuer's and
# the leaf's DER, each after a 2-byte length, then a response.
set -eu
DIR=${1:?usage: make_ocsp.sh DIR [CORPUS]}
CORPUS=${2:-}
mkdir -p "$DIR"
cd "$DIR"
O=openssl

key() { $O genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
ca() { # name subject
  key "$1"
  $O req -x509 -new -key "$1.key" -days 30 -subj "$2" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign -out "$1.pem" 2>/dev/null
}
cert() { # name serial eku ca [extra extension line]
  key "$1"
  $O req -new -key "$1.key" -subj "/CN=$1.test.example" -out "$1.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=DNS:%s.test.example\n%s\n' \
    "$3" "$1" "${5:-}" > "$1.ext"
  $O x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" -set_serial "$2" \
    -days 30 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}

ca ca "/CN=moat test OCSP CA"
ca otherca "/CN=moat other CA"
ca fakeca "/CN=moat test OCSP CA"
cert good 0x10 serverAuth ca
cert good2 0x11 serverAuth ca
cert revoked 0x12 serverAuth ca
cert unknown 0x13 serverAuth ca
cert resp 0x20 OCSPSigning ca
cert notresp 0x21 serverAuth ca
cert otherresp 0x22 OCSPSigning otherca
cert critresp 0x23 OCSPSigning ca "1.3.6.1.4.1.55555.1=critical,DER:0500"

printf 'V\t300101000000Z\t\t10\tunknown\t/CN=good.test.example\n' > index.txt
printf 'V\t300101000000Z\t\t11\tunknown\t/CN=good2.test.example\n' >> index.txt
printf 'R\t300101000000Z\t240101000000Z,keyCompromise\t12\tunknown\t/CN=revoked.test.example\n' >> index.txt
: > index.txt.attr

req() { # out certs... (SHA-1 CertIDs unless REQ_MD is set)
  out=$1
  shift
  args=""
  for c in "$@"; do args="$args -cert $c.pem"; done
  $O ocsp ${REQ_MD:-} -issuer ca.pem $args -no_nonce -reqout "$out.req" 2>/dev/null
}
resp() { # out req signer [extra options]
  out=$1 r=$2 s=$3
  shift 3
  $O ocsp -index index.txt -CA ca.pem -rsigner "$s.pem" -rkey "$s.key" \
    -reqin "$r.req" -respout "$out.resp" "$@" >/dev/null 2>&1
}

req good good
req good2 good2
req revoked revoked
req unknown unknown
req multi good revoked
REQ_MD=-sha256 req good_sha256 good

resp good good ca -ndays 1
resp good2 good2 ca -ndays 1
resp good_sha256 good_sha256 ca -ndays 1
resp good_bykey good ca -ndays 1 -resp_key_id
resp revoked revoked ca -ndays 1
resp unknown unknown ca -ndays 1
resp multi multi ca -ndays 1
resp short good ca -nmin 10
resp no_next good ca
resp delegated good resp -ndays 1
resp notresp good notresp -ndays 1
resp otherresp good otherresp -ndays 1
resp critresp good critresp -ndays 1
resp fakeca good fakeca -ndays 1
resp sha1 good ca -ndays 1 -rmd sha1
rm -f ./*.csr ./*.ext ./*.req

u16() { # the 2-byte big-endian length of a file
  n=$(wc -c < "$1")
  printf "\\$(printf %03o $((n >> 8)))\\$(printf %03o $((n & 255)))"
}
if [ -n "$CORPUS" ]; then
  mkdir -p "$CORPUS"
  $O x509 -in ca.pem -outform DER -out ca.der
  for r in ./*.resp; do
    r=$(basename "$r" .resp)
    case $r in
      revoked | multi) leaf=revoked ;;
      unknown | good2) leaf=$r ;;
      *) leaf=good ;;
    esac
    $O x509 -in "$leaf.pem" -outform DER -out leaf.der
    { u16 ca.der; cat ca.der; u16 leaf.der; cat leaf.der; cat "$r.resp"; } \
      > "$CORPUS/$r"
    cp "$r.resp" "$CORPUS/$r.bare"
  done
  rm -f ca.der leaf.der
fi
