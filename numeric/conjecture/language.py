"""The conjecture language: a statement typed by a user, parsed with Python's ``ast`` (``eval``
mode) into a small whitelisted tree. User text is never evaluated: every node is checked against
the vocabulary below and rebuilt as one of this module's node classes, which only
``numeric.conjecture.interpreter`` evaluates.

Public:
    parse_statement(text) -> Statement     the checked tree of ``REL and REL ...``
    StatementError                         a refused statement (one line, then the statement
                                           and a caret line under the offending token)
    NAMES, FUNCTIONS, INDEXED, REDUCTIONS  the vocabulary
    Node classes: Num, Var, Sub, Call, Reduce, Bin, Neg, Transpose, Rel, Statement

Vocabulary (layers are 1-based, like the paper; docs/mathematics.md "Objects and conventions"):
    point quantities   lambda_max, lambda_min, trace (tr H), rank (rank H), loss, L (depth),
                       P (number of parameters), d[l] (widths, d[0] .. d[L]), lam (the weight
                       decay, an exact rational: 0 without one)
    matrices           W[l]; A[l] = W_L ... W_{l+1}; B[l] = W_{l-1} ... W_1; M (target);
                       X, Y (data, labels; X = I and Y = M without data); H (the exact Hessian,
                       ``H_0 + lam I`` with a weight decay, and loss is then ``L_lam``);
                       K (the reduced operator, minimizers only)
    matrix functions   norm2(m), fro(m), sigma(m, i), s[i] = sigma(M, i), rank(m), tr(m),
                       lmax(m), lmin(m), m @ n, m.T
    scalar arithmetic  + - * /, ** with a rational exponent (it may depend on L, P, d[l]),
                       sqrt, abs, max(a, b, ...), min(a, b, ...), rational literals (0.25 is
                       read exactly from its decimal text, never through a float)
    reductions         sum(e for l in layers), prod(...), max(...), min(...)
    relations          == <= < >= >, chained (a <= b <= c) and joined with ``and``

Every value has a static kind: ``int`` (structurally an integer: literals, L, P, d[l], ranks,
the layer index), ``rat`` (structurally rational), ``real`` (an algebraic number) or ``mat``
(an exact rational matrix). Exponents must be ``int``/``rat``, indices ``int`` built from
integers, ``l``, ``L``, ``P``, ``d[...]`` with ``+ - *``. Sub-expressions without point
quantities are folded at parse time, so ``2**10**10`` is refused before anything runs.

Guards: statements longer than ``MAX_LENGTH`` characters, trees deeper than ``MAX_DEPTH``,
exponents with ``|integer part| > MAX_EXPONENT`` or a denominator above ``MAX_EXPONENT``, and
constants over ``MAX_BITS`` bits are refused.

>>> s = parse_statement("lambda_max <= sum(norm2(A[l])**2 * norm2(B[l])**2 for l in layers)")
>>> [r.op for r in s.relations], s.relations[0].right.name
(['<='], 'sum')
>>> try:
...     parse_statement("lambda_max <= foo")
... except StatementError as exc:
...     print(exc)
unknown name 'foo' at column 15; allowed names: A, B, H, K, L, M, P, W, X, Y, d, lam, lambda_max, lambda_min, layers, loss, rank, s, trace
  lambda_max <= foo
                ^^^
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from fractions import Fraction

from derivations.errors import DmfError

__all__ = [
    "FUNCTIONS",
    "INDEXED",
    "MAX_BITS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "NAMES",
    "REDUCTIONS",
    "Bin",
    "Call",
    "Neg",
    "Node",
    "Num",
    "Reduce",
    "Rel",
    "Statement",
    "StatementError",
    "Sub",
    "Transpose",
    "Var",
    "parse_statement",
]

MAX_LENGTH = 2000
MAX_DEPTH = 50
MAX_EXPONENT = 64
MAX_BITS = 4096

NAMES: dict[str, str] = {
    "lambda_max": "real", "lambda_min": "real", "trace": "real", "rank": "int",
    "loss": "real", "L": "int", "P": "int", "lam": "rat",
    "M": "mat", "X": "mat", "Y": "mat", "H": "mat", "K": "mat",
}
"""Bare names and their kinds (``rank`` as a bare name is ``rank H``)."""

INDEXED: dict[str, str] = {"W": "mat", "A": "mat", "B": "mat", "d": "int", "s": "real"}
"""Subscripted names and their kinds."""

FUNCTIONS: dict[str, str] = {
    "norm2": "m -> real", "fro": "m -> real", "sigma": "m, i -> real", "rank": "m -> int",
    "tr": "m -> real", "lmax": "m -> real", "lmin": "m -> real", "sqrt": "x -> real",
    "abs": "x -> x", "max": "x, y, ... -> x", "min": "x, y, ... -> x",
}
"""Callable names and their signatures."""

REDUCTIONS = ("sum", "prod", "max", "min")
"""Names that take one generator ``(expr for l in layers)``."""

_POINT_NAMES = {"L", "P", "rank", "l"}  # int-kind names whose value depends on the point
_REL_OPS = {ast.Eq: "==", ast.LtE: "<=", ast.Lt: "<", ast.GtE: ">=", ast.Gt: ">"}
_BIN_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
            ast.MatMult: "@"}
_ORDER = {"int": 0, "rat": 1, "real": 2}


class StatementError(DmfError):
    """A refused statement: ``message`` names the offending token and its column (1-based);
    ``str()`` adds the statement and a caret line under the token."""

    def __init__(self, message: str, text: str = "", col: int | None = None,
                 width: int = 1) -> None:
        self.message, self.text, self.col, self.width = message, text, col, max(1, width)
        shown = text if len(text) <= 200 else text[:200] + "..."
        lines = [message]
        if col is not None and text and col <= 200:
            lines += [f"  {shown}", "  " + " " * col + "^" * min(self.width, 200 - col + 1)]
        super().__init__("\n".join(lines))


# ----------------------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Node:
    """A node of the checked tree: ``col``/``end`` locate it in the statement (0-based
    characters), ``kind`` is ``int``, ``rat``, ``real`` or ``mat``."""

    col: int
    end: int
    kind: str


@dataclass(frozen=True)
class Num(Node):
    value: Fraction


@dataclass(frozen=True)
class Var(Node):
    name: str


@dataclass(frozen=True)
class Sub(Node):
    name: str
    index: Node


@dataclass(frozen=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Reduce(Node):
    name: str
    body: Node


@dataclass(frozen=True)
class Bin(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg(Node):
    operand: Node


@dataclass(frozen=True)
class Transpose(Node):
    operand: Node


@dataclass(frozen=True)
class Rel(Node):
    op: str
    left: Node
    right: Node
    text: str


@dataclass(frozen=True)
class Statement:
    """``relations`` joined by ``and``; ``text`` is the statement as typed."""

    relations: tuple[Rel, ...]
    text: str


# ----------------------------------------------------------------------------- the parser


def parse_statement(text: str) -> Statement:
    """Parse and check ``text`` (see the module docstring); raises ``StatementError``."""
    if not isinstance(text, str):
        raise StatementError(f"a statement must be a string; got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise StatementError(
            f"the statement has {len(text)} characters; at most {MAX_LENGTH} are accepted")
    flat = "".join(" " if c in "\r\n\t\f\v" else c for c in text)
    if not flat.strip():
        raise StatementError("the statement is empty; expected a relation such as "
                             "'lambda_max <= trace'")
    try:
        tree = ast.parse(flat, mode="eval")
    except SyntaxError as exc:
        col = (exc.offset or 1) - 1
        raise StatementError(f"not a valid expression ({exc.msg}) at column {col + 1}", flat,
                             col) from None
    except (MemoryError, RecursionError, ValueError):
        raise StatementError(f"the statement is nested too deeply (at most {MAX_DEPTH} levels)"
                             ) from None
    _check_depth(tree, flat)
    return _Parser(flat).statement(tree.body)


def _check_depth(tree: ast.AST, text: str) -> None:
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            col = getattr(node, "col_offset", 0)
            raise StatementError(
                f"the statement is nested more than {MAX_DEPTH} levels deep at column "
                f"{_char_col(text, col) + 1}", text, _char_col(text, col))
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _char_col(text: str, byte_col: int) -> int:
    """``ast`` columns count UTF-8 bytes; the caret counts characters."""
    return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def _join(a: str, b: str) -> str:
    return a if _ORDER[a] >= _ORDER[b] else b


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.loop = False  # inside a reduction over layers

    # --- locations and errors --------------------------------------------------------
    def _span(self, node: ast.AST) -> tuple[int, int]:
        col = _char_col(self.text, getattr(node, "col_offset", 0))
        end_b = getattr(node, "end_col_offset", None)
        end = _char_col(self.text, end_b) if end_b is not None else col + 1
        return col, max(end, col + 1)

    def fail(self, node: ast.AST, message: str, *, span: tuple[int, int] | None = None,
             suffix: str = "") -> StatementError:
        col, end = span or self._span(node)
        return StatementError(f"{message} at column {col + 1}{suffix}", self.text, col, end - col)

    def token(self, node: ast.AST) -> str:
        col, end = self._span(node)
        tok = self.text[col:end]
        return tok if len(tok) <= 40 else tok[:37] + "..."

    # --- statements and relations ----------------------------------------------------
    def statement(self, node: ast.expr) -> Statement:
        rels: list[Rel] = []
        if isinstance(node, ast.BoolOp):
            if not isinstance(node.op, ast.And):
                raise self.fail(node, "only 'and' may join relations ('or' is not supported)")
            for v in node.values:
                rels.extend(self.relations(v))
        else:
            rels.extend(self.relations(node))
        return Statement(tuple(rels), self.text)

    def relations(self, node: ast.expr) -> list[Rel]:
        if isinstance(node, ast.BoolOp):
            raise self.fail(node, "'and'/'or' may not be nested inside a relation")
        if not isinstance(node, ast.Compare):
            self.expr(node)  # refuses a forbidden token first, naming it
            raise self.fail(node, f"a statement must be a relation (==, <=, <, >=, >) or "
                                  f"relations joined by 'and'; got '{self.token(node)}'")
        out = []
        left_ast = node.left
        left = self.expr(left_ast)
        for op, right_ast in zip(node.ops, node.comparators, strict=True):
            if type(op) not in _REL_OPS:
                raise self.fail(right_ast, f"unsupported comparison '{type(op).__name__}' "
                                           "(use ==, <=, <, >=, >) before the operand")
            right = self.expr(right_ast)
            for side, a in ((left, left_ast), (right, right_ast)):
                if side.kind == "mat":
                    raise self.fail(a, f"'{self.token(a)}' is a matrix; a relation compares "
                                       "numbers (take norm2, fro, tr, lmax, ... of it)")
            col, end = self._span(left_ast)[0], self._span(right_ast)[1]
            out.append(Rel(col, end, "bool", _REL_OPS[type(op)], left, right,
                           self.text[col:end]))
            left, left_ast = right, right_ast
        return out

    # --- expressions -----------------------------------------------------------------
    def expr(self, node: ast.expr) -> Node:
        col, end = self._span(node)
        if isinstance(node, ast.Constant):
            return self.constant(node, col, end)
        if isinstance(node, ast.Name):
            return self.name(node, col, end)
        if isinstance(node, ast.Subscript):
            return self.subscript(node, col, end)
        if isinstance(node, ast.Call):
            return self.call(node, col, end)
        if isinstance(node, ast.BinOp):
            return self.binop(node, col, end)
        if isinstance(node, ast.UnaryOp):
            operand = self.expr(node.operand)
            if isinstance(node.op, ast.UAdd):
                return operand
            if isinstance(node.op, ast.USub):
                if isinstance(operand, Num):
                    return Num(col, end, operand.kind, -operand.value)
                return Neg(col, end, operand.kind, operand)
            name = {ast.Not: "not", ast.Invert: "~"}.get(type(node.op), type(node.op).__name__)
            raise self.fail(node, f"operator '{name}' is not allowed (only +, -, *, /, **, @)")
        if isinstance(node, ast.Attribute):
            if node.attr != "T":
                raise self.fail(node, f"attribute '.{node.attr}' is not allowed (only m.T)",
                                span=(self._span(node.value)[1], end))
            inner = self.expr(node.value)
            if inner.kind != "mat":
                raise self.fail(node, f"'.T' needs a matrix; '{self.token(node.value)}' is a "
                                      "number")
            return Transpose(col, end, "mat", inner)
        if isinstance(node, ast.Compare | ast.BoolOp):
            raise self.fail(node, "a relation may not be used inside an expression")
        what = {ast.Lambda: "'lambda'", ast.GeneratorExp: "a generator outside sum/prod/max/"
                "min", ast.ListComp: "a list comprehension", ast.Tuple: "a tuple",
                ast.List: "a list", ast.Dict: "a dict", ast.Set: "a set",
                ast.IfExp: "'if ... else'", ast.NamedExpr: "':='", ast.Starred: "'*'",
                ast.JoinedStr: "an f-string", ast.Await: "'await'"}.get(type(node))
        raise self.fail(node, f"{what or type(node).__name__} is not allowed "
                              f"('{self.token(node)}')")

    def constant(self, node: ast.Constant, col: int, end: int) -> Num:
        v = node.value
        if isinstance(v, bool) or not isinstance(v, int | float):
            kind = "a string" if isinstance(v, str | bytes) else repr(v)
            raise self.fail(node, f"{kind} is not allowed here; only numbers ('1/3', '0.25')")
        if isinstance(v, int):
            value = Fraction(v)
        else:
            literal = self.text[col:end].replace("_", "")
            try:
                value = Fraction(literal)
            except (ValueError, ZeroDivisionError):
                raise self.fail(node, f"cannot read the number '{literal}' exactly") from None
        self.check_size(node, value)
        return Num(col, end, "int" if value.denominator == 1 else "rat", value)

    def check_size(self, node: ast.AST, value: Fraction) -> None:
        if max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_BITS:
            raise self.fail(node, f"the number '{self.token(node)}' has more than {MAX_BITS} "
                                  "bits")

    def name(self, node: ast.Name, col: int, end: int) -> Node:
        n = node.id
        if n == "l":
            if not self.loop:
                raise self.fail(node, "'l' is defined only inside sum/prod/max/min(... for l "
                                      "in layers)")
            return Var(col, end, "int", "l")
        if n in NAMES:
            return Var(col, end, NAMES[n], n)
        if n in INDEXED:
            raise self.fail(node, f"'{n}' needs an index, like {n}[1]")
        if n in FUNCTIONS or n in REDUCTIONS:
            raise self.fail(node, f"'{n}' is a function; call it, like {n}(...)")
        raise self.fail(node, f"unknown name '{n}'", suffix=f"; allowed names: {_allowed()}")

    def subscript(self, node: ast.Subscript, col: int, end: int) -> Node:
        if not isinstance(node.value, ast.Name) or node.value.id not in INDEXED:
            tok = self.token(node.value)
            raise self.fail(node.value, f"'{tok}' cannot be indexed (only "
                                        f"{', '.join(f'{k}[i]' for k in INDEXED)})")
        if isinstance(node.slice, ast.Slice | ast.Tuple):
            raise self.fail(node.slice, "an index must be one integer expression")
        index = self.index(node.slice)
        return Sub(col, end, INDEXED[node.value.id], node.value.id, index)

    def index(self, node: ast.expr) -> Node:
        """An integer index: integers, ``l``, ``L``, ``P``, ``d[...]`` with ``+ - *``."""
        for sub in ast.walk(node):
            if isinstance(sub, ast.BinOp) and type(sub.op) not in (ast.Add, ast.Sub, ast.Mult):
                raise self.fail(sub, f"an index may use only +, - and * ('{self.token(sub)}')")
            if isinstance(sub, ast.Constant) and not (isinstance(sub.value, int)
                                                      and not isinstance(sub.value, bool)):
                raise self.fail(sub, f"an index must be an integer; got '{self.token(sub)}'")
        out = self.expr(node)
        if out.kind != "int":
            raise self.fail(node, f"an index must be an integer expression (integers, l, L, P, "
                                  f"d[...]); got '{self.token(node)}'")
        return out

    def call(self, node: ast.Call, col: int, end: int) -> Node:
        if isinstance(node.func, ast.Attribute):
            self.expr(node.func)  # refuses any attribute but .T, naming it
        if not isinstance(node.func, ast.Name):
            raise self.fail(node.func, f"'{self.token(node.func)}' cannot be called (only "
                                       f"{', '.join(sorted(set(FUNCTIONS) | set(REDUCTIONS)))})")
        fname = node.func.id
        if node.keywords:
            raise self.fail(node.keywords[0].value, f"'{fname}' takes no keyword arguments")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(node, "'*' arguments are not allowed")
        if len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp):
            if fname not in REDUCTIONS:
                raise self.fail(node.func, f"'{fname}' cannot reduce over layers (only "
                                           f"{', '.join(REDUCTIONS)})")
            return self.reduction(node, fname, node.args[0], col, end)
        if fname not in FUNCTIONS:
            if fname in REDUCTIONS:
                raise self.fail(node, f"'{fname}' takes one generator: {fname}(... for l in "
                                      "layers)")
            raise self.fail(node.func, f"unknown function '{fname}'",
                            suffix="; allowed functions: "
                                   f"{', '.join(sorted(set(FUNCTIONS) | set(REDUCTIONS)))}")
        args = tuple(self.expr(a) for a in node.args)
        return self.typed_call(node, fname, args, col, end)

    def typed_call(self, node: ast.Call, fname: str, args: tuple[Node, ...], col: int,
                   end: int) -> Node:
        def need(n: int) -> None:
            if len(args) != n:
                raise self.fail(node, f"'{fname}' takes {n} argument{'s' * (n > 1)} "
                                      f"({FUNCTIONS[fname]}); got {len(args)}")

        def is_mat(i: int, want: bool) -> None:
            if (args[i].kind == "mat") != want:
                what = "a matrix" if want else "a number"
                raise self.fail(node.args[i], f"'{fname}' needs {what} here; got "
                                              f"'{self.token(node.args[i])}'")

        if fname in ("norm2", "fro", "rank", "tr", "lmax", "lmin"):
            need(1)
            is_mat(0, True)
            return Call(col, end, "int" if fname == "rank" else "real", fname, args)
        if fname == "sigma":
            need(2)
            is_mat(0, True)
            if args[1].kind != "int":
                raise self.fail(node.args[1], "the index of sigma must be an integer expression")
            return Call(col, end, "real", fname, args)
        if fname in ("sqrt", "abs"):
            need(1)
            is_mat(0, False)
            return Call(col, end, "real" if fname == "sqrt" else args[0].kind, fname, args)
        if len(args) < 2:
            raise self.fail(node, f"'{fname}' takes two or more numbers, or one generator "
                                  "(... for l in layers)")
        for i in range(len(args)):
            is_mat(i, False)
        kind = args[0].kind
        for a in args[1:]:
            kind = _join(kind, a.kind)
        return Call(col, end, kind, fname, args)

    def reduction(self, node: ast.Call, fname: str, gen: ast.GeneratorExp, col: int,
                  end: int) -> Node:
        if len(gen.generators) != 1:
            raise self.fail(gen, "a reduction takes exactly one 'for l in layers'")
        comp = gen.generators[0]
        if comp.is_async or comp.ifs:
            raise self.fail(gen, "a reduction takes a plain 'for l in layers' (no 'if')")
        if not isinstance(comp.target, ast.Name) or comp.target.id != "l":
            raise self.fail(comp.target, "the loop variable must be 'l' (for l in layers)")
        if not isinstance(comp.iter, ast.Name) or comp.iter.id != "layers":
            raise self.fail(comp.iter, "a reduction runs over 'layers' (for l in layers)")
        if self.loop:
            raise self.fail(node, "reductions over layers may not be nested")
        self.loop = True
        try:
            body = self.expr(gen.elt)
        finally:
            self.loop = False
        if body.kind == "mat" and fname != "sum":
            raise self.fail(gen.elt, f"'{fname}' over layers needs numbers; only sum adds "
                                     "matrices")
        return Reduce(col, end, body.kind, fname, body)

    def binop(self, node: ast.BinOp, col: int, end: int) -> Node:
        op = _BIN_OPS.get(type(node.op))
        if op is None:
            raise self.fail(node, f"operator '{type(node.op).__name__}' is not allowed (only "
                                  "+, -, *, /, **, @)")
        a, b = self.expr(node.left), self.expr(node.right)
        ma, mb = a.kind == "mat", b.kind == "mat"
        if op == "@":
            if not (ma and mb):
                raise self.fail(node, "'@' multiplies two matrices; use '*' for numbers")
            return Bin(col, end, "mat", op, a, b)
        if op == "**":
            return self.power(node, a, b, col, end)
        if op in "+-":
            if ma != mb:
                raise self.fail(node, f"cannot {'add' if op == '+' else 'subtract'} a matrix "
                                      "and a number")
            kind = "mat" if ma else _join(a.kind, b.kind)
        elif op == "*":
            if ma and mb:
                raise self.fail(node, "use '@' to multiply two matrices")
            kind = "mat" if ma or mb else _join(a.kind, b.kind)
        else:
            if mb:
                raise self.fail(node.right, "cannot divide by a matrix")
            kind = "mat" if ma else "real" if "real" in (a.kind, b.kind) else "rat"
        out = Bin(col, end, kind, op, a, b)
        return self.fold(node, out)

    def power(self, node: ast.BinOp, a: Node, b: Node, col: int, end: int) -> Node:
        if a.kind == "mat":
            raise self.fail(node.left, "a matrix cannot be raised to a power here")
        if b.kind not in ("int", "rat"):
            raise self.fail(node.right, f"an exponent must be a rational expression (numbers, "
                                        f"L, P, d[...]); got '{self.token(node.right)}'")
        if isinstance(b, Num):
            e = b.value
            if abs(e.numerator // e.denominator) > MAX_EXPONENT or e.denominator > MAX_EXPONENT:
                raise self.fail(node.right, f"the exponent {e} is out of range (at most "
                                            f"{MAX_EXPONENT} in absolute value, denominator at "
                                            f"most {MAX_EXPONENT})")
        if a.kind == "int" and b.kind == "int" and isinstance(b, Num) and b.value >= 0:
            kind = "int"
        elif a.kind in ("int", "rat") and b.kind == "int":
            kind = "rat"
        else:
            kind = "real"
        return self.fold(node, Bin(col, end, kind, "**", a, b))

    def fold(self, node: ast.BinOp, out: Bin) -> Node:
        """Evaluate an operation on two literals now (with the size guard)."""
        a, b = out.left, out.right
        if not (isinstance(a, Num) and isinstance(b, Num)):
            return out
        x, y = a.value, b.value
        if out.op == "+":
            v = x + y
        elif out.op == "-":
            v = x - y
        elif out.op == "*":
            v = x * y
        elif out.op == "/":
            if y == 0:
                raise self.fail(node, "division by zero")
            v = x / y
        else:
            if y.denominator != 1:
                return out  # a root of a literal: irrational in general, left to evaluation
            if x == 0 and y < 0:
                raise self.fail(node, "zero to a negative power")
            bits = max(x.numerator.bit_length(), x.denominator.bit_length())
            if bits * abs(y.numerator) > MAX_BITS:
                raise self.fail(node, f"'{self.token(node)}' would have more than {MAX_BITS} "
                                      "bits")
            v = x ** int(y)
        self.check_size(node, v)
        return Num(out.col, out.end, "int" if v.denominator == 1 else "rat", v)


def _allowed() -> str:
    return ", ".join(sorted(set(NAMES) | set(INDEXED) | {"layers"}))
