#!/usr/bin/env bash
# The auth flow with curl against the local cloud (`make dev`); the e2e suite runs this file.
# Usage: API=http://127.0.0.1:3000 bash docs/walkthrough.sh
set -euo pipefail
API=${API:-http://127.0.0.1:3000}
PY=${PYTHON:-python3}
json() { "$PY" -c "import json,sys; print(json.load(sys.stdin)$1)"; }
EMAIL="walker-$RANDOM$RANDOM@example.com"

# 1. Ask for a registration code; locally it lands in the dev mailbox.
curl -sf -X POST "$API/auth/email-codes" -H 'Content-Type: application/json' \
  -d "{\"email\": \"$EMAIL\", \"received_at\": $(date +%s), \"scene\": \"register\"}"
echo
CODE=$(curl -sf "$API/_dev/mailbox?to=$EMAIL" | json "[-1]['body']" | grep -oE '[0-9]{6}')

# 2. Register (invite_code attributes the client to the demo IB).
curl -sf -X POST "$API/auth/register" -H 'Content-Type: application/json' \
  -d "{\"email\": \"$EMAIL\", \"email_code\": \"$CODE\", \"password\": \"Walk-pass-1\", \"invite_code\": \"DEMOIB\"}" \
  | json "['user_info']"

# 3. Log in: solve the captcha (locally, the dev widget does) and send its headers.
RANDSTR=$RANDOM$RANDOM
TICKET=$(curl -sf "$API/_dev/captcha?randstr=$RANDSTR" | json "['ticket']")
TOKEN=$(curl -sf -X POST "$API/auth/login" -H 'Content-Type: application/json' \
  -H "Captcha-Token: $TICKET" -H "Captcha-Randstr: $RANDSTR" -H 'Captcha-Action: login' \
  -d "{\"email\": \"$EMAIL\", \"password\": \"Walk-pass-1\"}" | json "['token']")

# 4. What may I do? Actions and menus for my portal.
curl -sf "$API/auth/menus" -H "Authorization: Bearer $TOKEN" | json "['list'][0]['title']"

# 5. Change the password: every earlier token stops working.
curl -sf -X POST "$API/auth/password" -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
  -d '{"old_password": "Walk-pass-1", "new_password": "Walk-pass-2"}'
echo
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$API/auth/menus" -H "Authorization: Bearer $TOKEN")
echo "old token refused: $STATUS"
