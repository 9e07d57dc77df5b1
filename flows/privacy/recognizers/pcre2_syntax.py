"""A Python regular expression rewritten in PCRE2 syntax with the same meaning, for the PCRE2 matcher.

The pattern is read by re's own parser (re._parser, what re.compile reads) and every node is written in a form
PCRE2 cannot read differently: characters as \\x{...}; `.`, `^`, `$` and `\\Z` as the class or assertion re
means by them under the pattern's flags; \\d, \\w, \\s as PCRE2's Unicode classes, corrected where PCRE2's
Unicode tables disagree with the engine's (pcre2_unicode.py). Only the wanted group stays capturing (PCRE2 group
1). A pattern of the regex module whose only addition is right-to-left matching ((?r)...) is mirrored: the
mirrored pattern, matched left to right over the reversed text, finds the same spans.

Anything else (case-insensitive or ASCII-only matching, back-references, syntax re's parser does not know, a
(?r) pattern that can match empty) raises Untranslatable, and that pattern stays with its Python engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from re import _constants as sre
from re import _parser
from types import ModuleType
from typing import Any

import numpy as np

from flows.privacy.recognizers.pcre2_starts import Node, StartSets, start_sets
from flows.privacy.recognizers.pcre2_unicode import agrees, class_members

REVERSE_PREFIX = "(?r)"
SCOPED_FLAGS = re.DOTALL | re.MULTILINE | re.VERBOSE  # the inline flags translated (VERBOSE only affects parsing)
MAX_QUANTIFIER = 65535  # PCRE2's largest repeat count
LATIN1 = 256  # PCRE2 looks characters below up in a bitmap; those beyond, in a list
LEAF = 8  # runs of characters beyond Latin-1 one class holds before it becomes a search tree
_REPEAT_SUFFIX = {sre.MAX_REPEAT: "", sre.MIN_REPEAT: "?", sre.POSSESSIVE_REPEAT: "+"}
_CATEGORY = {
    sre.CATEGORY_DIGIT: r"\d",
    sre.CATEGORY_NOT_DIGIT: r"\D",
    sre.CATEGORY_WORD: r"\w",
    sre.CATEGORY_NOT_WORD: r"\W",
    sre.CATEGORY_SPACE: r"\s",
    sre.CATEGORY_NOT_SPACE: r"\S",
}
# (at code, multi-line) -> PCRE2: re's ^ and $ without MULTILINE are the start, and the end or before a final \n;
# with it, any line's start and end (PCRE2's own ^ would not match after a final \n).
_AT = {
    (sre.AT_BEGINNING, False): r"\A",
    (sre.AT_BEGINNING, True): r"(?<![^\n])",
    (sre.AT_END, False): r"(?=\n?\z)",
    (sre.AT_END, True): r"(?![^\n])",
    (sre.AT_BEGINNING_STRING, False): r"\A",
    (sre.AT_BEGINNING_STRING, True): r"\A",
    (sre.AT_END_STRING, False): r"\z",
    (sre.AT_END_STRING, True): r"\z",
}
# re's \B never matches in an empty string (PCRE2's does)
_BOUNDARY = {sre.AT_BOUNDARY: r"\b", sre.AT_NON_BOUNDARY: r"(?!\A\z)\B"}


class Untranslatable(ValueError):
    """The pattern uses something this translation does not write for PCRE2."""



@dataclass(frozen=True)
class Translation:
    pattern: str  # PCRE2 syntax, ASCII
    group: int  # 1 when a group was asked for, else 0 (the whole match)
    reverse: bool  # match the reversed text, then mirror the spans
    starts: StartSets  # where a match can start


def translate(engine: ModuleType, pattern: str, flags: int, group: int | str) -> Translation:
    """The PCRE2 form of a pattern compiled by `engine` (re or regex) with `flags`; `group` is the number or name
    of the group whose span is wanted (0: the whole match)."""
    reverse = engine is not re and pattern.startswith(REVERSE_PREFIX)
    source = pattern[len(REVERSE_PREFIX) :] if reverse else pattern
    known = SCOPED_FLAGS | re.UNICODE | (getattr(engine, "REVERSE", 0) if reverse else 0)
    if engine is not re:
        known |= getattr(engine, "VERSION0", 0)
    if flags & ~known:
        raise Untranslatable(f"flags {flags:#x}")
    try:
        tree = _parser.parse(source, flags & SCOPED_FLAGS)
    except re.error as exc:
        raise Untranslatable(f"re cannot read it: {exc}") from exc
    wanted = tree.state.groupdict[group] if isinstance(group, str) else group
    nodes: Sequence[Node] = list(tree)
    if reverse:
        if tree.getwidth()[0] == 0:
            raise Untranslatable("a right-to-left pattern that can match empty")
        nodes = _mirror(nodes)
    flags = tree.state.flags
    pcre2 = _Writer(engine, wanted).sequence(nodes, flags)
    return Translation(pcre2, 1 if wanted else 0, reverse, start_sets(engine, nodes, flags))


def _mirror(nodes: Iterable[Node]) -> list[Node]:
    """The pattern that matches the reversed strings, in the same order of preference."""
    out: list[Node] = []
    for op, av in reversed(list(nodes)):
        if op in (sre.LITERAL, sre.NOT_LITERAL, sre.ANY, sre.IN):
            out.append((op, av))
        elif op is sre.BRANCH:
            out.append((op, (av[0], [_mirror(alternative) for alternative in av[1]])))
        elif op is sre.SUBPATTERN:
            out.append((op, (*av[:3], _mirror(av[3]))))
        elif op in _REPEAT_SUFFIX:
            out.append((op, (av[0], av[1], _mirror(av[2]))))
        else:
            raise Untranslatable(f"{op} in a right-to-left pattern")
    return out


def _char(point: int) -> str:
    return f"\\x{{{point:x}}}"


def _runs(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first, last) code point of each run of consecutive ones among sorted code points."""
    if not len(points):
        return points, points
    breaks = np.flatnonzero(np.diff(points) != 1)
    return points[np.r_[0, breaks + 1]], points[np.r_[breaks, len(points) - 1]]


def _items(firsts: Sequence[int], lasts: Sequence[int]) -> str:
    return "".join(_char(a) if a == b else f"{_char(a)}-{_char(b)}" for a, b in zip(firsts, lasts, strict=True))


def _ranges(held: np.ndarray) -> str:
    """The code points a boolean array over all code points holds, as class items."""
    firsts, lasts = _runs(np.flatnonzero(held))
    return _items(firsts.tolist(), lasts.tolist())


def _tree(points: np.ndarray) -> str:
    """Sorted code points as a class, or, past LEAF runs, a search tree of classes: PCRE2 compares a character
    with the items of a class beyond Latin-1 one by one (170 ns a character for 400 surnames)."""
    firsts, lasts = _runs(points)
    return _subtree(firsts.tolist(), lasts.tolist())


def _subtree(firsts: list[int], lasts: list[int]) -> str:
    if len(firsts) <= LEAF:
        return f"[{_items(firsts, lasts)}]"
    mid = len(firsts) // 2
    left, right = _subtree(firsts[:mid], lasts[:mid]), _subtree(firsts[mid:], lasts[mid:])
    return f"(?>(?=[{_char(firsts[0])}-{_char(lasts[mid - 1])}]){left}|{right})"


class _Writer:
    def __init__(self, engine: ModuleType, wanted: int) -> None:
        self.engine = engine
        self.wanted = wanted

    def sequence(self, nodes: Iterable[Node], flags: int) -> str:
        return "".join(self.node(op, av, flags) for op, av in nodes)

    def node(self, op: Any, av: Any, flags: int) -> str:
        if op is sre.LITERAL:
            return _char(av)
        if op is sre.NOT_LITERAL:
            return f"[^{_char(av)}]"
        if op is sre.ANY:
            return "(?s:.)" if flags & re.DOTALL else r"[^\n]"
        if op is sre.IN:
            return self.char_class(av)
        if op is sre.BRANCH:
            return "(?:" + "|".join(self.sequence(alternative, flags) for alternative in av[1]) + ")"
        if op is sre.SUBPATTERN:
            number, add, remove, body = av
            if (add | remove) & ~SCOPED_FLAGS:
                raise Untranslatable(f"inline flags {add:#x} / {remove:#x}")
            inner = self.sequence(body, (flags | add) & ~remove)
            return f"({inner})" if number is not None and number == self.wanted else f"(?:{inner})"
        if op in _REPEAT_SUFFIX:
            low, high, body = av
            if low > MAX_QUANTIFIER or (high != sre.MAXREPEAT and high > MAX_QUANTIFIER):
                raise Untranslatable(f"repeat {low}..{high}")
            bound = f"{{{low},}}" if high == sre.MAXREPEAT else f"{{{low},{high}}}"
            return f"(?:{self.sequence(body, flags)}){bound}{_REPEAT_SUFFIX[op]}"
        if op in (sre.ASSERT, sre.ASSERT_NOT):
            direction, body = av
            kind = ("<" if direction < 0 else "") + ("=" if op is sre.ASSERT else "!")
            return f"(?{kind}{self.sequence(body, flags)})"
        if op is sre.ATOMIC_GROUP:
            return f"(?>{self.sequence(av, flags)})"
        if op is sre.AT:
            return self.at(av, flags)
        raise Untranslatable(str(op))

    def at(self, code: Any, flags: int) -> str:
        if code in _BOUNDARY:
            if not agrees(self.engine, sre.CATEGORY_WORD):
                raise Untranslatable("\\b with a \\w that PCRE2 reads differently")
            return _BOUNDARY[code]
        return _AT[(code, bool(flags & re.MULTILINE))]

    def char_class(self, items: list[Node]) -> str:
        """The class as PCRE2 writes it; where its escapes disagree with the engine's on some code points, those
        the engine's class holds are added and those it does not are excluded."""
        negate = bool(items) and items[0][0] is sre.NEGATE
        body = items[1:] if negate else items
        listed = class_members(self.engine, [(op, av) for op, av in body if op is not sre.CATEGORY], 0)
        wide = np.flatnonzero(listed[LATIN1:]) + LATIN1
        if len(_runs(wide)[0]) <= LEAF:
            plain = f"[{'^' if negate else ''}{''.join(self.class_item(op, av) for op, av in body)}]"
        else:  # the characters beyond Latin-1 as a search tree, the rest as a class
            listed[LATIN1:] = False
            rest = "".join(self.class_item(op, av) for op, av in body if op is sre.CATEGORY) + _ranges(listed)
            if negate:
                plain = f"(?!{_tree(wide)})" + (f"[^{rest}]" if rest else "(?s:.)")
            else:
                plain = f"(?:[{rest}]|{_tree(wide)})" if rest else _tree(wide)
        if all(agrees(self.engine, av) for op, av in body if op is sre.CATEGORY):
            return plain
        mine, theirs = (class_members(self.engine, body, side) != negate for side in (0, 1))
        add, drop = np.flatnonzero(mine & ~theirs), np.flatnonzero(theirs & ~mine)
        if len(drop):
            plain = f"(?!{_tree(drop)}){plain}"
        return f"(?:{plain}|{_tree(add)})" if len(add) else plain

    @staticmethod
    def class_item(op: Any, av: Any) -> str:
        if op is sre.LITERAL:
            return _char(av)
        if op is sre.RANGE:
            return f"{_char(av[0])}-{_char(av[1])}"
        if op is sre.CATEGORY and av in _CATEGORY:
            return _CATEGORY[av]
        raise Untranslatable(f"{op} {av} in a class")

