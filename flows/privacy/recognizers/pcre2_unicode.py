"""Which code points PCRE2's \\d, \\w and \\s hold, next to which a Python engine's hold.

re follows the interpreter's Unicode database, the regex module its own, PCRE2 the tables it was built with (and
its own definitions: its \\s lacks re's \\x1c-\\x1f, regex's \\w has combining marks); they differ. Each class is
run once per process over every code point in both engines, so the translation (pcre2_syntax.py) can add to a
class what PCRE2 misses and take out what it has too many.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from re import _constants as sre
from types import ModuleType
from typing import Any

import numpy as np

from flows.privacy.recognizers._pcre2_spans import Pattern

ESCAPES = {sre.CATEGORY_DIGIT: r"\d", sre.CATEGORY_WORD: r"\w", sre.CATEGORY_SPACE: r"\s"}
NEGATED = {sre.CATEGORY_NOT_DIGIT: sre.CATEGORY_DIGIT, sre.CATEGORY_NOT_WORD: sre.CATEGORY_WORD}
NEGATED[sre.CATEGORY_NOT_SPACE] = sre.CATEGORY_SPACE
CODE_POINTS = 0x110000


@lru_cache(maxsize=1)
def every_code_point() -> str:
    """All code points in order, lone surrogates included (a Python str may hold them)."""
    return np.arange(CODE_POINTS, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")


def _members(pairs: np.ndarray) -> np.ndarray:
    """The code points that (start, end) runs cover, as a boolean array over all code points."""
    edges = np.zeros(CODE_POINTS + 1, dtype=np.int64)
    np.add.at(edges, pairs[:, 0], 1)
    np.add.at(edges, pairs[:, 1], -1)
    return np.cumsum(edges[:-1]) > 0


@lru_cache(maxsize=8)
def _base_members(engine: ModuleType, category: int) -> tuple[np.ndarray, np.ndarray]:
    escape = ESCAPES[category] + "+"
    mine = [m.span() for m in engine.compile(escape).finditer(every_code_point())]
    theirs = np.frombuffer(Pattern(escape, 0).spans(every_code_point()), dtype=np.int64).reshape(-1, 2)
    return _members(np.array(mine, dtype=np.int64).reshape(-1, 2)), _members(theirs)


def members(engine: ModuleType, category: int) -> tuple[np.ndarray, np.ndarray]:
    """(the engine's, PCRE2's) class of this category (\\d, \\D, \\w, ...) as boolean arrays over all code points."""
    mine, theirs = _base_members(engine, NEGATED.get(category, category))
    return (~mine, ~theirs) if category in NEGATED else (mine, theirs)


@lru_cache(maxsize=16)
def agrees(engine: ModuleType, category: int) -> bool:
    """Whether PCRE2's class of this category holds exactly the engine's code points."""
    return bool(np.array_equal(*_base_members(engine, NEGATED.get(category, category))))


def class_members(engine: ModuleType, items: Iterable[tuple[Any, Any]], side: int) -> np.ndarray:
    """The code points a class's items (re's parse, without NEGATE) hold for the engine (side 0) or PCRE2
    (side 1), as a boolean array over all code points."""
    held = np.zeros(CODE_POINTS, dtype=bool)
    for op, av in items:
        if op is sre.LITERAL:
            held[av] = True
        elif op is sre.RANGE:
            held[av[0] : av[1] + 1] = True
        else:
            held |= members(engine, av)[side]
    return held
