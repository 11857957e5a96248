"""Domain errors. The web layer maps each kind to one HTTP status
(`fxcrm.api.errors`); domain code never speaks HTTP."""


class DomainError(Exception):
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class InvalidInput(DomainError):
    code = "validation_error"


class NotAuthenticated(DomainError):
    code = "not_authenticated"


class Forbidden(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class TooManyRequests(DomainError):
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, field, code)
        self.retry_after = max(1, retry_after)


class ProviderUnavailable(DomainError):
    code = "provider_unavailable"
