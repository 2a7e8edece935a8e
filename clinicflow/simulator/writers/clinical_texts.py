"""Words of the simulated clinical records, in the clinic's language (en, ru, zh-hans): consent
forms, consultation checklists, the expectation in words, reasons to decline, products with their
lot prefixes, complications."""

from __future__ import annotations

from typing import Any

LANGS = ("en", "ru", "zh-hans")


def lang_of(language: str) -> str:
    return language if language in LANGS else "en"


CONSENT_TITLE = {
    "en": "Informed consent: {group}",
    "ru": "Информированное добровольное согласие: {group}",
    "zh-hans": "知情同意书：{group}",
}
CONSENT_BODY = {
    "en": (
        "I, {patient}, have been told about the procedure, its expected result, the risks, the "
        "alternatives and the recovery time. I had the chance to ask questions and I agree to the "
        "procedure."
    ),
    "ru": (
        "Я, {patient}, получил(а) информацию о процедуре, ожидаемом результате, рисках, "
        "альтернативах и сроках восстановления. Мне дали возможность задать вопросы, и я согласен "
        "(согласна) на процедуру."
    ),
    "zh-hans": (
        "本人{patient}已了解该项目的过程、预期效果、风险、替代方案及恢复时间，"
        "已有机会提问，并同意接受该项目。"
    ),
}
CONTRAINDICATIONS = {
    "en": ["Pregnancy or breastfeeding", "Active infection in the area", "Blood thinners", "Allergies"],
    "ru": ["Беременность или кормление грудью", "Воспаление в зоне", "Антикоагулянты", "Аллергии"],
    "zh-hans": ["妊娠或哺乳期", "治疗部位感染", "服用抗凝药物", "过敏史"],
}
RISKS = {
    "en": ["Bruising and swelling", "Asymmetry", "Result below expectation"],
    "ru": ["Синяки и отёк", "Асимметрия", "Результат ниже ожиданий"],
    "zh-hans": ["淤青和肿胀", "不对称", "效果低于预期"],
}
# the expectation in words by the 0-10 number: 0-3, 4-5, 6-7, 8, 9-10
EXPECTATION_WORDS = {
    "en": ["A subtle refresh", "A visible but natural change", "A clear improvement", "A big change",
           "To look completely different"],
    "ru": ["Лёгкое освежение", "Заметно, но естественно", "Явное улучшение", "Большие перемены",
           "Выглядеть совсем по-другому"],
    "zh-hans": ["轻微改善", "自然可见的变化", "明显改善", "很大的变化", "完全变样"],
}  # fmt: skip
DECLINE_REASONS = {
    "en": ["Price", "Wants to think it over", "Afraid of the procedure", "Timing"],
    "ru": ["Цена", "Хочет подумать", "Боится процедуры", "Неудобно по времени"],
    "zh-hans": ["价格", "想再考虑", "害怕治疗", "时间不合适"],
}
FOLLOW_ON_NOTE = {
    "en": "Added after the course by the doctor's recommendation.",
    "ru": "Добавлено после курса по рекомендации врача.",
    "zh-hans": "疗程结束后根据医生建议追加。",
}
COMPLICATION = {
    "en": {
        "mild": ("Bruising and swelling beyond the usual", "Cold compresses, arnica gel"),
        "moderate": ("Nodule at the injection site", "Massage, follow-up visit"),
        "severe": ("Vascular occlusion signs", "Hyaluronidase, referred to a specialist"),
    },
    "ru": {
        "mild": ("Синяки и отёк сильнее обычного", "Холодные компрессы, гель с арникой"),
        "moderate": ("Уплотнение в месте инъекции", "Массаж, контрольный визит"),
        "severe": ("Признаки окклюзии сосуда", "Гиалуронидаза, направлен(а) к специалисту"),
    },
    "zh-hans": {
        "mild": ("淤青和肿胀超过常见程度", "冷敷，山金车凝胶"),
        "moderate": ("注射部位结节", "按摩，复诊"),
        "severe": ("血管栓塞征象", "透明质酸酶，转诊专科"),
    },
}
# per service category: (drug or device, manufacturer, lot prefix, unit, amount low/high in hundredths)
PRODUCTS: dict[str, tuple[str, str, str, str, int, int]] = {
    "botulinum": ("Botox 100 U", "Allergan", "C", "U", 2000, 6000),
    "fillers": ("Juvederm Voluma", "Allergan", "VB", "ml", 100, 200),
    "injectables": ("Profhilo", "IBSA", "PF", "ml", 200, 200),
    "peels": ("PRX-T33", "WiQo", "PRX", "ml", 100, 200),
    "surgery": ("Lidocaine 2%", "Sopharma", "LD", "ml", 500, 1000),
    "dental": ("Ultracaine D-S", "Sanofi", "UD", "ml", 170, 340),
}


def words(table: dict[str, Any], language: str) -> Any:
    return table[lang_of(language)]
