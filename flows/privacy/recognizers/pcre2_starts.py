"""Where a match of a pattern can start, read from re's parse of it, for the extension's PatternSet, which tries a
pattern only where its first two characters and the one before allow a match, and where the run of characters
from there can hold a match.

Each set is the engine's: the first and second characters are supersets of what a match can start with (a
pattern that can match one character or none has no second), the characters before a subset of those a match
never follows (its leading negative look-behinds of one character), so no match is ever skipped. Likewise every
character a match consumes is one of `inner` (a superset), a match is at least `min_width` characters long, and
it consumes at least one of `required` (where every match must): a start whose run of `inner` characters is
shorter, or ends before one of `required`, cannot start a match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from re import _constants as sre
from types import ModuleType
from typing import Any

import numpy as np

from flows.privacy.recognizers.pcre2_unicode import CODE_POINTS, class_members

Node = tuple[Any, Any]
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_ZERO_WIDTH = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)


@dataclass(frozen=True)
class StartSets:
    """Booleans over all code points; None where there is no such rule."""

    first: np.ndarray | None  # the characters a match starts with
    second: np.ndarray | None  # the characters a match's second character is
    not_after: np.ndarray | None  # the characters a match never follows
    inner: np.ndarray | None = None  # the characters a match consumes; None: any
    required: np.ndarray | None = None  # one of these is in every match; None: no such rule
    min_width: int = 0  # the fewest characters a match consumes


@dataclass(frozen=True)
class _Shape:
    """What a part of a pattern can match: its possible first and second characters, whether it can match
    nothing, and whether it can match exactly one character."""

    first: np.ndarray
    second: np.ndarray
    empty: bool
    single: bool

    def then(self, after: _Shape) -> _Shape:
        """The shape of this part followed by another."""
        second = self.second | (after.first if self.single else False) | (after.second if self.empty else False)
        first = self.first | (after.first if self.empty else False)
        single = (self.single and after.empty) or (self.empty and after.single)
        return _Shape(first, second, self.empty and after.empty, single)

    def either(self, other: _Shape) -> _Shape:
        return _Shape(
            self.first | other.first, self.second | other.second, self.empty or other.empty, self.single or other.single
        )


def _none() -> np.ndarray:
    return np.zeros(CODE_POINTS, dtype=bool)


def _anything() -> _Shape:
    every = np.ones(CODE_POINTS, dtype=bool)
    return _Shape(every, every, True, True)


def start_sets(engine: ModuleType, nodes: list[Node], flags: int) -> StartSets:
    reader = _Reader(engine)
    first, required = reader.starts(nodes, flags)
    shape = reader.shape(nodes, flags)
    second = None if shape.empty or shape.single else shape.second
    inner = reader.inner(nodes, flags)
    return StartSets(
        first if required else None,
        second,
        reader.not_after(nodes, flags),
        None if inner.all() else inner,
        reader.required(nodes, flags),
        reader.min_width(nodes, flags),
    )


class _Reader:
    def __init__(self, engine: ModuleType) -> None:
        self.engine = engine

    def one_char(self, op: Any, av: Any, flags: int, sides: tuple[int, ...]) -> np.ndarray | None:
        """The characters a node of one character matches, for the engine (side 0), PCRE2 (side 1) or either;
        None for another kind of node."""
        if op is sre.LITERAL:
            chars = _none()
            chars[av] = True
            return chars
        if op is sre.NOT_LITERAL or (op is sre.ANY and not flags & re.DOTALL):
            chars = np.ones(CODE_POINTS, dtype=bool)
            chars[av if op is sre.NOT_LITERAL else ord("\n")] = False
            return chars
        if op is sre.ANY:
            return np.ones(CODE_POINTS, dtype=bool)
        if op is sre.IN:
            negate = bool(av) and av[0][0] is sre.NEGATE
            body = av[1:] if negate else av
            return np.logical_or.reduce([class_members(self.engine, body, side) for side in sides]) != negate
        return None

    def not_after(self, nodes: Iterable[Node], flags: int) -> np.ndarray | None:
        """The characters a match never follows: those of the negative look-behinds of one character that open
        the pattern (before anything that consumes a character); None where there is none."""
        held = None
        for op, av in nodes:
            if op is sre.ASSERT_NOT and av[0] < 0 and len(av[1]) == 1:
                chars = self.one_char(*av[1][0], flags, (0,))
                if chars is not None:
                    held = chars if held is None else held | chars
            elif op not in _ZERO_WIDTH:
                break
        return held

    def starts(self, nodes: Iterable[Node], flags: int) -> tuple[np.ndarray, bool]:
        """The characters a match of these nodes can start with (lookaheads count: the character they look at
        is the one at the start), and whether one of them is required there (False: the match can be empty or
        start with anything)."""
        held = _none()
        for op, av in nodes:
            if op is sre.AT or op is sre.ASSERT_NOT or (op is sre.ASSERT and av[0] < 0):
                continue  # zero-width, no character of its own
            chars, required = self.node_starts(op, av, flags)
            held |= chars
            if required:
                return held, True
        return held, False

    def node_starts(self, op: Any, av: Any, flags: int) -> tuple[np.ndarray, bool]:
        chars = self.one_char(op, av, flags, (0, 1))
        if chars is not None:
            return chars, True
        if op is sre.BRANCH:
            found = [self.starts(alternative, flags) for alternative in av[1]]
            return np.logical_or.reduce([chars for chars, _ in found]), all(required for _, required in found)
        if op is sre.SUBPATTERN:
            return self.starts(av[3], (flags | av[1]) & ~av[2])
        if op in _REPEATS:
            chars, required = self.starts(av[2], flags)
            return chars, required and av[0] > 0
        if op is sre.ASSERT or op is sre.ATOMIC_GROUP:  # a lookahead: what it looks at starts the match
            return self.starts(av[1] if op is sre.ASSERT else av, flags)
        return np.ones(CODE_POINTS, dtype=bool), False

    def inner(self, nodes: Iterable[Node], flags: int) -> np.ndarray:
        """Every character these nodes can consume (look-arounds consume none); all for what is not read here."""
        held = _none()
        for op, av in nodes:
            chars = self.one_char(op, av, flags, (0, 1))
            if chars is not None:
                held |= chars
            elif op is sre.BRANCH:
                for alternative in av[1]:
                    held |= self.inner(alternative, flags)
            elif op is sre.SUBPATTERN:
                held |= self.inner(av[3], (flags | av[1]) & ~av[2])
            elif op is sre.ATOMIC_GROUP:
                held |= self.inner(av, flags)
            elif op in _REPEATS:
                if av[1] > 0:
                    held |= self.inner(av[2], flags)
            elif op not in _ZERO_WIDTH:
                return np.ones(CODE_POINTS, dtype=bool)
        return held

    def required(self, nodes: Iterable[Node], flags: int) -> np.ndarray | None:
        """Characters one of which every match of these nodes consumes (the fewest such a sequence offers);
        None where there is no such rule."""
        best = None
        for op, av in nodes:
            chars = self.node_required(op, av, flags)
            if chars is not None and (best is None or chars.sum() < best.sum()):
                best = chars
        return best

    def node_required(self, op: Any, av: Any, flags: int) -> np.ndarray | None:
        chars = self.one_char(op, av, flags, (0, 1))
        if chars is not None:
            return chars
        if op is sre.BRANCH:
            found = [self.required(alternative, flags) for alternative in av[1]]
            return None if any(f is None for f in found) else np.logical_or.reduce(found)
        if op is sre.SUBPATTERN:
            return self.required(av[3], (flags | av[1]) & ~av[2])
        if op is sre.ATOMIC_GROUP:
            return self.required(av, flags)
        if op in _REPEATS and av[0] > 0:
            return self.required(av[2], flags)
        return None

    def min_width(self, nodes: Iterable[Node], flags: int) -> int:
        """The fewest characters a match of these nodes consumes (0 for what is not read here)."""
        return sum(self.node_min_width(op, av, flags) for op, av in nodes)

    def node_min_width(self, op: Any, av: Any, flags: int) -> int:
        if self.one_char(op, av, flags, (0,)) is not None:
            return 1
        if op is sre.BRANCH:
            return min(self.min_width(alternative, flags) for alternative in av[1])
        if op is sre.SUBPATTERN:
            return self.min_width(av[3], (flags | av[1]) & ~av[2])
        if op is sre.ATOMIC_GROUP:
            return self.min_width(av, flags)
        if op in _REPEATS:
            return av[0] * self.min_width(av[2], flags)
        return 0

    def shape(self, nodes: Iterable[Node], flags: int) -> _Shape:
        whole = _Shape(_none(), _none(), True, False)
        for op, av in nodes:
            whole = whole.then(self.node_shape(op, av, flags))
        return whole

    def node_shape(self, op: Any, av: Any, flags: int) -> _Shape:
        chars = self.one_char(op, av, flags, (0, 1))
        if chars is not None:
            return _Shape(chars, _none(), False, True)
        if op in _ZERO_WIDTH:
            return _Shape(_none(), _none(), True, False)
        if op is sre.BRANCH:
            shapes = [self.shape(alternative, flags) for alternative in av[1]]
            either = shapes[0]
            for shape in shapes[1:]:
                either = either.either(shape)
            return either
        if op is sre.SUBPATTERN:
            return self.shape(av[3], (flags | av[1]) & ~av[2])
        if op is sre.ATOMIC_GROUP:
            return self.shape(av, flags)
        if op in _REPEATS:
            low, high, body = av
            if high == 0:
                return _Shape(_none(), _none(), True, False)
            inner = self.shape(body, flags)
            second = inner.second | (inner.first if high >= 2 and inner.single else False)
            return _Shape(inner.first, second, low == 0 or inner.empty, inner.single)
        return _anything()
