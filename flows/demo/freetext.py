"""Free-text ticket notes and survey comments with embedded PII, hard negatives, and exact span offsets.

The recognizers are judged against these spans, so every PII value is written through `TextBuilder.pii`,
which records where it lands; hard negatives (order and tracking numbers, amounts, dates, hotlines,
numbers failing their checksum) are plain text and never a span.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from flows.demo import identities as ids
from flows.demo.checksums import id_check_digit, luhn_valid
from flows.demo.reference_data import HOTLINES


@dataclass
class Span:
    start: int
    end: int
    entity: str
    text: str


@dataclass
class TextBuilder:
    parts: list[str] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    length: int = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def pii(self, text: str, entity: str) -> None:
        self.spans.append(Span(self.length, self.length + len(text), entity, text))
        self.add(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)


@dataclass(frozen=True)
class Subject:
    """What a note may mention about its customer (already chosen values, raw forms)."""

    name: str
    mobile: str
    id_number: str | None
    email: str | None
    landline: str | None
    address: str
    region_code: str


def _checksum_failing_digits(rng: random.Random, prefix: str, length: int) -> str:
    """Digits that look like an identifier but fail every checksum a recognizer could apply."""
    while True:
        value = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix)))
        if luhn_valid(value):
            continue
        if length == 18 and id_check_digit(value[:17]) == value[17]:
            continue
        if length == 11 and value[0] == "1" and value[1] in "3456789":
            continue
        return value


def _order_no(rng: random.Random) -> str:
    return rng.choice(("DD", "SO", "")) + _checksum_failing_digits(rng, "2026" + f"{rng.randint(1, 12):02d}", 18)


def _tracking_no(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.4:
        return "SF" + _checksum_failing_digits(rng, "", 13)
    if kind < 0.7:
        return "YT" + _checksum_failing_digits(rng, "", 13)
    return "JDVA" + _checksum_failing_digits(rng, "0", 11)


def _mobile_text(rng: random.Random, number: str) -> str:
    return ids.mobile_variant(
        rng, number, ("plain", "plain", "plus86dash", "plus86glued", "space", "dash", "0086", "fullwidth")
    )


def _card_text(rng: random.Random, card: str) -> str:
    if rng.random() < 0.4:
        return " ".join(card[i:i + 4] for i in range(0, len(card), 4))
    return card


def _negative(rng: random.Random, tb: TextBuilder) -> None:
    kind = rng.randrange(8)
    if kind == 0:
        tb.add(f"，订单号{_order_no(rng)}")
    elif kind == 1:
        tb.add(f"，运单号 {_tracking_no(rng)}")
    elif kind == 2:
        tb.add(f"，涉及金额{rng.randint(19, 9999)}.{rng.randrange(100):02d}元")
    elif kind == 3:
        tb.add(f"，已告知客服热线{rng.choice(HOTLINES)}")
    elif kind == 4:
        tb.add(f"，约定2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(9, 20)}:30回访")
    elif kind == 5:
        tb.add(f"，系统流水号{_checksum_failing_digits(rng, '', 18)}")
    elif kind == 6:
        tb.add(f"，关联卡券编号{_checksum_failing_digits(rng, '62', 16)}")
    else:
        tb.add(f"，客服工号{rng.randint(1000, 9999)}，积分{rng.randint(100, 50000)}")


_ISSUES = {
    "物流": ("反映快递迟迟未送达", "称包裹显示已签收但本人未收到", "要求修改收货信息"),
    "退换货": ("申请退货退款", "要求换货，尺码不合适", "退款一直未到账"),
    "质量": ("反映商品使用几天后出现故障", "称收到的商品有破损", "对商品质量不满意"),
    "账户": ("无法登录会员账户", "称账户积分被异常扣除", "要求更换绑定手机"),
    "发票": ("需要补开发票", "要求开具增值税专用发票", "发票抬头填写错误需重开"),
    "其他": ("咨询会员权益", "咨询门店营业时间", "建议增加自提点"),
}
CATEGORIES = tuple(_ISSUES)
_COMPLAINTS = ("。客户情绪激动，表示要投诉到12315", "。客户表示非常失望，以后不会再买", "。要求主管回电处理")


def ticket_notes(
    rng: random.Random, s: Subject, category: str, complaint: bool, family_name: str | None
) -> TextBuilder:
    tb = TextBuilder()
    opening = rng.randrange(4)
    if opening == 0:
        tb.add("客户")
        tb.pii(s.name, "PERSON")
        tb.add("来电")
    elif opening == 1:
        tb.add("来电人自称")
        tb.pii(s.name, "PERSON")
        tb.add("，")
    elif opening == 2:
        tb.add("用户在线咨询，")
    else:
        tb.add("顾客到店，")
    tb.add(rng.choice(_ISSUES[category]))
    if rng.random() < 0.5:
        _negative(rng, tb)
    if rng.random() < 0.6:
        tb.add(rng.choice(("，联系电话", "，请回电", "，手机", "，本人号码：")))
        tb.pii(_mobile_text(rng, s.mobile), "CN_MOBILE")
    if s.landline and rng.random() < 0.2:
        tb.add("，座机")
        tb.pii(s.landline if rng.random() < 0.7 else f"({s.landline.replace('-', ')')}", "CN_LANDLINE")
    if s.id_number and rng.random() < 0.25:
        tb.add(rng.choice(("，身份证号", "，核实身份证", "，证件号：")))
        tb.pii(ids.id_variant(rng, s.id_number), "CN_ID_CARD")
    if s.email and rng.random() < 0.25:
        tb.add("，邮箱")
        tb.pii(s.email, "EMAIL_ADDRESS")
        tb.add("请回复")
    if category == "退换货" and rng.random() < 0.5:
        tb.add("，退款至银行卡")
        tb.pii(_card_text(rng, ids.bank_card(rng)), "CN_BANK_CARD")
    if category == "发票" and rng.random() < 0.7:
        tb.add("，公司税号")
        tb.pii(ids.uscc(rng, s.region_code), "CN_USCC")
    if category == "账户" and rng.random() < 0.5:
        tb.add("，最近登录IP ")
        tb.pii(ids.ip_address(rng), "IP_ADDRESS")
    if rng.random() < 0.05:
        tb.add("，出境使用，护照号")
        tb.pii(ids.passport(rng), "CN_PASSPORT")
    if category == "物流" and rng.random() < 0.5:
        tb.add("，收货地址改为")
        tb.pii(s.address, "LOCATION")
    if family_name and rng.random() < 0.3:
        tb.add("，由家属")
        tb.pii(family_name, "PERSON")
        tb.add("代为办理")
    if rng.random() < 0.4:
        _negative(rng, tb)
    if complaint:
        tb.add(rng.choice(_COMPLAINTS))
    tb.add(rng.choice(("。已记录，待跟进。", "。已处理。", "。已升级至二线。", "。")))
    return tb


_COMMENTS = {
    "pos": ("服务很好，会继续支持", "物流很快，包装完好", "导购很专业，推荐朋友来买", "整体满意"),
    "neu": ("还行吧", "价格有点贵", "一般般，没有特别的感受", "希望多搞活动"),
    "neg": ("发货太慢了，体验很差", "客服一直不回复，很失望", "质量不行，不会再买了", "退款拖了好久，准备换别家"),
}


def survey_comment(rng: random.Random, s: Subject, nps: int) -> TextBuilder:
    tb = TextBuilder()
    if rng.random() < 0.15:
        return tb
    mood = "pos" if nps >= 9 else "neu" if nps >= 7 else "neg"
    tb.add(rng.choice(_COMMENTS[mood]))
    roll = rng.random()
    if roll < 0.12:
        tb.add("，有问题请联系我")
        tb.pii(_mobile_text(rng, s.mobile), "CN_MOBILE")
    elif roll < 0.18 and s.email:
        tb.add("，回复请发邮箱")
        tb.pii(s.email, "EMAIL_ADDRESS")
    elif roll < 0.24:
        tb.add("。——")
        tb.pii(s.name, "PERSON")
    elif roll < 0.28:
        tb.add("，我住")
        tb.pii(s.address, "LOCATION")
    elif roll < 0.4:
        _negative(rng, tb)
    return tb
