"""Names, sexes, birth dates and valid E.164 phone numbers for simulated patients."""

from __future__ import annotations

import math

import numpy as np

RU_FEMALE_FIRST = [
    "Anna",
    "Elena",
    "Olga",
    "Tatiana",
    "Natalia",
    "Irina",
    "Svetlana",
    "Maria",
    "Ekaterina",
    "Yulia",
    "Anastasia",
    "Daria",
    "Ksenia",
    "Victoria",
    "Alina",
    "Polina",
    "Sofia",
    "Valeria",
    "Marina",
    "Galina",
]
RU_MALE_FIRST = [
    "Alexander",
    "Dmitry",
    "Sergey",
    "Andrey",
    "Alexey",
    "Maxim",
    "Ivan",
    "Mikhail",
    "Pavel",
    "Nikolai",
    "Artem",
    "Denis",
    "Roman",
    "Igor",
    "Oleg",
    "Vladimir",
    "Yuri",
    "Kirill",
    "Egor",
    "Anton",
]
RU_LAST = [
    "Ivanov",
    "Smirnov",
    "Kuznetsov",
    "Popov",
    "Vasiliev",
    "Petrov",
    "Sokolov",
    "Mikhailov",
    "Novikov",
    "Fedorov",
    "Morozov",
    "Volkov",
    "Alekseev",
    "Lebedev",
    "Semenov",
    "Egorov",
    "Pavlov",
    "Kozlov",
    "Stepanov",
    "Nikolaev",
    "Orlov",
    "Andreev",
    "Makarov",
    "Nikitin",
    "Zakharov",
    "Zaitsev",
    "Soloviev",
    "Borisov",
    "Yakovlev",
    "Grigoriev",
]
CN_FEMALE_FIRST = ["Mei", "Li", "Fang", "Jing", "Ying", "Xiu", "Hui", "Yan", "Ling", "Xia", "Na", "Juan"]
CN_MALE_FIRST = ["Wei", "Qiang", "Lei", "Jun", "Yong", "Jie", "Tao", "Ming", "Chao", "Hao", "Bo", "Gang"]
CN_LAST = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma"]

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


def last_name(base: str, female: bool, country: str) -> str:
    if country == "RU" and female:
        return base + "a"
    return base
