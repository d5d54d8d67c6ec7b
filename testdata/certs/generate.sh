#!/usr/bin/env bash
# Regenerates the certificate fixtures in this directory with OpenSSL 3.0 alone.
# Validity periods are fixed, far-past or far-future dates (`openssl ca -startdate/-enddate`),
# so no test depends on today's date. Keys are new on every run, so rerunning changes every
# file; the tests compare against the files themselves and pin no bytes or hashes.
set -euo pipefail

out="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Long-lived certificates span 2000..2999; the expired and the not-yet-valid CA sit outside "now".
always_from=20000101000000Z
always_until=29991231235959Z

cat >"$work/openssl.cnf" <<EOF
[ca]
default_ca = test_ca

[test_ca]
dir              = $work
database         = $work/index.txt
serial           = $work/serial
new_certs_dir    = $work/issued
default_md       = sha256
policy           = policy_any
unique_subject   = no
copy_extensions  = none
email_in_dn      = no

[policy_any]
commonName = supplied

[req]
distinguished_name = req_dn
prompt             = no

[req_dn]
CN = unused

[root_ca]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

[leaf]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[server]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EOF
mkdir "$work/issued"
: >"$work/index.txt"

rsa_key() { openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"; }
ec_key() { openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# sign SERIAL KEY SUBJECT FROM UNTIL EXTENSIONS OUT [ISSUER_CERT ISSUER_KEY]
# Without an issuer the certificate is self-signed.
sign() {
  local serial=$1 key=$2 subject=$3 from=$4 until=$5 ext=$6 cert=$7
  local issuer=(-selfsign -keyfile "$key")
  if [[ $# -ge 9 ]]; then
    issuer=(-cert "$8" -keyfile "$9")
  fi
  echo "$serial" >"$work/serial"
  openssl req -new -config "$work/openssl.cnf" -key "$key" -out "$work/req.csr"
  # `openssl ca` chats on stderr even when it succeeds; show its output only when it fails.
  if ! openssl ca -batch -notext -config "$work/openssl.cnf" "${issuer[@]}" \
    -in "$work/req.csr" -subj "$subject" -startdate "$from" -enddate "$until" \
    -extensions "$ext" -out "$cert" 2>"$work/ca.log"; then
    cat "$work/ca.log" >&2
    exit 1
  fi
}

rsa_key "$out/ca.key"
sign 1001 "$out/ca.key" "/CN=LLSD Test Root CA" "$always_from" "$always_until" root_ca "$out/ca.pem"

rsa_key "$out/ca2.key"
sign 1002 "$out/ca2.key" "/CN=LLSD Other Root CA" "$always_from" "$always_until" root_ca "$out/ca2.pem"

ec_key "$work/ec-ca.key"
sign 1003 "$work/ec-ca.key" "/CN=LLSD EC Root CA" "$always_from" "$always_until" root_ca "$out/ec-ca.pem"

rsa_key "$work/expired-ca.key"
sign 1004 "$work/expired-ca.key" "/CN=LLSD Expired Root CA" 19900101000000Z 20000101000000Z root_ca \
  "$out/expired-ca.pem"

rsa_key "$work/future-ca.key"
sign 1005 "$work/future-ca.key" "/CN=LLSD Future Root CA" 20900101000000Z "$always_until" root_ca \
  "$out/future-ca.pem"

rsa_key "$work/leaf.key"
sign 1006 "$work/leaf.key" "/CN=LLSD Test Leaf" "$always_from" "$always_until" leaf "$out/leaf.pem" \
  "$out/ca.pem" "$out/ca.key"

rsa_key "$out/server.key"
sign 1007 "$out/server.key" "/CN=localhost" "$always_from" "$always_until" server "$out/server.pem" \
  "$out/ca.pem" "$out/ca.key"

ec_key "$out/private-key.pem"

# The keys are throwaways for tests only; keep them readable by whatever runs the TLS test.
chmod 644 "$out"/*.key "$out/private-key.pem"
