"""The PSP adapter chosen by `PAYMENT_PROVIDER`, with its keys from Secrets Manager."""

from fxcrm.adapters.payments import PaymentProvider
from fxcrm.adapters.payments.local import LocalPayments
from fxcrm.adapters.payments.nowpayments import NowPayments
from fxcrm.adapters.secrets import get_secret_json
from fxcrm.core.settings import Settings


def provider_for(settings: Settings, api_base: str) -> PaymentProvider:
    secret = get_secret_json(settings.psp_secret_name, settings.secret_cache_seconds)
    if settings.payment_provider == "nowpayments":
        return NowPayments(secret)
    return LocalPayments(secret, api_base)


def local_payments(settings: Settings, api_base: str) -> LocalPayments:
    """The stand-in page's provider; only a stack that selected it serves the page."""
    provider = provider_for(settings, api_base)
    if not isinstance(provider, LocalPayments):
        raise LookupError("the local payment page is off: PAYMENT_PROVIDER is not local")
    return provider
