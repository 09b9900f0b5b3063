"""resource.Quantity parsing and canonical formatting, as the real API server
stores quantities ("0.5" -> "500m", "1.5Gi" -> "1536Mi", "2000" -> "2k").
"""
import re
from decimal import Decimal, ROUND_CEILING, InvalidOperation

QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
REGEX_MESSAGE = ("quantities must match the regular expression "
                 "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")

_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9,
            "T": 12, "P": 15, "E": 18}
_DEC_SUFFIX = {v: k for k, v in _DECIMAL.items()}
_BIN_SUFFIX = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]


class QuantityError(ValueError):
    pass


def parse(text):
    """Return (Decimal value, format) where format is binary|decimal|exponent."""
    if isinstance(text, bool):
        raise QuantityError(REGEX_MESSAGE)
    if isinstance(text, (int, float)):
        text = repr(text) if isinstance(text, float) else str(text)
    if not isinstance(text, str):
        raise QuantityError(REGEX_MESSAGE)
    m = QUANTITY_RE.match(text.strip())
    if not m:
        raise QuantityError(REGEX_MESSAGE)
    number, suffix = m.group(1), m.group(2)
    if number.count(".") > 1 or number in (".", "+.", "-.", "+", "-"):
        raise QuantityError(REGEX_MESSAGE)
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise QuantityError(REGEX_MESSAGE)
    if suffix in _BINARY:
        return value * (Decimal(2) ** _BINARY[suffix]), "binary"
    if suffix in _DECIMAL:
        return value * (Decimal(10) ** _DECIMAL[suffix]), "decimal"
    if suffix[:1] in ("e", "E"):
        try:
            exp = int(suffix[1:])
        except ValueError:
            raise QuantityError("unable to parse quantity's suffix")
        return value * (Decimal(10) ** exp), "exponent"
    raise QuantityError("unable to parse quantity's suffix")


def _decimal_form(value, exponent_style):
    # Round up to nano precision, then pick the largest exponent (multiple of
    # three, at least -9) that keeps the mantissa an integer.
    nanos = (value * Decimal(10) ** 9).to_integral_value(rounding=ROUND_CEILING)
    if nanos == 0:
        return "0"
    exp = -9
    mant = int(nanos)
    while mant % 1000 == 0 and exp < 18:
        mant //= 1000
        exp += 3
    if exponent_style:
        return str(mant) if exp == 0 else "%de%d" % (mant, exp)
    return "%d%s" % (mant, _DEC_SUFFIX[exp])


def canonical(text):
    value, fmt = parse(text)
    return format_value(value, fmt)


def format_value(value, fmt):
    """Canonical text of a value in a format (binary|decimal|exponent)."""
    if fmt == "binary":
        if -1024 < value < 1024 or value != value.to_integral_value():
            return _decimal_form(value, False)
        n = int(value)
        k = 0
        while k < 6 and n != 0 and n % 1024 == 0:
            n //= 1024
            k += 1
        return "%d%s" % (n, _BIN_SUFFIX[k])
    return _decimal_form(value, fmt == "exponent")


def value_of(text):
    return parse(text)[0]
