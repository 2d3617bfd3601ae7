"""The fake Connect server's error value: an HTTP status, a service error
code (x-amzn-ErrorType) and a message, plus modeled extras (Reason)."""


class ApiError(Exception):
    def __init__(self, status, code, message, extra=None):
        Exception.__init__(self, message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra or {}
