"""A seeded, labelled free-text and structured fixture for the privacy benchmarks (used until the demo
generator's ground truth is available, and by the tests): CRM notes with PII in hard forms and hard negatives."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pandas as pd

from flows.privacy.recognizers.cn.cn_id_card_recognizer import id_check_char
from flows.privacy.recognizers.cn.cn_uscc_recognizer import org_code_check_char, uscc_check_char

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红志玉兰文斌宇浩凯鹏飞晨欣怡子轩梓涵"
PLACES = [
    ("上海市", "徐汇区", "漕溪北路"),
    ("广东省深圳市", "南山区", "科苑路"),
    ("北京市", "朝阳区", "望京西路"),
    ("浙江省杭州市", "西湖区", "文三路"),
    ("四川省成都市", "武侯区", "人民南路"),
    ("江苏省南京市", "鼓楼区", "中山北路"),
]
PREFIXES = ["138", "139", "150", "151", "177", "186", "188", "199", "166", "147"]
FULL = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass
class Labelled:
    text: str
    spans: list[tuple[int, int, str]]


def _luhn_complete(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    for d in "0123456789":
        digits = body + d
        total = sum(
            (int(c) * 2 - 9 if int(c) * 2 > 9 else int(c) * 2) if i % 2 else int(c)
            for i, c in enumerate(reversed(digits))
        )
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


def values(rng: random.Random) -> dict[str, str]:
    mobile = rng.choice(PREFIXES) + "".join(str(rng.randrange(10)) for _ in range(8))
    body = (
        f"{rng.choice(['110105', '310104', '440305', '330106', '510107'])}{rng.randint(1950, 2005)}"
        f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    )
    org8 = "".join(rng.choice("0123456789ABCDEFGH") for _ in range(8))
    uscc17 = f"9131{rng.randint(0, 9999):04d}{org8}{org_code_check_char(org8)}"
    province, district, road = rng.choice(PLACES)
    return {
        "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
        "mobile": mobile,
        "id": body + id_check_char(body),
        "card": _luhn_complete(rng, rng.choice(["6222", "6217", "6228", "4367"]), rng.choice((16, 19))),
        "email": f"{rng.choice(['zhang', 'li.na', 'wang_wei', 'chen88'])}{rng.randint(1, 999)}@"
        f"{rng.choice(['qq.com', '163.com', 'example.com.cn'])}",
        "landline": f"0{rng.choice(['10', '21', '755', '571'])}-{rng.randint(2, 8)}{rng.randint(0, 9999999):07d}",
        "address": f"{province}{district}{road}{rng.randint(1, 999)}号",
        "uscc": uscc17 + uscc_check_char(uscc17),
        "passport": f"E{rng.randint(0, 99999999):08d}",
        "ip": f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
    }


def _mobile_form(rng: random.Random, m: str) -> str:
    form = rng.randrange(6)
    return [m, f"+86 {m[:3]}-{m[3:7]}-{m[7:]}", f"+86{m}", f"{m[:3]} {m[3:7]} {m[7:]}", f"0086{m}", m.translate(FULL)][
        form
    ]


NEGATIVES = [
    "，订单号DD{o}",
    "，运单号 SF{t}",
    "，金额{a}元",
    "，热线400-820-{h}",
    "，客服95588",
    "，约定2026-11-05回访",
    "，流水号{o}",
    "，积分{a}",
]


def labelled_note(rng: random.Random) -> Labelled:
    v = values(rng)
    parts: list[tuple[str, str | None]] = []
    opening = rng.randrange(3)
    parts += (
        [("客户", None), (v["name"], "PERSON"), ("来电", None)]
        if opening == 0
        else [("联系人：", None), (v["name"], "PERSON"), ("，", None)]
        if opening == 1
        else [("用户在线咨询，", None)]
    )
    parts.append((rng.choice(["反映快递未送达", "申请退货退款", "要求修改收货信息", "无法登录会员账户"]), None))
    extras = [
        ("，手机", "mobile", "CN_MOBILE"),
        ("，身份证", "id", "CN_ID_CARD"),
        ("，退款卡号", "card", "CN_BANK_CARD"),
        ("，邮箱", "email", "EMAIL_ADDRESS"),
        ("，座机", "landline", "CN_LANDLINE"),
        ("，地址", "address", "LOCATION"),
        ("，公司税号", "uscc", "CN_USCC"),
        ("，护照", "passport", "CN_PASSPORT"),
        ("，登录IP ", "ip", "IP_ADDRESS"),
    ]
    for lead, key, entity in rng.sample(extras, rng.randint(1, 4)):
        value = v[key]
        if key == "mobile":
            value = _mobile_form(rng, value)
        elif key == "id" and rng.random() < 0.3:
            value = value[:-1] + value[-1].lower() if value.endswith("X") else value.translate(FULL)
        elif key == "card" and rng.random() < 0.4:
            value = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
        parts += [(lead, None), (value, entity)]
    for _ in range(rng.randint(1, 2)):
        neg = rng.choice(NEGATIVES).format(
            o="2026" + "".join(str(rng.randrange(10)) for _ in range(14)),
            t="".join(str(rng.randrange(10)) for _ in range(12)),
            a=rng.randint(19, 99999),
            h=rng.randint(1000, 9999),
        )
        parts.append((neg, None))
    parts.append(("。" + rng.choice(["请尽快回复", "已登记", "客户情绪激动"]), None))
    text, spans, pos = "", [], 0
    for chunk, entity in parts:
        if entity:
            spans.append((pos, pos + len(chunk), entity))
        text += chunk
        pos += len(chunk)
    return Labelled(text, spans)


def labelled_notes(n: int, seed: int = 7) -> list[Labelled]:
    rng = random.Random(seed)
    return [labelled_note(rng) for _ in range(n)]


def customer_frame(n: int, seed: int = 7) -> pd.DataFrame:
    """validated.<source>-shaped customer rows (text columns) with mixed hard forms."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        v = values(rng)
        rows.append(
            {
                "source_name": "crm",
                "source_system": "crm",
                "entity": "customer",
                "_file": "f.csv",
                "_row_number": str(i + 1),
                "_warn_rules": None,
                "record_id": f"C{i:07d}",
                "name": v["name"],
                "mobile": _mobile_form(rng, v["mobile"]),
                "email": v["email"],
                "id_number": v["id"],
                "landline": v["landline"],
                "address": v["address"],
                "birth_date": "1990-01-01",
                "gender": "男",
            }
        )
    return pd.DataFrame(rows)
