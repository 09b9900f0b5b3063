"""A small CEL (Common Expression Language) evaluator for webhook
matchConditions: the subset such conditions use, with CEL's semantics where
they matter (an error in one side of `||`/`&&` is absorbed when the other
side decides; a missing map key is an error, `has()` tests for it).

Supported: null, true, false, integers, double- and single-quoted strings;
identifiers (`object`, `oldObject`, `request`, ...); field selection `a.b`,
indexing `a[k]`; `has(a.b)`, `size(x)`; the methods `startsWith`,
`endsWith`, `contains`, `matches` (Python `re.search`, close to RE2 for
simple patterns); `!`, unary `-`, `* / %`, `+ -`, `< <= > >=`, `== !=`, `in`,
`&&`, `||`, `? :`. Anything else is a CelError at compile time, as the real
API server refuses a configuration whose expression does not compile.
"""
import re


class CelError(Exception):
    """Compilation or evaluation error."""


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>\d+)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!?:.,()\[\]])
""", re.VERBOSE)


def _tokens(src):
    out, pos = [], 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m:
            raise CelError("Syntax error: token recognition error at: '%s'" % src[pos])
        pos = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        text = m.group(kind)
        if kind == "str":
            text = bytes(text[1:-1], "utf-8").decode("unicode_escape")
        out.append((kind, text))
    out.append(("end", ""))
    return out


class _Parser:
    """Recursive descent into a tree of tuples."""

    def __init__(self, src):
        self.t = _tokens(src)
        self.i = 0

    def peek(self, text=None):
        kind, t = self.t[self.i]
        if text is None:
            return kind, t
        return kind == "op" and t == text or kind == "id" and t == text

    def take(self, text=None):
        tok = self.t[self.i]
        if text is not None and not self.peek(text):
            raise CelError("Syntax error: expected '%s', found '%s'" % (text, tok[1]))
        self.i += 1
        return tok

    def parse(self):
        e = self.ternary()
        if self.peek()[0] != "end":
            raise CelError("Syntax error: unexpected '%s'" % self.peek()[1])
        return e

    def ternary(self):
        c = self.or_()
        if self.peek("?"):
            self.take("?")
            a = self.ternary()
            self.take(":")
            b = self.ternary()
            return ("?", c, a, b)
        return c

    def or_(self):
        e = self.and_()
        while self.peek("||"):
            self.take()
            e = ("||", e, self.and_())
        return e

    def and_(self):
        e = self.rel()
        while self.peek("&&"):
            self.take()
            e = ("&&", e, self.rel())
        return e

    def rel(self):
        e = self.add()
        while any(self.peek(x) for x in ("==", "!=", "<", "<=", ">", ">=", "in")):
            op = self.take()[1]
            e = (op, e, self.add())
        return e

    def add(self):
        e = self.mul()
        while self.peek("+") or self.peek("-"):
            op = self.take()[1]
            e = (op, e, self.mul())
        return e

    def mul(self):
        e = self.unary()
        while self.peek("*") or self.peek("/") or self.peek("%"):
            op = self.take()[1]
            e = (op, e, self.unary())
        return e

    def unary(self):
        if self.peek("!"):
            self.take()
            return ("!", self.unary())
        if self.peek("-"):
            self.take()
            return ("neg", self.unary())
        return self.member()

    def member(self):
        e = self.primary()
        while True:
            if self.peek("."):
                self.take()
                kind, name = self.take()
                if kind != "id":
                    raise CelError("Syntax error: expected a field name after '.'")
                if self.peek("("):
                    e = ("call", name, e, self.args())
                else:
                    e = ("sel", e, name)
            elif self.peek("["):
                self.take()
                k = self.ternary()
                self.take("]")
                e = ("idx", e, k)
            else:
                return e

    def args(self):
        self.take("(")
        out = []
        if not self.peek(")"):
            out.append(self.ternary())
            while self.peek(","):
                self.take()
                out.append(self.ternary())
        self.take(")")
        return out

    def primary(self):
        kind, t = self.take()
        if kind == "num":
            return ("lit", int(t))
        if kind == "str":
            return ("lit", t)
        if kind == "id":
            if t in ("true", "false"):
                return ("lit", t == "true")
            if t == "null":
                return ("lit", None)
            if self.peek("("):
                args = self.args()
                if t == "has":
                    if len(args) != 1 or args[0][0] != "sel":
                        raise CelError("invalid argument to has() macro")
                    return ("has", args[0])
                if t == "size" and len(args) == 1:
                    return ("call", "size", args[0], [])
                raise CelError("undeclared reference to '%s'" % t)
            return ("var", t)
        if kind == "op" and t == "(":
            e = self.ternary()
            self.take(")")
            return e
        raise CelError("Syntax error: unexpected '%s'" % t)


_METHODS = {"startsWith", "endsWith", "contains", "matches", "size"}


def _check(e):
    if e[0] == "call" and e[1] not in _METHODS:
        raise CelError("found no matching overload for '%s'" % e[1])
    for x in e[1:]:
        if isinstance(x, tuple):
            _check(x)
        elif isinstance(x, list):
            for y in x:
                _check(y)


def compile_expr(src):
    """Parse src; raise CelError when it is not in the supported subset."""
    tree = _Parser(src).parse()
    _check(tree)
    return tree


def _type(v):
    if v is None:
        return "null_type"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "map"
    if isinstance(v, list):
        return "list"
    return type(v).__name__


def _eval(e, env):
    op = e[0]
    if op == "lit":
        return e[1]
    if op == "var":
        if e[1] not in env:
            raise CelError("undeclared reference to '%s'" % e[1])
        return env[e[1]]
    if op == "sel":
        base = _eval(e[1], env)
        if not isinstance(base, dict):
            raise CelError("no such key: %s (on %s)" % (e[2], _type(base)))
        if e[2] not in base:
            raise CelError("no such key: %s" % e[2])
        return base[e[2]]
    if op == "idx":
        base, k = _eval(e[1], env), _eval(e[2], env)
        try:
            return base[k]
        except (KeyError, IndexError, TypeError):
            raise CelError("no such key: %s" % k)
    if op == "has":
        base = _eval(e[1][1], env)
        if not isinstance(base, dict):
            raise CelError("invalid type for field selection: %s" % _type(base))
        return e[1][2] in base
    if op in ("||", "&&"):
        decide = op == "||"
        err = None
        for side in (e[1], e[2]):
            try:
                v = _eval(side, env)
            except CelError as x:
                err = err or x
                continue
            if not isinstance(v, bool):
                err = err or CelError("no such overload: %s %s" % (_type(v), op))
                continue
            if v is decide:
                return decide
        if err:
            raise err
        return not decide
    if op == "?":
        c = _eval(e[1], env)
        if not isinstance(c, bool):
            raise CelError("no such overload: ternary on %s" % _type(c))
        return _eval(e[2] if c else e[3], env)
    if op == "!":
        v = _eval(e[1], env)
        if not isinstance(v, bool):
            raise CelError("no such overload: !%s" % _type(v))
        return not v
    if op == "neg":
        v = _eval(e[1], env)
        if not isinstance(v, int) or isinstance(v, bool):
            raise CelError("no such overload: -%s" % _type(v))
        return -v
    if op == "call":
        name, target = e[1], _eval(e[2], env)
        args = [_eval(a, env) for a in e[3]]
        if name == "size":
            if isinstance(target, (str, list, dict)):
                return len(target)
            raise CelError("no such overload: size(%s)" % _type(target))
        if not isinstance(target, str) or len(args) != 1 or not isinstance(args[0], str):
            raise CelError("no such overload: %s.%s" % (_type(target), name))
        if name == "startsWith":
            return target.startswith(args[0])
        if name == "endsWith":
            return target.endswith(args[0])
        if name == "contains":
            return args[0] in target
        try:
            return re.search(args[0], target) is not None
        except re.error as x:
            raise CelError("invalid regular expression: %s" % x)
    a, b = _eval(e[1], env), _eval(e[2], env)
    if op == "in":
        if isinstance(b, dict):
            return a in b
        if isinstance(b, list):
            return any(_equal(a, x) for x in b)
        raise CelError("no such overload: in %s" % _type(b))
    if op == "==":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    if _type(a) != _type(b) or _type(a) not in ("int", "string") or \
            (_type(a) == "string" and op not in ("+", "<", "<=", ">", ">=")):
        raise CelError("no such overload: %s %s %s" % (_type(a), op, _type(b)))
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op in ("/", "%"):
        if b == 0:
            raise CelError("division by zero")
        return int(a / b) if op == "/" else a - b * int(a / b)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _equal(a, b):
    """Heterogeneous equality, as Kubernetes' CEL: other types are unequal."""
    return _type(a) == _type(b) and a == b


def evaluate(tree, env):
    """Evaluate a compiled expression; raise CelError on an error."""
    return _eval(tree, env)
