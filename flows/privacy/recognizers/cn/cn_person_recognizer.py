"""Chinese personal names in free text, offline and without segmentation: a surname dictionary plus the
context that tells where a name starts and ends.

CRM notes name people in a few fixed shapes: after a role word (客户张伟来电, 联系人：李娜, 由家属王芳代为办理,
——陈静; dashes are width-normalised to `--` before matching), before a title (王小明先生, 陈女士), or at the
start of a clause before a reporting verb (张伟来电投诉). The role word fixes the start, the verb or punctuation
after it fixes the end, and the given name is taken as short as that allows. jieba segmentation found fewer of
these names (it split surname + rare given name: 李甜宣 -> 李甜) at a tenth of the speed, so context replaced it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
import regex
from presidio_analyzer import Pattern

from flows.privacy.recognizers.base import CnPatternRecognizer, Span
from flows.privacy.recognizers.pattern_spans import PatternSpans

DATA = Path(__file__).with_name("data") / "surnames.txt"
TITLES = ("先生", "女士", "小姐", "老师", "经理", "师傅", "阿姨", "主任", "医生", "律师", "老板")
# Words that start with a surname character but are not names in CRM text.
NOT_NAMES = frozenset(
    "高兴 高速 周末 周年 周期 万元 万一 金额 金卡 金牌 黄金 方便 方面 方式 方法 文件 文本 石油 安全 安装 "
    "安排 常规 常见 平台 平安 明天 明确 时间 时候 应该 应用 成功 成本 和平 向上 于是 江湖 程序 程度 钱包 "
    "余额 关于 关注 关系 全部 全面 宁愿 白色 齐全 康复 包括 包装 任何 华为 马上 牛奶 温度 温馨 海外 "
    "强烈 司机 都是 都有 利用 信息 信用 元旦 权益 满意 能否 申请 解决 查询 查看 查收 单号 商品 商家 "
    "顾客 谢谢 感谢 和我 和他 和她 向我 给我 于今 来电 来店 时效 那边 都要 戴口 柯桥 通知 回复 回电".split()
)
# Surname characters that are far more often function words; never the start of a name before a title.
FUNCTION_SURNAMES = frozenset("和于向都来但由时那应全相信与")
LOCATION_SUFFIXES = tuple("省市区县镇乡村路街道巷弄号楼室") + ("大道", "小区", "花园")
# Characters that do not occur inside given names but do follow them (verbs, particles).
NOT_GIVEN = "的了是在我你他她们这那已被把给从到于为也都就还又很不没请说称和与及或"
LEAD = (
    "客户|顾客|联系人|来电人自称|来电人|收件人|收货人|姓名|会员|持卡人|本人|用户|机主|投诉人|申请人|经办人"
    "|家属|署名|--"
)
FOLLOW = (
    "来电|来店|到店|反映|投诉|表示|自称|称|说|要求|申请|咨询|已|的|代为|代办|本人|先生|女士|小姐|"
    + "|".join(TITLES)
)
BOUNDARY = r"[，,。；;:：、！!？?\s(（)）\-0-9A-Za-z]|$"


@lru_cache(maxsize=1)
def surnames() -> tuple[frozenset[str], frozenset[str]]:
    """(single-character surnames, compound surnames) from the bundled list."""
    lines = DATA.read_text(encoding="utf-8").splitlines()
    words = [w for line in lines if not line.startswith("#") for w in line.split()]
    return frozenset(w for w in words if len(w) == 1), frozenset(w for w in words if len(w) == 2)


def _surname_re() -> str:
    single, compound = surnames()
    return "(?:" + "|".join(sorted(compound)) + "|[" + "".join(sorted(single)) + "])"


def _name_re() -> str:
    return rf"{_surname_re()}[^\W\d_{NOT_GIVEN}]{{1,2}}?"


# The context is matched, not looked behind at: a literal start lets the regex engine skip most positions.
def _after_role() -> str:
    return rf"(?:{LEAD})[:：]?\s?(?P<pii>{_name_re()})(?=(?:{FOLLOW})|{BOUNDARY})"


def _clause_start(start: str) -> str:
    return rf"{start}(?P<pii>{_name_re()})(?=来电|来店|到店|反映|投诉|表示|自称|要求|申请|咨询|已)"


_TITLE = PatternSpans(regex.compile("|".join(TITLES)))
_HAN = regex.compile(r"[\u4e00-\u9fff]+")


def name_before_title(text: str, title_start: int) -> int | None:
    """Where the name in front of a title starts: the longest surname-first run of 1-4 Han characters."""
    single, compound = surnames()
    for start in range(max(title_start - 4, 0), title_start):
        cand = text[start:title_start]
        if not _HAN.fullmatch(cand) or cand[:2] in NOT_NAMES or text[max(start - 1, 0) : start + 1] in NOT_NAMES:
            continue
        head = 2 if cand[:2] in compound else 1 if cand[0] in single else 0
        if not head or len(cand) - head > 2 or (head == 1 and cand[0] in FUNCTION_SURNAMES and len(cand) > 1):
            continue
        if any(ch in NOT_GIVEN for ch in cand[head:]):
            continue
        return start
    return None


class CnPersonRecognizer(CnPatternRecognizer):
    ENTITY = "PERSON"
    PATTERNS = [
        Pattern("cn_name_after_role", _after_role(), 0.85),
        Pattern("cn_name_text_start", _clause_start(r"\A"), 0.7),
        Pattern("cn_name_clause_start", _clause_start(r"[，,。；;！!？?\n]"), 0.7),
    ]
    CONTEXT = ["客户", "姓名", "联系人", "收件人", "先生", "女士"]

    def invalidate_result(self, pattern_text: str) -> bool:
        return pattern_text[:2] in NOT_NAMES or pattern_text.endswith(LOCATION_SUFFIXES)

    def verdicts(
        self, text: str, start: np.ndarray, end: np.ndarray, points: np.ndarray | None = None
    ) -> np.ndarray:
        """invalidate_result of many candidates from their first two and last two code points."""
        if points is None:
            return super().verdicts(text, start, end)
        width = end - start
        two = width >= 2
        first, second = points[start].astype(np.int64), points[np.where(two, start + 1, start)].astype(np.int64)
        last, before = points[end - 1].astype(np.int64), points[np.where(two, end - 2, end - 1)].astype(np.int64)
        word, tail = (first << 21) | second, (before << 21) | last
        invalid = (two & np.isin(word, _NOT_NAME_KEYS)) | np.isin(last, _SUFFIX_CHARS)
        invalid |= two & np.isin(tail, _SUFFIX_KEYS)
        return np.where(invalid, 0, 1).astype(np.int8)

    def more_spans(self, text: str) -> list[Span]:
        """Names in front of a title (王小明先生)."""
        named: list[Span] = []
        for title in _TITLE.match_starts(text):
            start = name_before_title(text, title)
            if start is not None and not self.invalidate_result(text[start:title]):
                named.append((start, title, 0.7))
        return named


def _keys(words: Iterable[str]) -> np.ndarray:
    """Words of two characters as (first code point << 21) | second."""
    return np.array(sorted((ord(w[0]) << 21) | ord(w[1]) for w in words), dtype=np.int64)


_NOT_NAME_KEYS = _keys(w for w in NOT_NAMES if len(w) == 2)
_SUFFIX_CHARS = np.array(sorted(ord(s) for s in LOCATION_SUFFIXES if len(s) == 1), dtype=np.int64)
_SUFFIX_KEYS = _keys(s for s in LOCATION_SUFFIXES if len(s) == 2)
assert all(len(w) == 2 for w in NOT_NAMES) and all(len(s) <= 2 for s in LOCATION_SUFFIXES)
