#!/usr/bin/env bash
# The auth flow with curl against the local cloud (`make dev`). Needs curl and python3
# (for reading JSON); nothing else. Each run registers a new address, so it can be run
# again and again. The README shows this file verbatim; the e2e suite runs it twice.
# Usage: bash docs/walkthrough.sh   (API=http://127.0.0.1:3100 for another port)
set -euo pipefail
API=${API:-http://127.0.0.1:3000}
PY=${PYTHON:-python3}
json() { "$PY" -c "import json,sys; print(json.load(sys.stdin)$1)"; }
EMAIL="walker-$("$PY" -c 'import uuid; print(uuid.uuid4().hex[:12])')@example.com"
echo "registering $EMAIL"

# 1. Ask for a registration code; locally, SES mail lands in the dev mailbox.
curl -sf -X POST "$API/auth/email-codes" -H 'Content-Type: application/json' \
  -d "{\"email\": \"$EMAIL\", \"received_at\": $(date +%s), \"scene\": \"register\"}"
echo
CODE=$(curl -sf "$API/_dev/mailbox?to=$EMAIL" | json "[-1]['body']" | grep -oE '[0-9]{6}')

# 2. Register; invite_code attributes you to the demo IB.
curl -sf -X POST "$API/auth/register" -H 'Content-Type: application/json' \
  -d "{\"email\": \"$EMAIL\", \"email_code\": \"$CODE\", \"password\": \"Walk-pass-1\", \"invite_code\": \"DEMOIB\"}" \
  | json "['user_info']"

# 3. Log in. Login needs a solved captcha; locally the dev widget solves it.
RANDSTR=$RANDOM$RANDOM
TICKET=$(curl -sf "$API/_dev/captcha?randstr=$RANDSTR" | json "['ticket']")
TOKEN=$(curl -sf -X POST "$API/auth/login" -H 'Content-Type: application/json' \
  -H "Captcha-Token: $TICKET" -H "Captcha-Randstr: $RANDSTR" -H 'Captcha-Action: login' \
  -d "{\"email\": \"$EMAIL\", \"password\": \"Walk-pass-1\"}" | json "['token']")

# 4. What may I do here? The first menu of my portal (then try GET /trading-accounts/types?trading_platform=MT5).
curl -sf "$API/auth/menus" -H "Authorization: Bearer $TOKEN" | json "['list'][0]['title']"

# 5. Change the password: every token issued before stops working (401 token_revoked).
curl -sf -X POST "$API/auth/password" -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
  -d '{"old_password": "Walk-pass-1", "new_password": "Walk-pass-2"}'
echo
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$API/auth/menus" -H "Authorization: Bearer $TOKEN")
echo "old token refused: $STATUS"
