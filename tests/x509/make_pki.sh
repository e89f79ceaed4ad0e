#!/bin/sh
# Generates a small test PKI with the openssl command line into DIR
# (default: ./pki): a root, an intermediate, and leaves that are good,
# expired, for the wrong host, self-signed, client-only (wrong EKU) and
# revoked, plus a CRL from the intermediate.  Used by the x509 unit tests
# (committed output in tests/x509/pki) and by the interop tests.
set -eu
DIR=${1:-pki}
mkdir -p "$DIR"
cd "$DIR"
O=openssl
DAYS=36500

key() { $O genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

cat > ext.cnf <<'CNF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:*.test.example, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:client.test.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[other]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

key root
$O req -new -x509 -key root.key -subj "/CN=moat test root" -days $DAYS \
  -extensions ca -config ext.cnf -out root.pem 2>/dev/null
key inter
$O req -new -key inter.key -subj "/CN=moat test intermediate" -out inter.csr
$O x509 -req -in inter.csr -CA root.pem -CAkey root.key -set_serial 2 \
  -days $DAYS -extfile ext.cnf -extensions ca -out inter.pem 2>/dev/null

leaf() { # name ext serial days
  key "$1"
  $O req -new -key "$1.key" -subj "/CN=$1.test.example" -out "$1.csr"
  $O x509 -req -in "$1.csr" -CA inter.pem -CAkey inter.key -set_serial "$3" \
    -days "$4" -extfile ext.cnf -extensions "$2" -out "$1.pem" 2>/dev/null
}
leaf server server 10 $DAYS
leaf client client 11 $DAYS
leaf wronghost other 12 $DAYS
leaf revoked server 13 $DAYS
# Expired: valid for one day in 2000 (openssl ca sets explicit dates).
key expired
$O req -new -key expired.key -subj "/CN=expired.test.example" -out expired.csr
: > ca-index.txt
cat > ca.cnf <<'CNF'
[ca]
default_ca = d
[d]
database = ca-index.txt
new_certs_dir = .
serial = ca-serial
default_md = sha256
policy = p
copy_extensions = none
unique_subject = no
[p]
commonName = supplied
CNF
echo 0E > ca-serial
$O ca -batch -config ca.cnf -cert inter.pem -keyfile inter.key \
  -in expired.csr -startdate 20000101000000Z -enddate 20000102000000Z \
  -extfile ext.cnf -extensions server -notext -out expired.pem 2>/dev/null
rm -f 0E.pem ca-index.txt* ca-serial* ca.cnf
key selfsigned
$O req -new -x509 -key selfsigned.key -subj "/CN=localhost" -days $DAYS \
  -addext "subjectAltName=DNS:localhost" -out selfsigned.pem 2>/dev/null

# CRL from the intermediate revoking serial 13.
: > index.txt
printf '%s\n' "R	21000101000000Z	240101000000Z	0D	unknown	/CN=revoked.test.example" > index.txt
echo 01 > crlnumber
cat > crl.cnf <<'CNF'
[ca]
default_ca = d
[d]
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 36500
CNF
$O ca -gencrl -config crl.cnf -keyfile inter.key -cert inter.pem \
  -out inter.crl.pem 2>/dev/null
# Name constraints: a root that excludes evil.example, and a leaf whose
# only SAN is an IP address and whose CN is a host under evil.example (the
# CN is what a host-name check falls back to when there are no DNS SANs).
key ncroot
$O req -new -x509 -key ncroot.key -subj "/CN=moat test nc root" -days $DAYS \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "nameConstraints=critical,excluded;DNS:evil.example" \
  -out ncroot.pem 2>/dev/null
key ncleaf
$O req -new -key ncleaf.key -subj "/CN=www.evil.example" -out ncleaf.csr
printf '%s\n' "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
  "subjectAltName=IP:127.0.0.1" > ncleaf.ext
$O x509 -req -in ncleaf.csr -CA ncroot.pem -CAkey ncroot.key -set_serial 20 \
  -days $DAYS -extfile ncleaf.ext -out ncleaf.pem 2>/dev/null
rm -f ncleaf.ext
cat server.pem inter.pem > server-chain.pem
rm -f ./*.csr index.txt* crlnumber* crl.cnf ext.cnf ./*.key.unused
echo "PKI written to $(pwd)"
