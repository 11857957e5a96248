"""Seal small secrets with KMS so they can wait in DynamoDB for a decision.

The encryption context binds a sealed value to its owner item: a ciphertext
copied onto another item does not open."""

import json
from typing import Any

from fxcrm.dal import aws


def seal(key_id: str, secret: dict[str, Any], context: dict[str, str]) -> bytes:
    response = aws.client("kms").encrypt(KeyId=key_id, Plaintext=json.dumps(secret).encode(), EncryptionContext=context)
    return bytes(response["CiphertextBlob"])


def unseal(key_id: str, sealed: bytes, context: dict[str, str]) -> dict[str, Any]:
    response = aws.client("kms").decrypt(KeyId=key_id, CiphertextBlob=sealed, EncryptionContext=context)
    opened: dict[str, Any] = json.loads(response["Plaintext"])
    return opened
