"""Words the synthetic county is made of: place names, personal names, banks and register values.

Every character here is in GBK, because the messy variant writes registers in GBK as the county
systems do; ``tests/generator`` checks that.
"""

from __future__ import annotations

COUNTY_NAME = "商州区"
COUNTY_AREA_CODE = "611002"
PROVINCE_NAME = "陕西省"
CITY_NAME = "商洛市"

# Township names: the real towns of 商州 first, then plausible names of the same shape, so that a
# county of any size from 8 to 20 towns can be drawn from one list.
TOWN_NAMES = (
    "大荆镇",
    "沙河子镇",
    "杨峪河镇",
    "金陵寺镇",
    "黑山镇",
    "杨斜镇",
    "麻街镇",
    "牧护关镇",
    "腰市镇",
    "板桥镇",
    "北宽坪镇",
    "三岔河镇",
    "闫村镇",
    "夜村镇",
    "大赵峪镇",
    "陈塬镇",
    "刘湾镇",
    "砚池河镇",
    "孝义镇",
    "上官坊镇",
)

# Village names are a first character and a landform or settlement word, as in 东坪村, 王家沟村.
VILLAGE_FIRST_CHARACTERS = (
    "东西南北上下前后大小中新老王李张刘杨陈何赵石柳桃杏青红白黑马牛龙凤金银高"
    "黄胡郭孙周吴郑冯田宋韩罗梁宁安和兴平丰太长永庙寺"
)
VILLAGE_SECOND_PARTS = (
    "坪",
    "沟",
    "河",
    "湾",
    "岭",
    "庄",
    "峪",
    "坡",
    "塬",
    "川",
    "台",
    "营",
    "店",
    "寨",
    "园",
    "山",
    "洼",
    "岔",
    "口",
    "家沟",
    "家坪",
    "家湾",
    "家庄",
    "家河",
)

# Common surnames, most frequent first; weights fall off with rank so that 王, 李, 张, 刘 dominate.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严武戴莫孔向汤"
)
GIVEN_CHARACTERS_MALE = (
    "建国军平明强伟勇杰涛斌辉刚波峰磊鹏超华林成文海东志宏新福贵财生有来顺发宝全忠德义春龙虎山"
    "振兴安利民良根亮浩宇轩博子豪俊凯晨睿泽航阳"
)
GIVEN_CHARACTERS_FEMALE = "秀英兰芳玲娟霞梅丽燕红艳敏静琴花珍凤莲桂菊萍云娥翠巧香雪婷欣怡悦佳琪雨涵萱诗梦瑶妍欢倩娜丹慧"

# Relation codes index this tuple; the order is the one FORMATS.md lists.
RELATIONS = (
    "户主",
    "配偶",
    "之子",
    "之女",
    "之父",
    "之母",
    "之孙子",
    "之孙女",
    "之儿媳",
    "之女婿",
    "之兄弟姐妹",
    "其他",
)
RELATION_HEAD, RELATION_SPOUSE, RELATION_SON, RELATION_DAUGHTER = 0, 1, 2, 3
RELATION_FATHER, RELATION_MOTHER, RELATION_GRANDSON, RELATION_GRANDDAUGHTER = 4, 5, 6, 7
RELATION_DAUGHTER_IN_LAW, RELATION_SON_IN_LAW, RELATION_SIBLING, RELATION_OTHER = 8, 9, 10, 11

SEXES = ("男", "女")
SEX_MALE, SEX_FEMALE = 0, 1

SCHOOL_STAGES = ("", "学前教育", "小学", "初中", "普通高中", "中职", "高职", "本科及以上")
HEALTH_STATES = ("健康", "长期慢性病", "患有大病", "残疾")

HOUSEHOLD_TYPES = ("一般贫困户", "低保贫困户", "特困供养贫困户", "一般农户")
HOUSEHOLD_TYPE_ORDINARY_POOR, HOUSEHOLD_TYPE_DIBAO, HOUSEHOLD_TYPE_TEKUN, HOUSEHOLD_TYPE_MONITORED = (
    0,
    1,
    2,
    3,
)
# Realistic shares of the four types in a 2026 register: most households are 一般贫困户, about a
# quarter 低保, one in twenty 特困供养, and a few ordinary farmers kept under watch (监测对象).
HOUSEHOLD_TYPE_WEIGHTS = (0.67, 0.25, 0.05, 0.03)

POVERTY_STATUSES = ("未脱贫", "已脱贫", "返贫", "监测对象")
STATUS_NOT_EXITED, STATUS_EXITED, STATUS_RELAPSED, STATUS_MONITORED = 0, 1, 2, 3

# Banks of the "one card" with a bank identification number of the shape each bank issues
# 19-digit debit cards under; the weights follow rural practice, where the credit cooperative
# and the agricultural bank hold most benefit cards.
BANK_NAMES = ("农村信用合作社", "中国农业银行", "中国邮政储蓄银行", "中国建设银行")
BANK_CARD_PREFIXES = ("621449", "622848", "621799", "621700")
BANK_WEIGHTS = (0.45, 0.25, 0.20, 0.10)
# Passbook (存折) account numbers of the credit cooperative: a branch prefix and a serial, not a
# Luhn number.
PASSBOOK_PREFIX = "2706"
