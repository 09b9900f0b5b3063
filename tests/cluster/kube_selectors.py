"""Label selectors (string form `a=b,c!=d,e in (x,y),f notin (z),g,!h`, and
the structured metav1.LabelSelector) and field selectors, as the real server
parses and applies them.
"""
import re

from kube_errors import bad_request


class SelectorError(Exception):
    pass


_KEY_CHARS = re.compile(r"[A-Za-z0-9._/\-]")


def _tokens(text):
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "(),":
            out.append(c)
            i += 1
        elif text.startswith("==", i) or text.startswith("!=", i):
            out.append(text[i:i + 2])
            i += 2
        elif c in "=<>":
            out.append(c)
            i += 1
        elif c == "!":
            out.append("!")
            i += 1
        else:
            j = i
            while j < len(text) and not text[j].isspace() and text[j] not in "(),=!<>":
                j += 1
            out.append(text[i:j])
            i = j
    return out


def parse_label_selector(text):
    """Return a list of (key, op, values) requirements; raises SelectorError."""
    reqs = []
    toks = _tokens(text or "")
    i = 0

    def peek():
        return toks[i] if i < len(toks) else None

    while i < len(toks):
        tok = toks[i]
        if tok == "!":
            i += 1
            key = peek()
            if key is None or key in "(),=!<>":
                raise SelectorError("unable to parse requirement: found '%s', expected: "
                                    "identifier" % (key or ""))
            i += 1
            reqs.append((key, "!", []))
        else:
            key = tok
            if key in ("(", ")", ",", "=", "==", "!=", "<", ">"):
                raise SelectorError("unable to parse requirement: found '%s', expected: "
                                    "!, identifier, or 'end of string'" % key)
            i += 1
            op = peek()
            if op is None or op == ",":
                reqs.append((key, "exists", []))
            elif op in ("=", "==", "!=", ">", "<"):
                i += 1
                val = peek()
                if val is None or val == ",":
                    val = ""
                else:
                    i += 1
                if op in (">", "<"):
                    if not re.match(r"^-?\d+$", val):
                        raise SelectorError("unable to parse requirement: for 'Gt', 'Lt'"
                                            " operators, the value must be an integer")
                reqs.append((key, {"==": "=", ">": "gt", "<": "lt"}.get(op, op), [val]))
            elif op in ("in", "notin"):
                i += 1
                if peek() != "(":
                    raise SelectorError("unable to parse requirement: found '%s', "
                                        "expected: '('" % (peek() or ""))
                i += 1
                inner = []
                while peek() != ")":
                    if peek() is None:
                        raise SelectorError("unable to parse requirement: found '', "
                                            "expected: ')'")
                    inner.append(peek())
                    i += 1
                i += 1
                vals, cur = [], ""
                for t in inner:
                    if t == ",":
                        vals.append(cur)
                        cur = ""
                    else:
                        cur += t
                vals.append(cur)
                reqs.append((key, op, sorted(set(vals))))
            else:
                raise SelectorError("unable to parse requirement: found '%s', expected: "
                                    "in, notin, =, ==, !=, gt, lt" % op)
        if i < len(toks):
            if toks[i] != ",":
                raise SelectorError("found '%s', expected: ',' or 'end of string'"
                                    % toks[i])
            i += 1
    from kube_validation import is_qualified_name, is_label_value
    for key, op, vals in reqs:
        msgs = is_qualified_name(key)
        if msgs:
            raise SelectorError("unable to parse requirement: values[0][%s]: Invalid "
                                "value: \"%s\": %s" % (key, key, msgs[0]))
        if op not in ("gt", "lt"):
            for v in vals:
                m = is_label_value(v)
                if m:
                    raise SelectorError("unable to parse requirement: values[0][%s]: "
                                        "Invalid value: \"%s\": %s" % (key, v, m[0]))
    return reqs


def matches_requirements(reqs, labels):
    labels = labels or {}
    for key, op, vals in reqs:
        has = key in labels
        v = labels.get(key)
        if op == "=" and not (has and v == vals[0]):
            return False
        if op == "!=" and has and v == vals[0]:
            return False
        if op == "in" and not (has and v in vals):
            return False
        if op == "notin" and has and v in vals:
            return False
        if op == "exists" and not has:
            return False
        if op == "!" and has:
            return False
        if op in ("gt", "lt"):
            try:
                n = int(v)
            except (TypeError, ValueError):
                return False
            if op == "gt" and not n > int(vals[0]):
                return False
            if op == "lt" and not n < int(vals[0]):
                return False
    return True


def label_selector(text):
    """Parse a ?labelSelector= value; raise a 400 ApiError on bad input."""
    try:
        return parse_label_selector(text)
    except SelectorError as e:
        raise bad_request(str(e))


def matches_label_selector_object(selector, labels):
    """metav1.LabelSelector semantics: None/{} matches everything."""
    if selector is None:
        return True
    labels = labels or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, vals = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in vals:
            return False
        if op == "In" and key not in labels:
            return False
        if op == "NotIn" and key in labels and labels[key] in vals:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


# ---- field selectors ---------------------------------------------------------

FIELD_LABELS = {
    "Namespace": ["status.phase"],
    "Secret": ["type"],
    "Pod": ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
            "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
            "status.podIP", "status.nominatedNodeName"],
    "Event": ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
              "involvedObject.uid", "involvedObject.apiVersion",
              "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
              "reportingComponent", "source", "type"],
}


def parse_field_selector(text, kind):
    reqs = []
    if not text:
        return reqs
    allowed = {"metadata.name", "metadata.namespace"} | set(FIELD_LABELS.get(kind, []))
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        m = re.match(r"^([^=!]+)(==|=|!=)(.*)$", part)
        if not m:
            raise bad_request("invalid selector: '%s'; can't understand '%s'"
                              % (text, part))
        field, op, value = m.group(1).strip(), m.group(2), m.group(3).strip()
        if field not in allowed:
            raise bad_request('field label not supported: %s' % field)
        reqs.append((field, "!=" if op == "!=" else "=", value))
    return reqs


def _field_value(obj, field):
    if field == "source":
        return ((obj.get("source") or {}).get("component")) or ""
    cur = obj
    for part in field.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def matches_fields(reqs, obj):
    for field, op, value in reqs:
        v = _field_value(obj, field)
        if op == "=" and v != value:
            return False
        if op == "!=" and v == value:
            return False
    return True
