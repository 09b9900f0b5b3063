"""Status error bodies exactly as the real kube-apiserver writes them
(metav1.Status with reason, details and code), and field.Error formatting for
422 Invalid responses.
"""
import json


class ApiError(Exception):
    """An error answered to the client as a metav1.Status."""

    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                "status": "Failure", "message": self.message}
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(res, name):
    d = {}
    if name:
        d["name"] = name
    if res.group:
        d["group"] = res.group
    d["kind"] = res.plural
    return d


def not_found(res, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (res.group_resource, name),
                    _details(res, name))


def namespace_not_found(ns):
    return ApiError(404, "NotFound", 'namespaces "%s" not found' % ns,
                    {"name": ns, "kind": "namespaces"})


def already_exists(res, name):
    return ApiError(409, "AlreadyExists",
                    '%s "%s" already exists' % (res.group_resource, name),
                    _details(res, name))


def conflict(res, name, why="the object has been modified; please apply your "
             "changes to the latest version and try again"):
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s'
                    % (res.group_resource, name, why), _details(res, name))


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def forbidden(group_resource, name, why, group="", kind=None):
    if not group_resource:
        message = "forbidden: %s" % why
    elif name:
        message = '%s "%s" is forbidden: %s' % (group_resource, name, why)
    else:
        message = "%s is forbidden: %s" % (group_resource, why)
    details = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    if kind is not None:
        details["kind"] = kind
    return ApiError(403, "Forbidden", message, details)


def unauthorized():
    return ApiError(401, "Unauthorized", "Unauthorized")


def internal(message, causes=None):
    return ApiError(500, "InternalError", "Internal error occurred: %s" % message,
                    {"causes": [{"message": message}]} if causes is None else causes)


def gone(message):
    return ApiError(410, "Expired", message)


def method_not_allowed():
    return ApiError(405, "MethodNotAllowed",
                    "the server does not allow this method on the requested resource",
                    {})


def path_not_found():
    return ApiError(404, "NotFound", "the server could not find the requested resource",
                    {})


def unsupported_media_type(content_type):
    return ApiError(415, "UnsupportedMediaType",
                    'the body of the request was in an unknown format - accepted '
                    'media types include: application/json, application/yaml, '
                    'application/vnd.kubernetes.protobuf', {})


_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
            405: "MethodNotAllowed", 406: "NotAcceptable", 409: "Conflict",
            410: "Expired", 415: "UnsupportedMediaType", 422: "Invalid",
            429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
            504: "Timeout"}
_DEFAULT_MESSAGES = {
    429: "Too many requests, please try again later.",
    500: "Internal error occurred: injected fault",
    503: "the server is currently unable to handle the request",
    504: "the server was unable to return a response in the time allotted, but may "
         "still be processing the request",
}


def from_code(code, message=None):
    """A Status for an injected fault with the given HTTP code."""
    reason = _REASONS.get(code, "")
    msg = message or _DEFAULT_MESSAGES.get(code) or "injected fault (HTTP %d)" % code
    headers = {"Retry-After": "1"} if code in (429, 503) else {}
    details = {"retryAfterSeconds": 1} if code in (429, 503) else None
    return ApiError(code, reason, msg, details, headers)


# ---- field errors (422) ------------------------------------------------------

def go_repr(value):
    """Go's %q / %v rendering of a bad value in field errors."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


class FieldError:
    TYPES = {"Invalid": ("FieldValueInvalid", "Invalid value"),
             "Required": ("FieldValueRequired", "Required value"),
             "Duplicate": ("FieldValueDuplicate", "Duplicate value"),
             "NotSupported": ("FieldValueNotSupported", "Unsupported value"),
             "Forbidden": ("FieldValueForbidden", "Forbidden"),
             "TooLong": ("FieldValueTooLong", "Too long"),
             "TooMany": ("FieldValueTooMany", "Too many")}
    _NO_VALUE = ("Required", "Forbidden", "TooLong")

    def __init__(self, typ, field, value=None, detail=""):
        self.typ = typ
        self.field = field
        self.value = value
        self.detail = detail

    def body(self):
        label = self.TYPES[self.typ][1]
        s = label if self.typ in self._NO_VALUE else "%s: %s" % (label, go_repr(self.value))
        if self.detail:
            s += ": " + self.detail
        return s

    def __str__(self):
        return "%s: %s" % (self.field, self.body())

    def cause(self):
        return {"reason": self.TYPES[self.typ][0], "message": self.body(),
                "field": self.field}


def invalid(res, name, errors):
    """422 Invalid with details.causes, like apierrors.NewInvalid."""
    texts = []
    for e in errors:
        if str(e) not in texts:
            texts.append(str(e))
    agg = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details = {"name": name}
    if res.group:
        details["group"] = res.group
    details["kind"] = res.kind
    details["causes"] = [e.cause() for e in errors]
    kind = "%s.%s" % (res.kind, res.group) if res.group else res.kind
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s' % (kind, name, agg), details)


def not_supported(field, value, supported):
    return FieldError("NotSupported", field, value,
                      "supported values: " + ", ".join('"%s"' % s for s in supported))
