#!/usr/bin/env bash
# The outbox draining into a local SMTP server (scripts/smtp_test_server.py: aiosmtpd with
# STARTTLS and AUTH, certificates from a throwaway CA): 10,000 queued messages (text + HTML,
# Reply-To, List-Unsubscribe) in a release build's new SQLite database, sent by the worker's
# deliver_due with its pooled connections. Prints messages/s and the total; fails over 60 s.
# usage: bench/mail.sh [COUNT]   (everything it makes is deleted after)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

count="${1:-10000}"
ensure_mail_venv
cargo build --release -p server --bin mail_drain

work=$(mktemp -d /tmp/backyard-bench-mail-XXXXXX)
(
  cd "$work"
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >leaf.ext
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=bench-ca 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj /CN=localhost 2>/dev/null
  openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 1 \
    -extfile leaf.ext 2>/dev/null
)
# The server stops when its stdin closes: the FIFO's writer is this script.
mkfifo "$work/stdin"
"$MAIL_VENV/bin/python" scripts/smtp_test_server.py --dir "$work/out" \
  --tls "$work/leaf.pem" "$work/leaf.key" --auth bench:bench-pass <"$work/stdin" >"$work/port" &
smtp=$!
exec 3>"$work/stdin"
trap 'exec 3>&-; kill $smtp 2>/dev/null; wait $smtp 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  grep -q '^PORT ' "$work/port" 2>/dev/null && break
  sleep 0.1
done
port=$(awk '/^PORT / { print $2 }' "$work/port")

say "Draining $count queued e-mails into the test SMTP server on 127.0.0.1:$port (STARTTLS, AUTH)"
DATABASE_URL="sqlite://$work/bench.db?mode=rwc" BACKYARD_LOG=warn \
  BACKYARD_SMTP_URL="smtp://bench:bench-pass@127.0.0.1:$port" BACKYARD_SMTP_CA_FILE="$work/ca.pem" \
  BACKYARD_MAIL_FROM="Backyard <noreply@example.com>" \
  "${CARGO_TARGET_DIR:-$ROOT/target}/release/mail_drain" "$count"
echo "the SMTP server stored $(find "$work/out" -name '*.json' | wc -l) messages"
