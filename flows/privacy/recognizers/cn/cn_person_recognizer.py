"""Chinese personal names in free text, offline: jieba segmentation (dictionary `nr` tags and HMM-discovered
words) filtered by a surname dictionary, plus surname + title forms (张先生, 王女士).

The regex pattern is only a cheap pre-filter (a surname character is present); the span comes from jieba's
token boundaries, which is what keeps `客户张伟投诉` from becoming `张伟投`.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import jieba
import jieba.posseg
from presidio_analyzer import Pattern

from flows.privacy.recognizers.base import CnPatternRecognizer, Span

DATA = Path(__file__).with_name("data") / "surnames.txt"
TITLES = frozenset("先生 女士 小姐 老师 经理 师傅 阿姨 大哥 大姐 同学 总 老板 主任 医生 律师".split())
TITLE_ENDS = frozenset(t[-1] for t in TITLES)
# Words jieba tags nr (or invents) that are not names in CRM text.
NOT_NAMES = frozenset(
    "高兴 高速 周末 周年 周期 万元 万一 金额 金卡 金牌 黄金 方便 方面 方式 方法 文件 文本 石油 安全 安装 "
    "安排 常规 常见 平台 平安 明天 明确 时间 时候 应该 应用 成功 成本 和平 向上 于是 江湖 程序 程度 钱包 "
    "余额 关于 关注 关系 全部 全面 宁愿 白色 齐全 康复 邵阳 包括 包装 任何 华为 马上 牛奶 温度 温馨 海外 "
    "强烈 司机 都是 都有 利用 信息 信用 元旦".split()
)
LOCATION_SUFFIXES = tuple("省市区县镇乡村路街道巷弄号楼室") + ("大道", "小区", "花园")


@lru_cache(maxsize=1)
def surnames() -> tuple[frozenset[str], frozenset[str]]:
    """(single-character surnames, compound surnames) from the bundled list."""
    lines = DATA.read_text(encoding="utf-8").splitlines()
    words = [w for line in lines if not line.startswith("#") for w in line.split()]
    return frozenset(w for w in words if len(w) == 1), frozenset(w for w in words if len(w) == 2)


@lru_cache(maxsize=1)
def _jieba() -> tuple[jieba.Tokenizer, dict[str, str]]:
    jieba.setLogLevel(logging.WARNING)
    jieba.dt.initialize()
    return jieba.dt, jieba.posseg.dt.word_tag_tab


def is_name_token(word: str, tags: dict[str, str]) -> bool:
    """A 2-4 character Han token that starts with a surname and is a known or newly discovered name."""
    single, compound = surnames()
    if not 2 <= len(word) <= 4 or not all("\u4e00" <= ch <= "\u9fff" for ch in word):
        return False
    if word in NOT_NAMES or word.endswith(LOCATION_SUFFIXES):
        return False
    if not (word[0] in single or word[:2] in compound) or (len(word) == 4 and word[:2] not in compound):
        return False
    tag = tags.get(word)
    return tag is None or tag.startswith("nr")


LEAD = "客户|顾客|联系人|来电人自称|来电人|收件人|收货人|姓名|会员|持卡人|本人|用户|机主|投诉人|申请人|经办人"
FOLLOW = "来电|来店|到店|反映|投诉|表示|自称|称|说|要求|申请|咨询|已|的|先生|女士|小姐"


def _anchored_pattern() -> str:
    single, compound = surnames()
    surname = "(?:" + "|".join(sorted(compound)) + "|[" + "".join(sorted(single)) + "])"
    return (
        rf"(?<=(?:{LEAD})[:：]?\s?)(?P<pii>{surname}[\u4e00-\u9fff]{{1,2}}?)"
        rf"(?=(?:{FOLLOW})|[，,。；;:：、！!？?\s(（]|$)"
    )


class CnPersonRecognizer(CnPatternRecognizer):
    ENTITY = "PERSON"
    # A name right after a role word and before a verb or punctuation: its boundary is certain.
    PATTERNS = [Pattern("cn_name_after_role", _anchored_pattern(), 0.85)]
    CONTEXT = ["客户", "姓名", "联系人", "收件人", "先生", "女士"]

    def spans(self, text: str) -> list[Span]:
        tokenizer, tags = _jieba()
        single, compound = surnames()
        found: list[Span] = super().spans(text)
        tokens = list(tokenizer.tokenize(text, HMM=True))
        for i, (word, start, end) in enumerate(tokens):
            nxt = tokens[i + 1][0] if i + 1 < len(tokens) else ""
            titled = None
            if len(word) >= 2 and word[-1] in TITLE_ENDS:
                titled = next((t for t in TITLES if word.endswith(t) and len(word) > len(t)), None)
            if titled and (word[: -len(titled)] in single or is_name_token(word[: -len(titled)], tags)):
                found.append((start, end - len(titled), 0.7))
            elif word in compound and 1 <= len(nxt) <= 2 and nxt not in TITLES and is_name_token(word + nxt, tags):
                found.append((start, end + len(nxt), 0.6))
            elif nxt in TITLES and (word in single or word in compound):
                found.append((start, end, 0.7))
            elif is_name_token(word, tags):
                found.append((start, end, 0.7 if tags.get(word) == "nr" else 0.6))
        return found
