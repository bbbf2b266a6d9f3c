#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# trust_matrix.sh BUILD_DIR [tuned|system] - the verification matrix: a PKI made here with
# openssl, one case a row, each served by a real peer on loopback (openssl
# s_server or gnutls-serv), each fetched with the build's evtls-poll, which
# must end in the row's exact verdict (OK or the error's name). Where curl
# is installed it fetches the same case too, and a verdict that differs
# from curl's fails unless the row names the reason. Prints the table.
# A row's verdict may differ by wolfSSL build ("OK,system=PROTOCOL": what
# Debian's wolfSSL cannot do, with its own clear error).
set -euo pipefail
build=$(cd "${1:?usage: trust_matrix.sh BUILD_DIR [tuned|system]}" && pwd)
kind=${2:-system}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../bench/lib.sh"
poll=$build/bin/evtls-poll
work=$(mktemp -d /tmp/evtls-trust.XXXXXX)
server_pid=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap 'stop_server; rm -rf "$work"' EXIT
cd "$work"

# ---- the PKI

cat >ca.cnf <<'EOF'
[ca]
default_ca = this
[this]
database = index.txt
new_certs_dir = .
serial = serial
policy = any
copy_extensions = none
unique_subject = no
default_md = sha256
[any]
commonName = supplied
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[notca_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyCertSign, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid
[cn_only_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid
[client_only_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:localhost
authorityKeyIdentifier = keyid
[idn_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:xn--bcher-kva.test
authorityKeyIdentifier = keyid
[big_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = @big_names
authorityKeyIdentifier = keyid
[other_host_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
subjectAltName = DNS:other.example.test
authorityKeyIdentifier = keyid
EOF
: >index.txt
echo 1000 >serial
# A big certificate: 520 names, about 21.6 KB (one certificate message
# larger than wolfSSL's default limit of about 18 KB).
{
  echo "[big_names]"
  echo "DNS.1 = localhost"
  for i in $(seq 2 520); do echo "DNS.$i = host-$i.a-rather-long-subdomain-name.example.test"; done
} >>ca.cnf

key() { # NAME rsa:BITS|ec:CURVE
  case $2 in
    rsa:*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa:}" -out "$1.key" 2>/dev/null ;;
    ec:*) openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:${2#ec:}" -out "$1.key" 2>/dev/null ;;
  esac
}
# cert NAME ISSUER KEY MD EXT [START END]: ISSUER "self" for a root.
cert() {
  local name=$1 issuer=$2 k=$3 md=$4 ext=$5 start=${6:-} end=${7:-}
  key "$name" "$k"
  openssl req -new -key "$name.key" -subj "/CN=$name" -out "$name.csr" 2>/dev/null
  local dates=(-days 3650)
  [ -n "$start" ] && dates=(-startdate "$start" -enddate "$end")
  if [ "$issuer" = self ]; then
    openssl ca -batch -config ca.cnf -selfsign -keyfile "$name.key" -in "$name.csr" -md "$md" \
      -extensions "$ext" -notext -out "$name.pem" "${dates[@]}" 2>/dev/null
  else
    openssl ca -batch -config ca.cnf -cert "$issuer.pem" -keyfile "$issuer.key" -in "$name.csr" \
      -md "$md" -extensions "$ext" -notext -out "$name.pem" "${dates[@]}" 2>/dev/null
  fi
}
past_start=20200101000000Z past_end=20210101000000Z
future_start=20400101000000Z future_end=20410101000000Z

cert root self rsa:2048 sha256 ca_ext
cert inter root rsa:2048 sha256 ca_ext
cert other_root self rsa:2048 sha256 ca_ext
cert root_sha1 self rsa:2048 sha1 ca_ext          # a trust anchor's own SHA-1 self-signature
cert inter_sha1 root rsa:2048 sha1 ca_ext          # an intermediate signed with SHA-1
cert inter_1024 root rsa:1024 sha256 ca_ext        # an intermediate with a 1024-bit key
cert inter_expired root rsa:2048 sha256 ca_ext "$past_start" "$past_end"
cert inter_notca root rsa:2048 sha256 notca_ext    # CA:FALSE, yet it signs
cert good inter rsa:2048 sha256 leaf_ext
cert good_ec inter ec:P-256 sha256 leaf_ext
cert good_p384 inter ec:P-384 sha384 leaf_ext
cert good_rsa4096 inter rsa:4096 sha512 leaf_ext
cert leaf_sha1 inter rsa:2048 sha1 leaf_ext
cert leaf_md5 inter rsa:2048 md5 leaf_ext
cert leaf_1024 inter rsa:1024 sha256 leaf_ext
cert leaf_under_sha1 inter_sha1 rsa:2048 sha256 leaf_ext
cert leaf_under_1024 inter_1024 rsa:2048 sha256 leaf_ext
cert leaf_under_expired inter_expired rsa:2048 sha256 leaf_ext
cert leaf_under_notca inter_notca rsa:2048 sha256 leaf_ext
cert leaf_under_root_sha1 root_sha1 rsa:2048 sha256 leaf_ext
cert leaf_expired inter rsa:2048 sha256 leaf_ext "$past_start" "$past_end"
cert leaf_future inter rsa:2048 sha256 leaf_ext "$future_start" "$future_end"
cert leaf_cn_only inter rsa:2048 sha256 cn_only_ext
cert leaf_client_only inter rsa:2048 sha256 client_only_ext
cert leaf_other_host inter rsa:2048 sha256 other_host_ext
cert leaf_untrusted other_root rsa:2048 sha256 leaf_ext
cert leaf_big inter rsa:2048 sha256 big_ext       # 520 names
cert leaf_idn inter rsa:2048 sha256 idn_ext       # names xn--bcher-kva.test, "bücher.test"
cert other_inter other_root rsa:2048 sha256 ca_ext   # an intermediate of another PKI
# A CN-only certificate whose CN is the address (the quick test servers' kind).
key ip_cn rsa:2048
openssl req -new -key ip_cn.key -subj "/CN=127.0.0.1" -out ip_cn.csr 2>/dev/null
openssl ca -batch -config ca.cnf -cert inter.pem -keyfile inter.key -in ip_cn.csr -md sha256 \
  -extensions cn_only_ext -notext -out ip_cn.pem -days 3650 2>/dev/null
# A self-signed leaf.
openssl req -x509 -newkey rsa:2048 -nodes -keyout self.key -out self.pem -days 3650 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
cat root.pem root_sha1.pem >trust.pem
# Revocation: a leaf and an intermediate revoked; CRLs from the root and
# the intermediates (curl's OpenSSL wants one for every issuer of the path).
cert inter_revoked root rsa:2048 sha256 ca_ext
cert leaf_revoked inter rsa:2048 sha256 leaf_ext
cert leaf_under_revoked inter_revoked rsa:2048 sha256 leaf_ext
openssl ca -batch -config ca.cnf -cert inter.pem -keyfile inter.key -revoke leaf_revoked.pem 2>/dev/null
openssl ca -batch -config ca.cnf -cert root.pem -keyfile root.key -revoke inter_revoked.pem 2>/dev/null
crl() { # ISSUER OUT [gencrl options]
  local issuer=$1 out=$2
  shift 2
  openssl ca -batch -config ca.cnf -gencrl -cert "$issuer.pem" -keyfile "$issuer.key" -md sha256 \
    -out "$out" "$@" 2>/dev/null
}
crl root root.crl -crldays 30
crl inter inter.crl -crldays 30
crl inter_revoked inter_revoked.crl -crldays 30
cat root.crl inter.crl inter_revoked.crl >crls.pem
crl inter inter_expired.crl -crl_lastupdate 20200101000000Z -crl_nextupdate 20200201000000Z
cat root.crl inter_expired.crl >crls_expired.pem
# OCSP: the intermediate's responses for a good and a revoked leaf, to
# staple (s_server -status_file).
ocsp_response() { # LEAF ISSUER OUT
  openssl ocsp -issuer "$2.pem" -cert "$1.pem" -no_nonce -reqout "$1.ocspreq" 2>/dev/null
  openssl ocsp -index index.txt -rsigner "$2.pem" -rkey "$2.key" -CA "$2.pem" -reqin "$1.ocspreq" \
    -respout "$3" -ndays 30 >/dev/null 2>&1
}
ocsp_response good inter good.ocsp
ocsp_response leaf_revoked inter revoked.ocsp

# ---- the rows: NAME | PEER | HOST[/PATH] | LEAF | CHAIN | EXTRA SERVER ARGS | CLIENT ARGS (evtls-poll
# and curl alike) | EXPECTED | CURL'S, IF IT DIFFERS: WHY
rows=(
  "rsa2048|openssl|localhost|good|inter|||OK|"
  "ec-p256|openssl|localhost|good_ec|inter|||OK|"
  "ec-p384 leaf|openssl|localhost|good_p384|inter|||OK|"
  "rsa4096 sha512|openssl|localhost|good_rsa4096|inter|||OK|"
  "by IP SAN|openssl|127.0.0.1|good|inter|||OK|"
  "gnutls peer|gnutls|localhost|good|inter|||OK|"
  "leaf SHA-1|openssl|localhost|leaf_sha1|inter|-cipher DEFAULT@SECLEVEL=0||CERT_WEAK_SIGNATURE|"
  "leaf MD5|openssl|localhost|leaf_md5|inter|-cipher DEFAULT@SECLEVEL=0||CERT_WEAK_SIGNATURE|"
  "intermediate SHA-1|openssl|localhost|leaf_under_sha1|inter_sha1|-cipher DEFAULT@SECLEVEL=0||CERT_WEAK_SIGNATURE|"
  "anchor's own SHA-1 self-signature|openssl|localhost|leaf_under_root_sha1||-cipher DEFAULT@SECLEVEL=0||OK|"
  "leaf RSA-1024|openssl|localhost|leaf_1024|inter|-cipher DEFAULT@SECLEVEL=0||CERT_WEAK_KEY|"
  "intermediate RSA-1024|openssl|localhost|leaf_under_1024|inter_1024|-cipher DEFAULT@SECLEVEL=0||CERT_WEAK_KEY|"
  "expired leaf|openssl|localhost|leaf_expired|inter|||CERT_EXPIRED|"
  "not yet valid leaf|openssl|localhost|leaf_future|inter|||CERT_NOT_YET_VALID|"
  "expired intermediate|openssl|localhost|leaf_under_expired|inter_expired|||CERT_EXPIRED|"
  "CA:FALSE intermediate|openssl|localhost|leaf_under_notca|inter_notca|||CERT_INVALID|"
  "extra: another root after the chain|openssl|localhost|good|inter+other_root|||OK|"
  "extra: another PKI's intermediate first|openssl|localhost|good|other_inter+inter|||OK|"
  "extra: a self-signed leaf in the chain|openssl|localhost|good|self+inter|||OK|"
  "extra: an expired intermediate besides|openssl|localhost|good|inter_expired+inter|||OK|"
  "extra: gnutls, another root after the chain|gnutls|localhost|good|inter+other_root|||OK|"
  "international name (IDNA)|openssl|b\u00fccher.test|leaf_idn|inter|||OK|"
  "wrong host|openssl|localhost|leaf_other_host|inter|||CERT_HOSTNAME|"
  "untrusted root|openssl|localhost|leaf_untrusted|other_root|||CERT_UNTRUSTED|"
  "incomplete chain|openssl|localhost|good||||CERT_UNTRUSTED|"
  "self-signed leaf|openssl|localhost|self||||CERT_UNTRUSTED|"
  "CN only, by name|openssl|localhost|leaf_cn_only|inter|||CERT_HOSTNAME|curl 7.88 still matches the CN when there is no SAN; RFC 9525, Go and browsers do not"
  "CN=127.0.0.1 only, by IP|openssl|127.0.0.1|ip_cn|inter|||CERT_HOSTNAME|curl 7.88 still matches the CN when there is no SAN; RFC 9525, Go and browsers do not"
  "server only P-384|openssl|localhost|good|inter|-groups P-384||OK|"
  "server only P-521|openssl|localhost|good|inter|-groups P-521||OK|"
  "TLS 1.2 server only P-384|openssl|localhost|good|inter|-tls1_2 -groups P-384||OK|"
  "server only X448|openssl|localhost|good|inter|-groups X448||OK|"
  "TLS 1.2 server only DHE-RSA-AES-GCM|openssl|localhost|good|inter|-tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384||OK|"
  "TLS 1.2 server signing only RSA+SHA1|openssl|localhost|good|inter|-tls1_2 -sigalgs RSA+SHA1 -cipher DEFAULT@SECLEVEL=0||HANDSHAKE_FAILED|"
  "CRL given, nothing revoked|openssl|localhost|good|inter||--crlfile crls.pem|OK|"
  "revoked leaf (CRL)|openssl|localhost|leaf_revoked|inter||--crlfile crls.pem|CERT_REVOKED|"
  "revoked intermediate (CRL)|openssl|localhost|leaf_under_revoked|inter_revoked||--crlfile crls.pem|CERT_REVOKED|"
  "OCSP stapled good, --cert-status|openssl|localhost|good|inter|-status_file good.ocsp|--cert-status|OK|"
  "OCSP stapled good, TLS 1.2|openssl|localhost|good|inter|-tls1_2 -status_file good.ocsp|--cert-status|OK|"
  "OCSP stapled revoked, --cert-status|openssl|localhost|leaf_revoked|inter|-status_file revoked.ocsp|--cert-status|CERT_REVOKED|"
  "no staple, --cert-status|openssl|localhost|good|inter||--cert-status|CERT_STATUS|"
  "expired CRL|openssl|localhost|good|inter||--crlfile crls_expired.pem|CERT_INVALID|"
  "a 21.6 KB certificate (520 names)|openssl|localhost|leaf_big|inter|||OK,system=PROTOCOL|Debian's wolfSSL takes certificate messages up to about 18 KB (MAX_CERTIFICATE_SZ is compiled in); the tuned build 64 KB"
  "TLS 1.2 server asks to renegotiate|openssl|localhost/reneg|good|inter|-tls1_2||TLS_RENEGOTIATION|curl renegotiates; evtls never does, as Go by default and HTTP/2 (RFC 9113 9.2.1)"
)

# A name server for the international name's row (its A-labels only).
dns_port=$(bench_free_port)
setpriv --pdeathsig KILL -- dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv \
  --no-hosts --bind-interfaces --listen-address=127.0.0.1 --port="$dns_port" --pid-file= \
  --user=root --group=root --host-record=xn--bcher-kva.test,127.0.0.1 >dnsmasq.log 2>&1 &
dns_pid=$!
trap 'stop_server; kill "$dns_pid" 2>/dev/null; rm -rf "$work"' EXIT

curl_ok=0
command -v curl >/dev/null && curl_ok=1
gnutls_ok=0
command -v gnutls-serv >/dev/null && gnutls_ok=1

start_server() { # PEER LEAF CHAIN EXTRA...
  local peer=$1 leaf=$2 chain=$3
  shift 3
  port=$(bench_free_port)
  # CHAIN: the certificates sent after the leaf, "a+b" for several.
  : >chain.pem
  local c
  for c in ${chain//+/ }; do cat "$c.pem" >>chain.pem; done
  cat "$leaf.pem" chain.pem >served.pem
  if [ "$peer" = gnutls ]; then
    setpriv --pdeathsig KILL -- gnutls-serv --http --port "$port" --x509certfile served.pem \
      --x509keyfile "$leaf.key" "$@" >server.log 2>&1 &
  else
    # shellcheck disable=SC2068
    setpriv --pdeathsig KILL -- openssl s_server -accept "127.0.0.1:$port" -www -cert "$leaf.pem" \
      -key "$leaf.key" ${chain:+-cert_chain chain.pem} $@ >server.log 2>&1 &
  fi
  server_pid=$!
  bench_wait_port "$port" "$server_pid" && return 0
  echo "the $peer server did not start:" >&2
  cat server.log >&2
  return 1
}

fails=0 refusals=0 same_code=0 code_diff=()
# Where evtls-poll's exit status may differ from curl's, and why.
declare -A code_reason=(
  ["OCSP stapled revoked, --cert-status"]="evtls says the certificate is revoked (CERT_REVOKED, 60, curl's status for a CRL's revocation); curl's 91 names the staple"
)
printf '%-38s %-8s %-22s %-22s %s\n' "case" "peer" "expected" "evtls" "curl"
for row in "${rows[@]}"; do
  IFS='|' read -r name peer host leaf chain extra client want why <<<"$row"
  if [ "$peer" = gnutls ] && [ $gnutls_ok = 0 ]; then
    printf '%-38s %-8s %s\n' "$name" "$peer" "skipped: gnutls-serv is not installed"
    continue
  fi
  # shellcheck disable=SC2086
  start_server "$peer" "$leaf" "$chain" $extra
  host=$(printf '%b' "$host") # \uXXXX in a row: a Unicode host
  path=
  case $host in */*) path=${host#*/} host=${host%%/*} ;; esac
  url="https://$host:$port/$path"
  case $want in # OK,system=ERR: the system build's verdict differs
    *,*=*)
      alt=${want#*,}
      want=${want%%,*}
      [ "${alt%%=*}" = "$kind" ] && want=${alt#*=}
      ;;
  esac
  poll_args=() curl_args=()
  if LC_ALL=C grep -q '[^ -~]' <<<"$host"; then # resolved by the dnsmasq above
    alabel=$(python3 -c 'import sys; print(sys.argv[1].encode("idna").decode())' "$host")
    poll_args=(--resolver "127.0.0.1:$dns_port")
    curl_args=(--resolve "$alabel:$port:127.0.0.1")
  fi
  # shellcheck disable=SC2086
  poll_rc=0
  "$poll" --count 1 --json --cacert trust.pem ${poll_args[@]+"${poll_args[@]}"} $client "$url" \
    >poll.json 2>poll.err || poll_rc=$?
  got=$(python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readline()); print(r["error"] or "OK")' \
        poll.json 2>/dev/null || echo "NO-ANSWER")
  curl_says=-
  if [ $curl_ok = 1 ]; then
    # shellcheck disable=SC2086
    if curl -sS -o /dev/null --cacert trust.pem ${curl_args[@]+"${curl_args[@]}"} $client "$url" \
      2>curl.err; then curl_says=accepts
    else curl_says="refuses($(grep -o 'curl: ([0-9]*)' curl.err | tr -dc 0-9))"; fi
  fi
  stop_server
  printf '%-38s %-8s %-22s %-22s %s\n' "$name" "$peer" "$want" "$got($poll_rc)" "$curl_says"
  # Where both refuse, evtls-poll's exit status is curl's for the same failure.
  if [ "$got" != OK ] && [[ $curl_says == refuses* ]]; then
    refusals=$((refusals + 1))
    if [ "refuses($poll_rc)" = "$curl_says" ]; then same_code=$((same_code + 1))
    elif [ -n "${code_reason[$name]:-}" ]; then
      code_diff+=("$name: evtls-poll $poll_rc, curl ${curl_says#refuses}: ${code_reason[$name]}")
    else
      echo "  FAIL: evtls-poll exited $poll_rc where curl says ${curl_says#refuses}, no reason listed" >&2
      fails=$((fails + 1))
    fi
  fi
  if [ "$got" != "$want" ]; then
    echo "  FAIL: evtls-poll ended in $got, expected $want" >&2
    sed 's/^/  | /' poll.err | tail -5 >&2
    fails=$((fails + 1))
  fi
  if [ $curl_ok = 1 ]; then
    agree=0
    [ "$want" = OK ] && [ "$curl_says" = accepts ] && agree=1
    [ "$want" != OK ] && [ "$curl_says" != accepts ] && agree=1
    if [ $agree = 0 ] && [ -z "$why" ]; then
      echo "  FAIL: curl $curl_says where evtls says $want, with no reason listed" >&2
      fails=$((fails + 1))
    elif [ $agree = 0 ]; then
      echo "  (curl differs: $why)"
    fi
  fi
done
# The TLS 1.2 ClientHello tells the server the client knows RFC 5746 (an
# empty renegotiation_info): openssl s_server's page says so.
start_server openssl good inter -tls1_2
"$poll" --count 1 --cacert trust.pem "https://localhost:$port/" >page.html 2>poll.err || true
stop_server
if grep -q "Secure Renegotiation IS supported" page.html; then
  echo "TLS 1.2 ClientHello: secure renegotiation indicated (RFC 5746)"
else
  echo "  FAIL: openssl s_server did not see secure renegotiation indicated:" >&2
  grep -i "renegotiation" page.html >&2 || tail -3 poll.err >&2
  fails=$((fails + 1))
fi
echo "exit status: curl's in $same_code of the $refusals refusals both make"
for d in ${code_diff[@]+"${code_diff[@]}"}; do echo "  $d"; done
if [ $fails -ne 0 ]; then
  echo "trust matrix: $fails failed"
  exit 1
fi
echo "trust matrix: ${#rows[@]} cases as expected"
