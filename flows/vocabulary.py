"""Source spellings of coded values, mapped to the pipeline's codes. One definition, used by the quality
suites (to judge validity) and the privacy stage (to code the warehouse value), so the two never disagree."""

from __future__ import annotations

# GB/T 2261.1 codes 0/1/2/9 plus the spellings source systems use
GENDER_SPELLINGS: dict[str, str] = {
    "m": "M",
    "male": "M",
    "man": "M",
    "男": "M",
    "男性": "M",
    "先生": "M",
    "1": "M",
    "f": "F",
    "female": "F",
    "woman": "F",
    "女": "F",
    "女性": "F",
    "女士": "F",
    "2": "F",
    "u": "U",
    "unknown": "U",
    "未知": "U",
    "其他": "U",
    "保密": "U",
    "0": "U",
    "9": "U",
    "n/a": "U",
}

# Marketing consent: explicit choices and their withdrawals, as CRM, e-commerce, POS and consent logs spell them
CONSENT_SPELLINGS: dict[str, str] = {
    "yes": "yes",
    "y": "yes",
    "true": "yes",
    "1": "yes",
    "是": "yes",
    "同意": "yes",
    "opt-in": "yes",
    "optin": "yes",
    "opt_in": "yes",
    "subscribed": "yes",
    "订阅": "yes",
    "granted": "yes",
    "no": "no",
    "n": "no",
    "false": "no",
    "0": "no",
    "否": "no",
    "不同意": "no",
    "拒绝": "no",
    "opt-out": "no",
    "optout": "no",
    "opt_out": "no",
    "unsubscribed": "no",
    "退订": "no",
    "withdrawn": "no",
    "撤回": "no",
    "unknown": "unknown",
    "未知": "unknown",
    "": "unknown",
}
