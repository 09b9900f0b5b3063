"""Validation rules of the emulated Flyte Admin, with flyteadmin's own messages.

Sources (flyteorg/flyte): flyteadmin/pkg/manager/impl/validation/{project_validator,
validation,attributes_validator}.go, flyteadmin/pkg/manager/impl/util/filters.go,
flyteadmin/pkg/common/{filters,sorting}.go; the label checks call
k8s.io/apimachinery/pkg/util/validation (v0.28, the version flyteadmin pins), whose
messages are reproduced here because they reach the client verbatim.

Every failure is raised as AdminError(grpc_code, message[, details]).
"""
import re

# gRPC codes used here
INVALID_ARGUMENT = 3
NOT_FOUND = 5
ALREADY_EXISTS = 6
UNKNOWN = 2


class AdminError(Exception):
    def __init__(self, code, message, details=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or []


def invalid(msg):
    return AdminError(INVALID_ARGUMENT, msg)


# ---------------------------------------------------------------------------
# k8s.io/apimachinery/pkg/util/validation

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL = re.compile("^" + _DNS1123_LABEL_FMT + "$")
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN = re.compile("^" + _DNS1123_SUBDOMAIN_FMT + "$")
_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME = re.compile("^" + _QUALIFIED_NAME_FMT + "$")
_LABEL_VALUE_FMT = "(" + _QUALIFIED_NAME_FMT + ")?"
_LABEL_VALUE = re.compile("^" + _LABEL_VALUE_FMT + "$")

_QUALIFIED_NAME_ERR = ("must consist of alphanumeric characters, '-', '_' or '.', and must "
                       "start and end with an alphanumeric character")


def _regex_error(msg, fmt, *examples):
    if not examples:
        return msg + " (regex used for validation is '" + fmt + "')"
    msg += " (e.g. "
    for i, ex in enumerate(examples):
        if i > 0:
            msg += " or "
        msg += "'" + ex + "', "
    return msg + "regex used for validation is '" + fmt + "')"


def _max_len(n):
    return "must be no more than %d characters" % n


def _go_len(s):
    # Go's len() counts UTF-8 bytes, and flyteadmin's limits use len().
    return len(s.encode("utf-8", errors="surrogatepass"))


def _full(regex, value):
    # Go's $ does not match before a trailing newline; Python's does.
    return regex.match(value) is not None and not value.endswith("\n")


def is_dns1123_label(value):
    errs = []
    if _go_len(value) > 63:
        errs.append(_max_len(63))
    if not _full(_DNS1123_LABEL, value):
        errs.append(_regex_error(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
            "or '-', and must start and end with an alphanumeric character",
            _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value):
    errs = []
    if _go_len(value) > 253:
        errs.append(_max_len(253))
    if not _full(_DNS1123_SUBDOMAIN, value):
        errs.append(_regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
            "characters, '-' or '.', and must start and end with an alphanumeric character",
            _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_qualified_name(value):
    errs = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in is_dns1123_subdomain(prefix))
    else:
        return ["a qualified name " + _regex_error(_QUALIFIED_NAME_ERR, _QUALIFIED_NAME_FMT,
                                                   "MyName", "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part must be non-empty")
    elif _go_len(name) > 63:
        errs.append("name part " + _max_len(63))
    if not _full(_QUALIFIED_NAME, name):
        errs.append("name part " + _regex_error(_QUALIFIED_NAME_ERR, _QUALIFIED_NAME_FMT,
                                                "MyName", "my.name", "123-abc"))
    return errs


def is_valid_label_value(value):
    errs = []
    if _go_len(value) > 63:
        errs.append(_max_len(63))
    if not _full(_LABEL_VALUE, value):
        errs.append(_regex_error(
            "a valid label must be an empty string or consist of alphanumeric characters, "
            "'-', '_' or '.', and must start and end with an alphanumeric character",
            _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def go_list(errs):
    """fmt's %v of a []string."""
    return "[" + " ".join(errs) + "]"


# ---------------------------------------------------------------------------
# project_validator.go

MAX_NAME = 64
MAX_DESCRIPTION = 300
MAX_LABELS = 16


def validate_register(project):
    """ValidateProjectRegisterRequest: project present, name present, then ValidateProject."""
    if project is None:
        raise invalid("missing project")
    if not project.get("name"):
        raise invalid("missing project_name")
    validate_project(project)


def validate_project(project):
    """ValidateProject, in flyteadmin's order (the first failing rule is reported)."""
    pid = project.get("id", "")
    if not pid:
        raise invalid("missing project_id")
    labels = (project.get("labels") or {}).get("values") or {}
    if labels:
        if len(labels) > MAX_LABELS:
            raise invalid("labels map cannot exceed %d entries" % MAX_LABELS)
        for key, value in labels.items():
            errs = is_qualified_name(key)
            if errs:
                raise invalid("invalid label key [%s]: %s" % (key, go_list(errs)))
            errs = is_valid_label_value(value)
            if errs:
                raise invalid("invalid label value [%s]: %s" % (value, go_list(errs)))
    errs = is_dns1123_label(pid)
    if errs:
        raise invalid("invalid project id [%s]: %s" % (pid, go_list(errs)))
    if _go_len(project.get("name", "")) > MAX_NAME:
        raise invalid("project_name cannot exceed %d characters" % MAX_NAME)
    if _go_len(project.get("description", "")) > MAX_DESCRIPTION:
        raise invalid("project_description cannot exceed %d characters" % MAX_DESCRIPTION)
    # `project.Domains != nil` in Go: an empty JSON list decodes to a nil slice, so
    # only a non-empty list is rejected.
    if project.get("domains"):
        raise invalid("Domains are currently only set system wide. Please retry without "
                      "domains included in your request.")


def check_storable(*values):
    """Postgres TEXT cannot hold NUL: flyteadmin surfaces the database error as Unknown."""
    for v in values:
        if isinstance(v, str) and "\x00" in v:
            raise AdminError(UNKNOWN, 'failed database operation with invalid byte sequence '
                                      'for encoding "UTF8": 0x00')


# ---------------------------------------------------------------------------
# attributes_validator.go: which resource type a MatchingAttributes carries.
# QUALITY_OF_SERVICE is deliberately absent: flyteadmin does not accept it here.

MATCHING_ORDER = [
    ("task_resource_attributes", 0), ("cluster_resource_attributes", 1),
    ("execution_queue_attributes", 2), ("execution_cluster_label", 3),
    ("plugin_overrides", 5), ("workflow_execution_config", 6), ("cluster_assignment", 7),
]


def matching_resource_type(matching, identifier):
    if matching is None:
        raise invalid("missing matching_attributes")
    for field, rtype in MATCHING_ORDER:
        if field in matching:
            return field, rtype
    raise invalid("Unrecognized matching attributes type for request %s" % identifier)


# ---------------------------------------------------------------------------
# Filters (util/filters.go, common/filters.go) over the projects table.

PROJECT_COLUMNS = {"id", "created_at", "updated_at", "deleted_at", "identifier", "name",
                   "description", "labels", "state"}
INT_COLUMNS = {"id", "state"}
_FILTER_RE = re.compile(r"(.+)\((.+),\s?(.+)\)")
_ENTITY_PREFIXES = ["task", "workflow", "launch_plan", "execution", "node_execution",
                    "task_execution", "entities", "named_entity_metadata", "project",
                    "signal", "admin_tag", "execution_admin_tag"]
_FUNCTIONS = {"contains", "gt", "gte", "lt", "lte", "eq", "ne", "value_in"}


def parse_filters(text):
    """A `filters` query value -> [(function, column, [values])].

    Expressions are joined by '+'. Note the gateway form-decodes the query first, so a
    literal '+' must be sent as %2B (a bare '+' arrives as a space)."""
    out = []
    for expr in text.split("+"):
        m = _FILTER_RE.search(expr)
        if not m:
            raise invalid("invalid value for filters")
        func, field, value = m.group(1), m.group(2), m.group(3)
        entity = "project"
        for prefix in _ENTITY_PREFIXES:
            if field.startswith(prefix + "."):
                entity, field = prefix, field[len(prefix) + 1:]
                break
        if entity != "project":
            raise invalid("'%s' entity is not allowed in filters" % entity)
        if field not in PROJECT_COLUMNS:
            raise invalid("'%s.%s' is invalid filter" % (entity, field))
        if func not in _FUNCTIONS:
            raise invalid("unrecognized filter function: %s" % func)
        out.append((func, field, value.split(";")))
    return out


def _db_error(msg):
    return AdminError(UNKNOWN, "failed database operation with " + msg)


def _column_value(row, column):
    if column in ("labels", "deleted_at"):
        return None  # bytea / always NULL: no comparison matches
    return row[column]


def _coerce(column, value):
    if column in INT_COLUMNS:
        try:
            return int(value.strip())
        except ValueError:
            raise _db_error('invalid input syntax for type integer: "%s"' % value)
    return value


def _like(pattern_value, text):
    # LIKE '%v%': '%' and '_' inside the value are wildcards too.
    rx = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern_value)
    return re.search(rx, text, re.S) is not None


def row_matches(row, filters):
    """Evaluate parsed filters the way the SQL flyteadmin generates would."""
    for func, column, values in filters:
        current = _column_value(row, column)
        if func == "value_in":
            wanted = [_coerce(column, v) for v in values]
            if current not in wanted:
                return False
            continue
        if len(values) != 1:
            raise _db_error("syntax error at or near \",\"")
        if func == "contains":
            if column in INT_COLUMNS:
                raise _db_error("operator does not exist: integer ~~ unknown")
            if current is None or not _like(values[0], current):
                return False
            continue
        want = _coerce(column, values[0])
        if current is None:
            return False  # NULL compares to nothing
        ok = {"eq": current == want, "ne": current != want, "gt": current > want,
              "gte": current >= want, "lt": current < want, "lte": current <= want}[func]
        if not ok:
            return False
    return True


def parse_sort(key, direction):
    """common.NewSortParameter: key must be a column; direction 0 DESCENDING, 1 ASCENDING."""
    if key not in PROJECT_COLUMNS:
        raise invalid("invalid sort key '%s'" % key)
    if direction not in (0, 1):
        raise invalid("invalid sort order specified: key:%s direction:%s" % (key, direction))
    return key, direction == 0
