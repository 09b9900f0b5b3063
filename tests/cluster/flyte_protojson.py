"""protojson-style JSON codec for the flyteidl messages the emulated Flyte Admin serves.

flyteadmin's REST API is grpc-gateway v2 (v2.19) in front of the gRPC AdminService,
so every body is turned into a protobuf message by protojson and every reply is
printed by protojson. What a client sees therefore follows protojson's rules, which
this module reproduces for the messages used here (schemas below, taken from
flyteidl/protos/flyteidl/{admin,core}/*.proto):

  * input accepts both the proto field name (`matching_attributes`) and the JSON
    name (`matchingAttributes`); `null` means "not set" for any field; enums are
    accepted as names or numbers; a oneof may be set once; a field may appear once;
  * unknown fields are an error only with the strict decoder (flyteadmin registers
    a protojson marshaler without DiscardUnknown for Content-Type application/json;
    every other Content-Type falls back to grpc-gateway's default marshaler, which
    discards unknown fields);
  * output emits every field (EmitUnpopulated: "" / 0 / false / [] / {} / null for
    unset messages, enum zero as its name), oneof members only when set, in .proto
    declaration order, with proto names for application/json and JSON (lowerCamel)
    names otherwise.

Decoded messages are plain dicts keyed by proto field name holding only the fields
that are set (scalars equal to their default count as unset, as in proto3), so the
server logic can test presence with `in` and `.get()`.
"""
import json
import re


class ProtoJSONError(Exception):
    """A body the gateway could not turn into the request message (-> 400, code 3)."""


# Enums: name list indexed by number (all used enums are dense from 0).
ENUMS = {
    "ProjectState": ["ACTIVE", "ARCHIVED", "SYSTEM_GENERATED", "SYSTEM_ARCHIVED"],
    "MatchableResource": [
        "TASK_RESOURCE", "CLUSTER_RESOURCE", "EXECUTION_QUEUE", "EXECUTION_CLUSTER_LABEL",
        "QUALITY_OF_SERVICE_SPECIFICATION", "PLUGIN_OVERRIDE", "WORKFLOW_EXECUTION_CONFIG",
        "CLUSTER_ASSIGNMENT"],
    "SortDirection": ["DESCENDING", "ASCENDING"],
    "MissingPluginBehavior": ["FAIL", "USE_DEFAULT"],
    "MountType": ["ANY", "ENV_VAR", "FILE"],
    "TokenType": ["CLIENT_CREDENTIALS"],
    "QoSTier": ["UNDEFINED", "HIGH", "MEDIUM", "LOW"],
}

# Messages: (proto field name, type[, oneof]) in .proto declaration order.
# Types: string int32 uint32 bool enum:E msg:M map:string list:<type> BoolValue Duration opaque
MESSAGES = {
    "Labels": [("values", "map:string")],
    "Annotations": [("values", "map:string")],
    "Domain": [("id", "string"), ("name", "string")],
    "Project": [("id", "string"), ("name", "string"), ("domains", "list:msg:Domain"),
                ("description", "string"), ("labels", "msg:Labels"),
                ("state", "enum:ProjectState"), ("org", "string")],
    "ProjectRegisterRequest": [("project", "msg:Project")],
    "Empty": [],
    "Projects": [("projects", "list:msg:Project"), ("token", "string")],
    "GetDomainsResponse": [("domains", "list:msg:Domain")],
    "Version": [("Build", "string"), ("Version", "string"), ("BuildTime", "string")],
    "GetVersionResponse": [("control_plane_version", "msg:Version")],
    # matchable attributes (flyteidl/admin/matchable_resource.proto)
    "TaskResourceSpec": [("cpu", "string"), ("gpu", "string"), ("memory", "string"),
                         ("storage", "string"), ("ephemeral_storage", "string")],
    "TaskResourceAttributes": [("defaults", "msg:TaskResourceSpec"),
                               ("limits", "msg:TaskResourceSpec")],
    "ClusterResourceAttributes": [("attributes", "map:string")],
    "ExecutionQueueAttributes": [("tags", "list:string")],
    "ExecutionClusterLabel": [("value", "string")],
    "PluginOverride": [("task_type", "string"), ("plugin_id", "list:string"),
                       ("missing_plugin_behavior", "enum:MissingPluginBehavior")],
    "PluginOverrides": [("overrides", "list:msg:PluginOverride")],
    "RawOutputDataConfig": [("output_location_prefix", "string")],
    "KeyValuePair": [("key", "string"), ("value", "string")],
    "Envs": [("values", "list:msg:KeyValuePair")],
    "WorkflowExecutionConfig": [
        ("max_parallelism", "int32"), ("security_context", "msg:SecurityContext"),
        ("raw_output_data_config", "msg:RawOutputDataConfig"), ("labels", "msg:Labels"),
        ("annotations", "msg:Annotations"), ("interruptible", "BoolValue"),
        ("overwrite_cache", "bool"), ("envs", "msg:Envs"),
        # ExecutionEnvAssignment nests arbitrary Structs: kept as opaque JSON.
        ("execution_env_assignments", "list:opaque")],
    "ClusterAssignment": [("cluster_pool_name", "string")],
    "QualityOfServiceSpec": [("queueing_budget", "Duration")],
    "QualityOfService": [("tier", "enum:QoSTier", "designation"),
                         ("spec", "msg:QualityOfServiceSpec", "designation")],
    "MatchingAttributes": [
        ("task_resource_attributes", "msg:TaskResourceAttributes", "target"),
        ("cluster_resource_attributes", "msg:ClusterResourceAttributes", "target"),
        ("execution_queue_attributes", "msg:ExecutionQueueAttributes", "target"),
        ("execution_cluster_label", "msg:ExecutionClusterLabel", "target"),
        ("quality_of_service", "msg:QualityOfService", "target"),
        ("plugin_overrides", "msg:PluginOverrides", "target"),
        ("workflow_execution_config", "msg:WorkflowExecutionConfig", "target"),
        ("cluster_assignment", "msg:ClusterAssignment", "target")],
    # flyteidl/core/security.proto
    "Secret": [("group", "string"), ("group_version", "string"), ("key", "string"),
               ("mount_requirement", "enum:MountType")],
    "OAuth2Client": [("client_id", "string"), ("client_secret", "msg:Secret")],
    "Identity": [("iam_role", "string"), ("k8s_service_account", "string"),
                 ("oauth2_client", "msg:OAuth2Client"), ("execution_identity", "string")],
    "OAuth2TokenRequest": [("name", "string"), ("type", "enum:TokenType"),
                           ("client", "msg:OAuth2Client"), ("idp_discovery_endpoint", "string"),
                           ("token_endpoint", "string")],
    "SecurityContext": [("run_as", "msg:Identity"), ("secrets", "list:msg:Secret"),
                        ("tokens", "list:msg:OAuth2TokenRequest"), ("connection_ref", "string")],
    # project_attributes.proto / project_domain_attributes.proto
    "ProjectAttributes": [("project", "string"), ("matching_attributes", "msg:MatchingAttributes"),
                          ("org", "string")],
    "ProjectAttributesUpdateRequest": [("attributes", "msg:ProjectAttributes")],
    "ProjectAttributesGetResponse": [("attributes", "msg:ProjectAttributes")],
    "ProjectAttributesDeleteRequest": [("project", "string"),
                                       ("resource_type", "enum:MatchableResource"),
                                       ("org", "string")],
    "ProjectDomainAttributes": [("project", "string"), ("domain", "string"),
                                ("matching_attributes", "msg:MatchingAttributes"),
                                ("org", "string")],
    "ProjectDomainAttributesUpdateRequest": [("attributes", "msg:ProjectDomainAttributes")],
    "ProjectDomainAttributesGetResponse": [("attributes", "msg:ProjectDomainAttributes")],
    "ProjectDomainAttributesDeleteRequest": [("project", "string"), ("domain", "string"),
                                             ("resource_type", "enum:MatchableResource"),
                                             ("org", "string")],
}

# Full names, only needed for the text of oneof errors.
ONEOF_FULL_NAMES = {
    ("MatchingAttributes", "target"): "flyteidl.admin.MatchingAttributes.target",
    ("QualityOfService", "designation"): "flyteidl.core.QualityOfService.designation",
}

INT32 = (-2 ** 31, 2 ** 31 - 1)
UINT32 = (0, 2 ** 32 - 1)


def json_name(proto_name):
    """protoc's default json_name: drop '_' and upper-case the letter after it."""
    out, upper = [], False
    for ch in proto_name:
        if ch == "_":
            upper = True
        elif upper:
            out.append(ch.upper())
            upper = False
        else:
            out.append(ch)
    return "".join(out)


class Pairs(list):
    """A JSON object as its (key, value) pairs, so duplicates and order survive."""


def enum_number(enum, value):
    """Name or number -> number, or None when the name is unknown."""
    if isinstance(value, int):
        return value
    names = ENUMS[enum]
    return names.index(value) if value in names else None


def enum_name(enum, number):
    names = ENUMS[enum]
    return names[number] if 0 <= number < len(names) else number


# ---------------------------------------------------------------------------
# Go encoding/json stage: the gateway first reads one JSON value from the body.

_GO_JSON_CONTEXT = [
    ("Expecting value", "looking for beginning of value"),
    ("Expecting property name", "looking for beginning of object key string"),
    ("Expecting ':' delimiter", "after object key"),
    ("Expecting ',' delimiter", "after object key:value pair"),
    ("Invalid control character", "in string literal"),
    ("Invalid \\escape", "in string escape code"),
    ("Invalid \\uXXXX escape", "in \\u hexadecimal character escape"),
    ("Unterminated string", "in string literal"),
]


def _reject_constant(name):
    raise ValueError("constant " + name)


def _go_json_error(text, exc):
    """An encoding/json-like message for a Python JSON error."""
    pos = getattr(exc, "pos", None)
    if pos is None or pos >= len(text.rstrip()):
        return "unexpected EOF"
    ch = text[pos]
    ctx = "looking for beginning of value"
    for needle, go_ctx in _GO_JSON_CONTEXT:
        if str(getattr(exc, "msg", exc)).startswith(needle):
            ctx = go_ctx
            break
    return "invalid character %s %s" % (_go_quote_char(ch), ctx)


def _go_quote_char(ch):
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    if ch.isprintable():
        return "'%s'" % ch
    return "'\\x%02x'" % ord(ch) if ord(ch) < 256 else "'\\u%04x'" % ord(ch)


def parse_json_prefix(raw):
    """Read the first JSON value of a body the way json.Decoder.Decode does.

    Returns (value, text) or (None, text) for an empty body (io.EOF, which the
    gateway treats as an empty request). Anything after the first value is ignored,
    as it is by the gateway."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    start = len(text) - len(text.lstrip(" \t\r\n"))
    if start == len(text):
        return None, text
    decoder = json.JSONDecoder(object_pairs_hook=Pairs, parse_constant=_reject_constant)
    try:
        value, _end = decoder.raw_decode(text, start)
    except json.JSONDecodeError as e:
        raise ProtoJSONError(_go_json_error(text, e))
    except (ValueError, RecursionError) as e:
        # NaN / Infinity (rejected by Go) or absurd nesting depth.
        pos = getattr(e, "pos", start)
        raise ProtoJSONError("invalid character %s looking for beginning of value"
                             % _go_quote_char(text[pos] if pos < len(text) else "N"))
    return value, text


# ---------------------------------------------------------------------------
# protojson stage

class _Ctx:
    """Decode options plus a cursor into the source text for error positions.

    Keys are visited depth-first in document order, which is textual order, so a
    forward search for each key gives protojson's (line:col) closely enough."""

    def __init__(self, text, strict):
        self.text = text
        self.strict = strict
        self.cursor = 0

    def seek_key(self, key):
        needle = json.dumps(key, ensure_ascii=False)
        i = self.text.find(needle, self.cursor)
        if i >= 0:
            self.key_pos = i
            j = self.text.find(":", i + len(needle))
            self.cursor = j + 1 if j >= 0 else i + len(needle)
            while self.cursor < len(self.text) and self.text[self.cursor] in " \t\r\n":
                self.cursor += 1
        else:
            self.key_pos = self.cursor
        return self.key_pos

    def error(self, pos, msg):
        line = self.text.count("\n", 0, pos) + 1
        col = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return ProtoJSONError("proto: (line %d:%d): %s" % (line, col, msg))


def _raw_token(value):
    if isinstance(value, Pairs):
        return "{"
    if isinstance(value, list):
        return "["
    return json.dumps(value, ensure_ascii=False)


_SURROGATES = re.compile("[\ud800-\udfff]")
_DURATION = re.compile(r"^-?\d+(\.\d{1,9})?s$")


def _fix_string(s):
    # Go replaces unpaired UTF-16 surrogates with U+FFFD when unquoting.
    return _SURROGATES.sub("\ufffd", s)


def _number(value, bounds):
    """protojson integer rules: a JSON number with an integral value, or the same in a string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value) if any(c in value for c in ".eE") else int(value, 10)
        except ValueError:
            return None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")) or value != int(value):
            return None
        value = int(value)
    if not isinstance(value, int) or not bounds[0] <= value <= bounds[1]:
        return None
    return value


def _decode_value(ctx, ftype, fname, value):
    """Decode one non-null JSON value of the given type; raises ProtoJSONError."""
    pos = ctx.cursor
    bad = lambda kind: ctx.error(pos, "invalid value for %s field %s: %s"
                                 % (kind, fname, _raw_token(value)))
    if ftype == "string":
        if not isinstance(value, str):
            raise bad("string")
        return _fix_string(value)
    if ftype in ("int32", "uint32"):
        n = _number(value, INT32 if ftype == "int32" else UINT32)
        if n is None:
            raise bad(ftype)
        return n
    if ftype == "bool" or ftype == "BoolValue":
        if not isinstance(value, bool):
            raise bad("bool")
        return value
    if ftype == "Duration":
        if not isinstance(value, str) or not _DURATION.match(value):
            raise ctx.error(pos, "invalid google.protobuf.Duration value %s" % _raw_token(value))
        return value
    if ftype == "opaque":
        return _plain(value)
    if ftype.startswith("enum:"):
        enum = ftype[5:]
        if isinstance(value, str):
            if value in ENUMS[enum]:
                return ENUMS[enum].index(value)
            if not ctx.strict:
                return _DISCARD  # DiscardUnknown also drops unknown enum names
            raise bad("enum")
        n = _number(value, INT32) if not isinstance(value, str) else None
        if n is None:
            raise bad("enum")
        return n  # proto3 enums are open: unknown numbers are kept
    if ftype.startswith("msg:"):
        if not isinstance(value, Pairs):
            raise ctx.error(pos, "unexpected token %s" % _raw_token(value))
        return decode_message(ctx, ftype[4:], value)
    if ftype.startswith("list:"):
        if not isinstance(value, list) or isinstance(value, Pairs):
            raise ctx.error(pos, "unexpected token %s" % _raw_token(value))
        elem, out = ftype[5:], []
        for item in value:
            if item is None and elem != "opaque":
                # null is "unset" for a field, but a list element must be a value.
                if elem.startswith("msg:"):
                    raise ctx.error(pos, "unexpected token null")
                raise ctx.error(pos, "invalid value for %s field %s: null"
                                % (elem.split(":")[0], fname))
            v = _decode_value(ctx, elem, fname, item)
            if v is not _DISCARD:
                out.append(v)
        return out
    if ftype.startswith("map:"):
        if not isinstance(value, Pairs):
            raise ctx.error(pos, "unexpected token %s" % _raw_token(value))
        out = {}
        for k, v in value:
            ctx.seek_key(k)
            k = _fix_string(k)
            if k in out:
                raise ctx.error(ctx.key_pos, "duplicate map key %s" % json.dumps(k))
            if v is None:
                raise ctx.error(ctx.cursor, "invalid value for string field value: null")
            out[k] = _decode_value(ctx, ftype[4:], "value", v)
        return out
    raise AssertionError("unknown field type " + ftype)


_DISCARD = object()


def _plain(value):
    if isinstance(value, Pairs):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _is_default(ftype, value):
    if ftype in ("string",):
        return value == ""
    if ftype in ("int32", "uint32") or ftype.startswith("enum:"):
        return value == 0
    if ftype == "bool":
        return value is False
    if ftype.startswith("list:") or ftype.startswith("map:"):
        return len(value) == 0
    return False  # messages and wrappers have presence


def decode_message(ctx, msg, pairs):
    fields = MESSAGES[msg]
    by_key = {}
    for f in fields:
        by_key[f[0]] = f
        by_key[json_name(f[0])] = f
    out, seen, oneofs = {}, set(), set()
    for key, value in pairs:
        pos = ctx.seek_key(key)
        f = by_key.get(key)
        if f is None:
            if ctx.strict:
                raise ctx.error(pos, "unknown field %s" % json.dumps(key, ensure_ascii=False))
            continue
        name, ftype = f[0], f[1]
        if name in seen:
            raise ctx.error(pos, "duplicate field %s" % json.dumps(key, ensure_ascii=False))
        seen.add(name)
        if value is None:
            continue  # JSON null: leave the field unset
        if len(f) > 2:
            if f[2] in oneofs:
                raise ctx.error(pos, "error parsing %s, oneof %s is already set"
                                % (json.dumps(key), ONEOF_FULL_NAMES[(msg, f[2])]))
            oneofs.add(f[2])
        v = _decode_value(ctx, ftype, name, value)
        if v is _DISCARD:
            continue
        if len(f) > 2 or not _is_default(ftype, v):
            out[name] = v
    return out


def decode_body(msg, raw, strict):
    """Body bytes -> decoded request message (dict). Raises ProtoJSONError."""
    value, text = parse_json_prefix(raw)
    if value is None:
        return {}
    ctx = _Ctx(text, strict)
    if not isinstance(value, Pairs):
        raise ctx.error(len(text) - len(text.lstrip()), "unexpected token %s" % _raw_token(value))
    return decode_message(ctx, msg, value)


# ---------------------------------------------------------------------------
# Output

def _default_out(ftype, proto_names):
    if ftype == "string":
        return ""
    if ftype in ("int32", "uint32"):
        return 0
    if ftype == "bool":
        return False
    if ftype.startswith("enum:"):
        return ENUMS[ftype[5:]][0]
    if ftype.startswith("list:"):
        return []
    if ftype.startswith("map:"):
        return {}
    return None  # messages, wrappers, Duration: null


def _encode_value(ftype, value, proto_names):
    if ftype.startswith("enum:"):
        return enum_name(ftype[5:], value)
    if ftype.startswith("msg:"):
        return encode_message(ftype[4:], value, proto_names)
    if ftype.startswith("list:"):
        return [_encode_value(ftype[5:], v, proto_names) for v in value]
    if ftype.startswith("map:"):
        return {k: _encode_value(ftype[4:], v, proto_names) for k, v in value.items()}
    return value


def encode_message(msg, data, proto_names=True):
    """Decoded/stored dict -> the JSON object protojson would print (EmitUnpopulated)."""
    out = {}
    for f in MESSAGES[msg]:
        name, ftype = f[0], f[1]
        key = name if proto_names else json_name(name)
        if name in data and data[name] is not None:
            out[key] = _encode_value(ftype, data[name], proto_names)
        elif len(f) > 2:
            continue  # unset oneof members are never printed
        else:
            out[key] = _default_out(ftype, proto_names)
    return out
