"""Small built-in reference lists (names, regions, carrier prefixes) so the generator is deterministic offline.

Faker's zh_CN locale would add a dependency whose output changes between releases; these lists are enough
to produce realistic-looking mainland identities and, unlike Faker, carry the pinyin and homophone groups the
messiness injection needs.
"""

from __future__ import annotations

# (surname, pinyin, weight in per mille, roughly the national shares)
SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 71), ("李", "li", 70), ("张", "zhang", 68), ("刘", "liu", 54), ("陈", "chen", 45),
    ("杨", "yang", 31), ("黄", "huang", 22), ("赵", "zhao", 20), ("吴", "wu", 19), ("周", "zhou", 19),
    ("徐", "xu", 15), ("孙", "sun", 14), ("马", "ma", 13), ("朱", "zhu", 12), ("胡", "hu", 12),
    ("郭", "guo", 11), ("何", "he", 11), ("高", "gao", 10), ("林", "lin", 10), ("罗", "luo", 9),
    ("郑", "zheng", 8), ("梁", "liang", 8), ("谢", "xie", 7), ("宋", "song", 7), ("唐", "tang", 7),
    ("许", "xu", 6), ("韩", "han", 6), ("冯", "feng", 6), ("邓", "deng", 6), ("曹", "cao", 5),
    ("彭", "peng", 5), ("曾", "zeng", 5), ("肖", "xiao", 5), ("田", "tian", 5), ("董", "dong", 4),
    ("袁", "yuan", 4), ("潘", "pan", 4), ("于", "yu", 4), ("蒋", "jiang", 4), ("蔡", "cai", 4),
    ("余", "yu", 4), ("杜", "du", 4), ("叶", "ye", 4), ("程", "cheng", 3), ("苏", "su", 3),
    ("魏", "wei", 3), ("吕", "lv", 3), ("丁", "ding", 3), ("任", "ren", 3), ("沈", "shen", 3),
    ("欧阳", "ouyang", 0.5), ("司马", "sima", 0.2), ("上官", "shangguan", 0.2),
)

# Surname homophones (same pinyin, different character): a frequent data-entry confusion.
SURNAME_HOMOPHONES: dict[str, str] = {
    "张": "章", "章": "张", "徐": "许", "许": "徐", "王": "汪", "李": "黎", "刘": "柳", "吴": "伍", "杨": "阳",
}

# Given-name characters in homophone groups: "pinyin:" then character + gender affinity (m/f/u).
_GIVEN_GROUPS = (
    "wei:伟m玮u炜m薇f维u", "li:丽f莉f俐f立m", "jing:静f婧f靖m晶f菁f", "min:敏f民m旻u珉m", "fang:芳f方u舫m",
    "na:娜f纳f", "xiu:秀f修m", "ying:英f颖f莹f瑛f盈f", "hua:华u桦m骅m", "hong:红f宏m虹f鸿m洪m",
    "jun:军m俊m君u峻m骏m", "yong:勇m永m咏f泳m", "jie:杰m洁f婕f捷m", "tao:涛m韬m滔m", "ming:明m铭m鸣m",
    "chao:超m朝m", "lan:兰f岚f澜f", "xia:霞f夏u侠m", "ping:平u萍f苹f", "gang:刚m钢m纲m",
    "hui:辉m慧f惠f晖m卉f", "peng:鹏m朋m", "fei:飞m菲f非u妃f", "long:龙m隆m珑f", "feng:峰m锋m枫u凤f丰m",
    "yan:燕f艳f妍f岩m彦m", "lei:磊m蕾f雷m", "yang:洋m阳m扬m", "xin:欣f鑫m新u馨f昕u",
    "yu:宇m雨f玉f瑜f羽u语f", "hao:浩m昊m皓m豪m", "zhi:志m智m芝f之u", "qiang:强m蔷f", "bin:斌m彬m滨m",
    "lin:琳f林u霖u麟m", "ting:婷f亭f庭m霆m", "qian:倩f茜f谦m", "xue:雪f学m", "mei:梅f美f媚f",
    "guo:国m果u", "dong:东m冬u栋m", "jian:建m健m剑m坚m", "zi:子u梓u紫f", "han:涵f晗f寒u",
    "rui:瑞u睿m蕊f", "chen:晨u辰m琛m宸m", "kai:凯m楷m恺m", "bo:博m波m柏m", "tian:天m甜f田u",
    "xuan:轩m萱f宣u璇f", "yi:怡f一u艺f毅m依f仪f", "shu:淑f舒u书u", "qing:青u清u晴f庆m", "hai:海m",
    "wen:文u雯f", "jia:佳u嘉u家m", "xiao:晓u筱f", "shan:珊f杉u山m", "zhen:珍f振m真u",
)


def _parse_groups() -> tuple[dict[str, str], dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    pinyin_of: dict[str, str] = {}
    group_of: dict[str, tuple[str, ...]] = {}
    by_gender: dict[str, list[str]] = {"m": [], "f": []}
    for group in _GIVEN_GROUPS:
        py, chars = group.split(":")
        members = tuple(chars[i] for i in range(0, len(chars), 2))
        for i in range(0, len(chars), 2):
            ch, g = chars[i], chars[i + 1]
            pinyin_of[ch] = py
            group_of[ch] = members
            for gender in ("m", "f"):
                if g in (gender, "u"):
                    by_gender[gender].append(ch)
    return pinyin_of, group_of, {k: tuple(v) for k, v in by_gender.items()}


GIVEN_PINYIN, GIVEN_HOMOPHONES, GIVEN_BY_GENDER = _parse_groups()
SURNAME_PINYIN: dict[str, str] = {s: p for s, p, _ in SURNAMES}

# Simplified -> traditional for the characters the lists use (a customer typing on a Hong Kong/Taiwan keyboard).
_TRAD_PAIRS = (
    "张張陈陳刘劉杨楊黄黃赵趙吴吳孙孫马馬郑鄭罗羅谢謝韩韓冯馮邓鄧许許叶葉苏蘇吕呂蒋蔣伟偉丽麗静靜军軍华華"
    "强強艳艷杰傑涛濤兰蘭红紅刚剛辉輝鹏鵬飞飛龙龍凤鳳国國东東庆慶宁寧广廣区區门門号號颖穎莹瑩鸿鴻骏駿韬韜"
    "铭銘鸣鳴岚嵐澜瀾侠俠钢鋼纲綱晖暉锋鋒枫楓丰豐扬揚阳陽语語蔷薔滨濱谦謙学學栋棟剑劍坚堅凯凱恺愷书書轩軒"
    "艺藝仪儀纳納桦樺骅驊咏詠洁潔长長汉漢园園湾灣兴興单單楼樓浅淺师師范範凤鳳宝寶乐樂万萬云雲里裏台臺"
)
TRADITIONAL: dict[str, str] = {_TRAD_PAIRS[i]: _TRAD_PAIRS[i + 1] for i in range(0, len(_TRAD_PAIRS), 2)}

# (province, city, district, GB/T 2260 region code, landline area code)
REGIONS: tuple[tuple[str, str, str, str, str], ...] = (
    ("北京市", "北京市", "朝阳区", "110105", "010"), ("北京市", "北京市", "海淀区", "110108", "010"),
    ("北京市", "北京市", "东城区", "110101", "010"), ("上海市", "上海市", "浦东新区", "310115", "021"),
    ("上海市", "上海市", "徐汇区", "310104", "021"), ("上海市", "上海市", "静安区", "310106", "021"),
    ("广东省", "广州市", "天河区", "440106", "020"), ("广东省", "广州市", "越秀区", "440104", "020"),
    ("广东省", "深圳市", "南山区", "440305", "0755"), ("广东省", "深圳市", "福田区", "440304", "0755"),
    ("浙江省", "杭州市", "西湖区", "330106", "0571"), ("浙江省", "宁波市", "鄞州区", "330212", "0574"),
    ("江苏省", "南京市", "鼓楼区", "320106", "025"), ("江苏省", "苏州市", "姑苏区", "320508", "0512"),
    ("四川省", "成都市", "武侯区", "510107", "028"), ("湖北省", "武汉市", "洪山区", "420111", "027"),
    ("山东省", "济南市", "历下区", "370102", "0531"), ("山东省", "青岛市", "市南区", "370202", "0532"),
    ("天津市", "天津市", "和平区", "120101", "022"), ("重庆市", "重庆市", "渝中区", "500103", "023"),
    ("陕西省", "西安市", "雁塔区", "610113", "029"), ("河南省", "郑州市", "金水区", "410105", "0371"),
    ("湖南省", "长沙市", "岳麓区", "430104", "0731"), ("福建省", "厦门市", "思明区", "350203", "0592"),
    ("福建省", "福州市", "鼓楼区", "350102", "0591"), ("辽宁省", "沈阳市", "和平区", "210102", "024"),
    ("安徽省", "合肥市", "蜀山区", "340104", "0551"), ("河北省", "石家庄市", "长安区", "130102", "0311"),
)
# Region draw weights: big cities dominate a consumer brand's customer base.
REGION_WEIGHTS: tuple[float, ...] = (
    5, 5, 3, 6, 4, 3, 5, 3, 6, 4, 5, 2, 3, 3, 4, 3, 2, 2, 2, 3, 2, 2, 2, 2, 1, 2, 2, 1,
)

ROADS = (
    "中山路", "人民路", "解放路", "建设路", "和平路", "新华路", "长江路", "黄河路", "文化路", "胜利路",
    "学府路", "科技路", "南京路", "淮海中路", "建国路", "滨江大道", "花园街", "青年路", "幸福路", "光明街",
)
COMMUNITIES = ("阳光花园", "锦绣家园", "翠湖苑", "金色华庭", "幸福里", "绿地小区", "万科城", "碧桂园", "东方名苑", "")

# Mainland mobile number segments of the three carriers plus virtual operators.
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
    "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182", "183", "184",
    "185", "186", "187", "188", "189", "191", "193", "195", "196", "197", "198", "199",
)
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "gmail.com", "outlook.com", "foxmail.com", "139.com")
# Issuer prefixes (BINs) of large mainland banks' debit cards.
BANK_BINS = ("622202", "621700", "622848", "621483", "622588", "621226", "623668", "622262")
HOTLINES = ("400-820-8820", "400-610-1688", "95588", "95533", "95555", "10086", "400 888 9999")
