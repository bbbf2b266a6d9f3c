#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# mkcerts.sh DIR - makes the test and demo PKI in DIR (ECDSA P-256 keys):
#   ca.pem ca.key ca.der      the test CA (ca.der: the same in DER)
#   server.pem server.key     CN=localhost, SAN localhost, 127.0.0.1, ::1 (30 days)
#   server-chain.pem          server.pem followed by ca.pem
#   expired.pem expired.key   same names, valid 2020-01-01..2021-01-01
#   future.pem future.key     same names, valid from 2099
#   other-ca.pem              a CA that signed nothing we serve
#   client.pem client.key     a client certificate (clientAuth) from ca
#   client-enc.key            client.key encrypted with password "secret"
#   ip.pem ip.key             self-signed, CN=127.0.0.1 (no SAN), as http-server demos use
set -euo pipefail
dir=${1:?usage: mkcerts.sh DIR}
mkdir -p "$dir"
cd "$dir"
[ -f .done ] && exit 0

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -out ca.pem -days 3650 -subj "/CN=evtls test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
key other-ca.key
openssl req -x509 -new -key other-ca.key -out other-ca.pem -days 3650 -subj "/CN=evtls other CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

cat > ca.cnf <<'CNF'
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = .
database = ./index.txt
new_certs_dir = ./newcerts
serial = ./serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[ any ]
commonName = supplied
[ server_ext ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
[ client_ext ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
CNF
mkdir -p newcerts
: > index.txt
echo 1000 > serial

# sign NAME EXT START END : NAME.key and NAME.pem signed by ca with dates
sign() {
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$5" 2>/dev/null
  openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -extensions "$2" \
    -startdate "$3" -enddate "$4" -in "$1.csr" -out "$1.pem" -notext 2>/dev/null
  rm -f "$1.csr"
}
now=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)
later=$(date -u -d '+30 days' +%Y%m%d%H%M%SZ)
sign server server_ext "$now" "$later" localhost
sign expired server_ext 20200101000000Z 20210101000000Z localhost
sign future server_ext 20990101000000Z 20991231000000Z localhost
sign client client_ext "$now" "$later" "evtls test client"
cat server.pem ca.pem > server-chain.pem
openssl x509 -in ca.pem -outform DER -out ca.der
openssl pkey -in client.key -aes256 -passout pass:secret -out client-enc.key
key ip.key
openssl req -x509 -new -key ip.key -out ip.pem -days 30 -subj "/CN=127.0.0.1"
touch .done
