#!/usr/bin/env python3
# Verifies one Restore Desk webhook delivery the way a receiver should, with
# nothing but Python 3's standard library: the Standard Webhooks signature
# (HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>", keyed with the
# base64 part of the whsec_ secret) and the timestamp's freshness.
#
#   WEBHOOK_SECRET=whsec_... python3 scripts/verify-webhook.py \
#       --id "$WEBHOOK_ID" --timestamp "$WEBHOOK_TIMESTAMP" \
#       --signature "$WEBHOOK_SIGNATURE" < body.json
#
# The body is read from standard input byte for byte: verify the bytes as
# received, before any JSON parsing. Exit status 0: valid ("valid" on
# stdout); 1: refused (the reason on stderr); 2: wrong usage.
import argparse
import base64
import binascii
import hashlib
import hmac
import os
import sys
import time


def key_of(secret):
    if not secret.startswith("whsec_"):
        raise ValueError("the secret must start with whsec_")
    try:
        return base64.b64decode(secret[len("whsec_"):], validate=True)
    except binascii.Error:
        raise ValueError("the secret after whsec_ is not base64")


def verify(secret, msg_id, timestamp, signature, body, tolerance, now):
    """Returns None when valid, else the reason it is not."""
    try:
        ts = int(timestamp)
    except ValueError:
        return "webhook-timestamp is not a number of seconds"
    if abs(now - ts) > tolerance:
        return "webhook-timestamp is %d s away from now (tolerance %d s): a replay or a wrong clock" % (now - ts, tolerance)
    key = key_of(secret)
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    # The header may carry several space-separated signatures (secret
    # rotation); one valid v1 signature is enough.
    for part in signature.split():
        version, _, sig = part.partition(",")
        if version == "v1" and hmac.compare_digest(sig, want):
            return None
    return "no v1 signature in webhook-signature matches the body"


def main():
    p = argparse.ArgumentParser(description="Verify a Standard Webhooks signature (body on stdin).")
    p.add_argument("--id", required=True, help="the webhook-id header")
    p.add_argument("--timestamp", required=True, help="the webhook-timestamp header (Unix seconds)")
    p.add_argument("--signature", required=True, help="the webhook-signature header")
    p.add_argument("--secret", default=os.environ.get("WEBHOOK_SECRET"),
                   help="the whsec_ secret (default: $WEBHOOK_SECRET, which keeps it out of ps)")
    p.add_argument("--tolerance", type=int, default=300, help="seconds the timestamp may differ from now (default 300)")
    p.add_argument("--now", type=int, default=None, help="Unix seconds to take as now (to check an old delivery)")
    a = p.parse_args()
    if not a.secret:
        p.error("give the secret with --secret or WEBHOOK_SECRET")
    body = sys.stdin.buffer.read()
    now = a.now if a.now is not None else int(time.time())
    try:
        why = verify(a.secret, a.id, a.timestamp, a.signature, body, a.tolerance, now)
    except ValueError as e:
        print("usage: " + str(e), file=sys.stderr)
        return 2
    if why:
        print("invalid: " + why, file=sys.stderr)
        return 1
    print("valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
