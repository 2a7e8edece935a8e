"""Names, sexes, birth dates and valid E.164 phone numbers for simulated patients."""

from __future__ import annotations

import math

import numpy as np

RU_FEMALE_FIRST = [
    "Анна",
    "Елена",
    "Ольга",
    "Татьяна",
    "Наталья",
    "Ирина",
    "Светлана",
    "Мария",
    "Екатерина",
    "Юлия",
    "Анастасия",
    "Дарья",
    "Ксения",
    "Виктория",
    "Алина",
    "Полина",
    "София",
    "Валерия",
    "Марина",
    "Галина",
]
RU_MALE_FIRST = [
    "Александр",
    "Дмитрий",
    "Сергей",
    "Андрей",
    "Алексей",
    "Максим",
    "Иван",
    "Михаил",
    "Павел",
    "Николай",
    "Артём",
    "Денис",
    "Роман",
    "Игорь",
    "Олег",
    "Владимир",
    "Юрий",
    "Кирилл",
    "Егор",
    "Антон",
]
RU_LAST = [
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Федоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семенов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Никитин",
    "Орлов",
    "Андреев",
    "Макаров",
    "Островский",
    "Захаров",
    "Зайцев",
    "Соловьев",
    "Вишневский",
    "Яковлев",
    "Черных",
]
CN_FEMALE_FIRST = ["美", "丽", "芳", "静", "颖", "秀英", "慧", "艳", "玲", "霞", "娜", "娟"]
CN_MALE_FIRST = ["伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "浩", "波", "刚"]
CN_LAST = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马"]

# Mobile number plans: country code, national prefixes, digits after the prefix.
RU_PREFIXES = [str(p) for p in range(900, 1000) if p != 930]
CN_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "170",
    "171",
    "173",
    "175",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "193",
    "195",
    "196",
    "197",
    "198",
    "199",
]
PLANS = {"RU": ("+7", RU_PREFIXES, 7), "CN": ("+86", CN_PREFIXES, 8)}
NAMES = {
    "RU": (RU_FEMALE_FIRST, RU_MALE_FIRST, RU_LAST),
    "CN": (CN_FEMALE_FIRST, CN_MALE_FIRST, CN_LAST),
}


class PhoneSpace:
    """Unique mobile numbers: the i-th number is an affine bijection of i over the number space."""

    def __init__(self, country: str, rng: np.random.Generator) -> None:
        self.cc, self.prefixes, self.digits = PLANS[country]
        self.block = 10**self.digits
        self.size = len(self.prefixes) * self.block
        mult = 7_919_993
        while math.gcd(mult, self.size) != 1:
            mult += 2
        self.mult = mult
        self.offset = int(rng.integers(0, self.size))
        self.next = 0

    def take(self, n: int) -> np.ndarray:
        i = np.arange(self.next, self.next + n, dtype=np.int64)
        self.next += n
        out: np.ndarray = (i * self.mult + self.offset) % self.size
        return out

    def format(self, values: np.ndarray) -> list[str]:
        pre = self.prefixes
        block = self.block
        fmt = f"{{}}{{}}{{:0{self.digits}d}}"
        cc = self.cc
        return [fmt.format(cc, pre[v // block], v % block) for v in values.tolist()]


def female_names(country: str) -> tuple[list[str], list[str], list[str]]:
    return NAMES[country]


def feminine_surname(base: str) -> str:
    """A Russian surname's feminine form: -ов/-ев/-ин/-ын take -а (Иванов → Иванова), -ский/-цкий and
    -ой/-ый take -ая (Вишневский → Вишневская); others (Черных, Шевченко) do not change."""
    if base.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return base + "а"
    if base.endswith(("ий", "ый", "ой")):
        return base[:-2] + "ая"
    return base


def last_name(base: str, female: bool, country: str) -> str:
    if country == "RU" and female:
        return feminine_surname(base)
    return base


RU_LAST_FEMALE = [feminine_surname(x) for x in RU_LAST]
# per country: the surnames of women, in the order of the surnames of men
FEMALE_LAST = {"RU": RU_LAST_FEMALE, "CN": CN_LAST}
