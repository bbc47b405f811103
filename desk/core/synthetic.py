"""Realistic synthetic visitors for demos, tests and benchmarks: Zhangye ID numbers, Chinese and minority names."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文"
COMPOUND_SURNAMES = ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "令狐"]
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国红梅志春生海燕晓东文斌鹏辉宇浩亮琴云峰霞雪梅凤秀兰德福玉珍"
# Yugur, Tibetan, Hui and Uyghur names as people write them, with the middle dot.
MINORITY = [
    "阿依古丽·买买提",
    "才让·多杰",
    "卓玛·拉姆",
    "安玉·索朗",
    "扎西·次仁",
    "马·阿卜杜拉",
    "古丽娜·热合曼",
    "巴特尔·苏和",
]
RARE = ["𠮷祥", "𠮷庆华"]  # a surname outside the BMP
REGIONS = ["620702", "620721", "620722", "620723", "620724", "620725"]
REGION_WEIGHTS = [40, 6, 14, 10, 12, 10]
VILLAGES = [
    "甘州区东街街道",
    "甘州区梁家墩镇",
    "民乐县洪水镇",
    "临泽县沙河镇",
    "高台县城关镇",
    "山丹县清泉镇",
    "肃南县红湾寺镇",
]
NARRATIVES = {
    "marriage_family": "因家庭赡养问题与子女发生争执，要求协调赡养费。",
    "neighbour": "邻居在院墙外堆放杂物占用通道，多次沟通未果。",
    "housing_homestead": "宅基地边界与邻户存在争议，双方各执一词。",
    "contract": "签订农产品购销合同后对方拖欠货款。",
    "production_business": "合伙经营养殖场，利润分配发生纠纷。",
    "damages": "对方饲养的牛只毁坏本人玉米地，要求赔偿损失。",
    "forest_land": "土地承包经营权流转到期后对方拒不退还。",
    "land_requisition": "对征地补偿标准有异议，要求说明依据。",
    "pollution": "附近养殖场气味和污水影响生活。",
    "labour": "在建筑工地务工，工程结束后被拖欠工资。",
    "medical": "在医院治疗后出现并发症，对治疗过程有异议。",
    "traffic": "电动车与小轿车发生剐蹭，就赔偿金额协商不成。",
    "property_management": "小区物业收费后未履行保洁维修义务。",
    "consumer": "购买的农机具存在质量问题，商家拒绝退换。",
    "irrigation": "春灌轮次安排引发争执，下游农户浇不上水。",
    "grassland": "草场围栏界限不清，相邻牧户发生放牧纠纷。",
    "other": "其他矛盾纠纷，请求中心协调处理。",
}
CATEGORY_WEIGHTS = {
    "marriage_family": 14,
    "neighbour": 16,
    "housing_homestead": 8,
    "contract": 7,
    "production_business": 3,
    "damages": 8,
    "forest_land": 9,
    "land_requisition": 3,
    "pollution": 2,
    "labour": 10,
    "medical": 2,
    "traffic": 6,
    "property_management": 4,
    "consumer": 3,
    "irrigation": 6,
    "grassland": 3,
    "other": 4,
}
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_char(body17: str) -> str:
    total = sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def make_id_number(rng: random.Random, *, born: dt.date | None = None, region: str | None = None) -> str:
    region = region or rng.choices(REGIONS, REGION_WEIGHTS)[0]
    if born is None:
        born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 66))
    body = f"{region}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return body + id_check_char(body)


def make_name(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.03:
        return rng.choice(MINORITY)
    if r < 0.032:
        return rng.choice(RARE)
    surname = rng.choice(COMPOUND_SURNAMES) if r < 0.05 else rng.choice(SURNAMES)
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def make_phone(rng: random.Random) -> str:
    return rng.choice(["139", "138", "136", "151", "177", "189", "187"]) + f"{rng.randrange(0, 10**8):08d}"


def make_visit(rng: random.Random, *, categories: dict[str, str]) -> dict[str, Any]:
    """A visit in `desk register` JSON shape; `categories` maps catalog code to name."""
    code = rng.choices(list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()))[0]
    headcount = rng.choices([1, 2, 3, 6, 12], [70, 15, 8, 5, 2])[0]
    parties: list[dict[str, Any]] = [
        {
            "role": "applicant",
            "name": make_name(rng),
            "id_number": make_id_number(rng),
            "phone": make_phone(rng),
            "address": rng.choice(VILLAGES) + f"{rng.randrange(1, 30)}号",
        },
    ]
    if rng.random() < 0.8:
        parties.append(
            {
                "role": "respondent",
                "name": make_name(rng),
                "id_number": make_id_number(rng) if rng.random() < 0.5 else "",
                "phone": make_phone(rng),
            }
        )
    flags = []
    if rng.random() < 0.02:
        flags.append("psychological_crisis")
    if rng.random() < 0.02:
        flags.append("civil_to_criminal")
    return {
        "category": categories.get(code, code),
        "channel": "walk_in",
        "headcount": headcount,
        "narrative": NARRATIVES[code],
        "parties": parties,
        "risk_flags": flags,
    }
