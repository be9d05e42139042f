#!/usr/bin/env bash
# Makes a DEVELOPMENT certificate set for onewindowd's TLS with openssl:
#
#   deploy/make-dev-certs.sh [--host NAME|IP]... DIR [PRINCIPAL...]
#
#   DIR/ca.crt, ca.key                  a development CA (10 years)
#   DIR/server.crt, server.key          the server: localhost, 127.0.0.1, ::1
#                                       and every --host (SAN), 825 days
#   DIR/client-NAME.crt, .key           one client per PRINCIPAL: CN = NAME,
#                                       the principal it is in the auth file
#
# Keys are ECDSA P-256, made with umask 077 (0600). When the `onewindow`
# group exists (the package made it) and this runs as root, server.key is
# given to that group (0640) so the service can read it.
#
# Idempotent: a file that is there, chains to DIR/ca.crt, is valid for 30
# more days and (for the server) covers every host is kept; anything else
# is made (again). It prints what it made and what it kept.
#
# For development and tests only: production certificates come from the
# organisation's CA.
set -euo pipefail

usage() {
  echo "usage: $0 [--host NAME|IP]... DIR [PRINCIPAL...]" >&2
  exit 2
}

hosts=(localhost 127.0.0.1 ::1)
while [ $# -gt 0 ]; do
  case "$1" in
    --host)
      [ $# -ge 2 ] || usage
      hosts+=("$2")
      shift 2
      ;;
    -h | --help) usage ;;
    --*) echo "$0: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || usage
dir="$1"
shift

command -v openssl >/dev/null || {
  echo "$0: openssl is not installed (apt-get install openssl)" >&2
  exit 1
}

for name in "$@"; do
  if ! [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$ ]]; then
    echo "$0: principal name '$name': use letters, digits and . _ @ - (at most 64)" >&2
    exit 2
  fi
done
for h in "${hosts[@]}"; do
  if ! [[ "$h" =~ ^[A-Za-z0-9.:_-]{1,253}$ ]]; then
    echo "$0: --host '$h' is not a host name or an IP address" >&2
    exit 2
  fi
done

mkdir -p "$dir"
ca_days=3650
leaf_days=825
renew_seconds=$((30 * 86400))
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

new_key() {  # new_key FILE
  (umask 077 && openssl genpkey -algorithm EC \
    -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null)
}

serial() { echo "0x$(openssl rand -hex 16)"; }

until_date() { openssl x509 -in "$1" -noout -enddate | cut -d= -f2; }

is_ip() { [[ "$1" =~ ^[0-9.]+$ || "$1" == *:* ]]; }

# True when cert $1 with key $2 chains to the CA, matches its key and is
# valid for 30 more days.
still_good() {
  local cert="$1" key="$2"
  [ -s "$cert" ] && [ -s "$key" ] || return 1
  openssl verify -CAfile "$dir/ca.crt" "$cert" >/dev/null 2>&1 || return 1
  openssl x509 -in "$cert" -noout -checkend "$renew_seconds" >/dev/null 2>&1 ||
    return 1
  [ "$(openssl x509 -in "$cert" -noout -pubkey 2>/dev/null)" = \
    "$(openssl pkey -in "$key" -pubout 2>/dev/null)" ] || return 1
}

# ---- the CA ----
ca_made=0
if [ -s "$dir/ca.crt" ] && [ -s "$dir/ca.key" ] &&
  openssl x509 -in "$dir/ca.crt" -noout -checkend "$renew_seconds" >/dev/null 2>&1 &&
  [ "$(openssl x509 -in "$dir/ca.crt" -noout -pubkey 2>/dev/null)" = \
    "$(openssl pkey -in "$dir/ca.key" -pubout 2>/dev/null)" ]; then
  echo "kept  $dir/ca.crt (development CA, until $(until_date "$dir/ca.crt"))"
else
  new_key "$dir/ca.key"
  cat >"$tmp/ca.ext" <<EOF
[req]
distinguished_name = dn
x509_extensions = ca
prompt = no
[dn]
CN = OneWindow development CA
O = OneWindow (development only)
[ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
  openssl req -new -x509 -key "$dir/ca.key" -days "$ca_days" -sha256 \
    -set_serial "$(serial)" -config "$tmp/ca.ext" -out "$dir/ca.crt"
  chmod 0644 "$dir/ca.crt"
  ca_made=1
  echo "made  $dir/ca.crt + ca.key (development CA, until $(until_date "$dir/ca.crt"))"
fi

# sign NAME CN EXTENSIONS: DIR/NAME.crt for DIR/NAME.key
sign() {
  local base="$1" cn="$2" ext="$3"
  printf '[v3]\n%s\n' "$ext" >"$tmp/$base.ext"
  openssl req -new -key "$dir/$base.key" -subj "/O=OneWindow (development only)/CN=$cn" \
    -out "$tmp/$base.csr"
  openssl x509 -req -in "$tmp/$base.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -set_serial "$(serial)" -days "$leaf_days" -sha256 \
    -extfile "$tmp/$base.ext" -extensions v3 -out "$dir/$base.crt" 2>/dev/null
  chmod 0644 "$dir/$base.crt"
}

# ---- the server ----
san=""
for h in "${hosts[@]}"; do
  if is_ip "$h"; then san+="IP:$h,"; else san+="DNS:$h,"; fi
done
san="${san%,}"
server_ok=0
if [ "$ca_made" = 0 ] && still_good "$dir/server.crt" "$dir/server.key"; then
  server_ok=1
  for h in "${hosts[@]}"; do
    if is_ip "$h"; then check=(-checkip "$h"); else check=(-checkhost "$h"); fi
    if ! openssl x509 -in "$dir/server.crt" -noout "${check[@]}" 2>/dev/null |
      grep -q "does match"; then
      server_ok=0
    fi
  done
fi
if [ "$server_ok" = 1 ]; then
  echo "kept  $dir/server.crt (${hosts[*]}, until $(until_date "$dir/server.crt"))"
else
  [ -s "$dir/server.key" ] || new_key "$dir/server.key"
  sign server "${hosts[0]}" "basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $san
authorityKeyIdentifier = keyid"
  echo "made  $dir/server.crt + server.key (${hosts[*]}, until $(until_date "$dir/server.crt"))"
fi
if [ "$(id -u)" = 0 ] && getent group onewindow >/dev/null 2>&1; then
  chgrp onewindow "$dir/server.key" && chmod 0640 "$dir/server.key"
  echo "      $dir/server.key is readable by the onewindow group (0640)"
fi

# ---- clients ----
for name in "$@"; do
  base="client-$name"
  if [ "$ca_made" = 0 ] && still_good "$dir/$base.crt" "$dir/$base.key" &&
    [ "$(openssl x509 -in "$dir/$base.crt" -noout -subject -nameopt multiline |
      sed -n 's/^ *commonName *= *//p')" = "$name" ]; then
    echo "kept  $dir/$base.crt (CN=$name, until $(until_date "$dir/$base.crt"))"
    continue
  fi
  [ -s "$dir/$base.key" ] || new_key "$dir/$base.key"
  sign "$base" "$name" "basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid"
  echo "made  $dir/$base.crt + $base.key (CN=$name, until $(until_date "$dir/$base.crt"))"
done

cat <<EOF

Server:  onewindowd --tls-cert $dir/server.crt --tls-key $dir/server.key [--tls-client-ca $dir/ca.crt]
Clients: owctl --tls-ca $dir/ca.crt [--tls-cert $dir/client-NAME.crt --tls-key $dir/client-NAME.key] ...
EOF
