"""Secrets from Secrets Manager through Powertools parameters (cached)."""

from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from fxcrm.dal import aws

_provider: SecretsProvider | None = None


def _secrets() -> SecretsProvider:
    global _provider
    if _provider is None:
        _provider = SecretsProvider(boto3_client=aws.client("secretsmanager"))
    return _provider


def get_secret_json(name: str, max_age: int) -> dict[str, Any]:
    value = _secrets().get(name, max_age=max_age, transform="json")
    if not isinstance(value, dict):
        raise ValueError(f"secret {name} is not a JSON object")
    return value


def clear_cache() -> None:
    global _provider
    _provider = None
