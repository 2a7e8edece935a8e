"""Built-in message texts for every kind, in English, Russian and Simplified Chinese.

Per kind and language: ``sms`` (short text), ``subject`` and ``body`` (the e-mail; paragraphs are
separated by a blank line and become <p> in the HTML part) and ``action`` (the label of the
button that links to ``manage_url``/``survey_url`` in the HTML part). Placeholders are
``{name}`` (see docs/messaging.md); ``{clinic}`` and ``{patient_name}`` are always available.
"""

from __future__ import annotations

LANGUAGES = ("en", "ru", "zh-hans")

BUILTIN: dict[str, dict[str, dict[str, str]]] = {
    "appointment_confirmation": {
        "en": {
            "sms": "{clinic}: you are booked for {service} on {start_local} with {doctor}, {branch}. "
            "Manage: {manage_url}",
            "subject": "Your appointment on {start_local} is confirmed",
            "body": "Dear {patient_name},\n\nyour appointment is confirmed: {service} with {doctor} "
            "on {start_local} at {branch}.\n\nThe calendar file is attached. To change or cancel "
            "the appointment, use the link below.\n\n{clinic}",
            "action": "Manage my appointment",
        },
        "ru": {
            "sms": "{clinic}: вы записаны на {service} {start_local}, врач {doctor}, {branch}. "
            "Управление записью: {manage_url}",
            "subject": "Ваша запись на {start_local} подтверждена",
            "body": "Здравствуйте, {patient_name}!\n\nВаша запись подтверждена: {service}, врач {doctor}, "
            "{start_local}, {branch}.\n\nФайл для календаря во вложении. Чтобы перенести или "
            "отменить запись, воспользуйтесь ссылкой ниже.\n\n{clinic}",
            "action": "Управлять записью",
        },
        "zh-hans": {
            "sms": "{clinic}：您已预约{start_local}的{service}，医生{doctor}，{branch}。"
            "管理预约：{manage_url}",
            "subject": "您{start_local}的预约已确认",
            "body": "{patient_name}，您好！\n\n您的预约已确认：{service}，医生{doctor}，时间{start_local}，"
            "地点{branch}。\n\n日历文件见附件。如需改期或取消，请使用下方链接。\n\n{clinic}",
            "action": "管理我的预约",
        },
    },
    "appointment_changed": {
        "en": {
            "sms": "{clinic}: your appointment has moved to {start_local}: {service} with {doctor}, "
            "{branch}. Manage: {manage_url}",
            "subject": "Your appointment has changed: {start_local}",
            "body": "Dear {patient_name},\n\nyour appointment has changed. New time: {start_local}, "
            "{service} with {doctor} at {branch}.\n\nThe updated calendar file is attached.\n\n{clinic}",
            "action": "Manage my appointment",
        },
        "ru": {
            "sms": "{clinic}: ваша запись перенесена на {start_local}: {service}, врач {doctor}, {branch}. "
            "Управление: {manage_url}",
            "subject": "Ваша запись изменена: {start_local}",
            "body": "Здравствуйте, {patient_name}!\n\nВаша запись изменена. Новое время: {start_local}, "
            "{service}, врач {doctor}, {branch}.\n\nОбновлённый файл для календаря во вложении.\n\n{clinic}",
            "action": "Управлять записью",
        },
        "zh-hans": {
            "sms": "{clinic}：您的预约已改至{start_local}：{service}，医生{doctor}，{branch}。"
            "管理预约：{manage_url}",
            "subject": "您的预约已变更：{start_local}",
            "body": "{patient_name}，您好！\n\n您的预约已变更。新时间：{start_local}，"
            "{service}，医生{doctor}，地点{branch}。\n\n更新后的日历文件见附件。\n\n{clinic}",
            "action": "管理我的预约",
        },
    },
    "appointment_cancelled": {
        "en": {
            "sms": "{clinic}: your appointment for {service} on {start_local} is cancelled. "
            "Book again: {manage_url}",
            "subject": "Your appointment on {start_local} is cancelled",
            "body": "Dear {patient_name},\n\nyour appointment for {service} on {start_local} at {branch} "
            "has been cancelled.\n\nYou are welcome to book another time.\n\n{clinic}",
            "action": "Book again",
        },
        "ru": {
            "sms": "{clinic}: ваша запись на {service} {start_local} отменена. "
            "Записаться снова: {manage_url}",
            "subject": "Ваша запись на {start_local} отменена",
            "body": "Здравствуйте, {patient_name}!\n\nВаша запись на {service} {start_local}, {branch}, "
            "отменена.\n\nБудем рады видеть вас в другое время.\n\n{clinic}",
            "action": "Записаться снова",
        },
        "zh-hans": {
            "sms": "{clinic}：您{start_local}的{service}预约已取消。重新预约：{manage_url}",
            "subject": "您{start_local}的预约已取消",
            "body": "{patient_name}，您好！\n\n您在{branch}、{start_local}的{service}预约已取消。"
            "\n\n欢迎您另约时间。\n\n{clinic}",
            "action": "重新预约",
        },
    },
    "appointment_reminder": {
        "en": {
            "sms": "{clinic}: reminder — {service} on {start_local} with {doctor}, {branch}. "
            "Manage: {manage_url}",
            "subject": "Reminder: your appointment on {start_local}",
            "body": "Dear {patient_name},\n\nthis is a reminder of your appointment: {service} with {doctor} "
            "on {start_local} at {branch}.\n\nIf you cannot come, please let us know using the link "
            "below.\n\n{clinic}",
            "action": "Manage my appointment",
        },
        "ru": {
            "sms": "{clinic}: напоминаем о записи — {service} {start_local}, врач {doctor}, {branch}. "
            "Управление: {manage_url}",
            "subject": "Напоминание: ваша запись {start_local}",
            "body": "Здравствуйте, {patient_name}!\n\nНапоминаем о вашей записи: {service}, врач {doctor}, "
            "{start_local}, {branch}.\n\nЕсли не сможете прийти, пожалуйста, сообщите нам по ссылке "
            "ниже.\n\n{clinic}",
            "action": "Управлять записью",
        },
        "zh-hans": {
            "sms": "{clinic}：提醒您{start_local}有{service}预约，医生{doctor}，{branch}。"
            "管理预约：{manage_url}",
            "subject": "提醒：您{start_local}的预约",
            "body": "{patient_name}，您好！\n\n提醒您的预约：{service}，医生{doctor}，时间{start_local}，"
            "地点{branch}。\n\n如无法到诊，请通过下方链接告知我们。\n\n{clinic}",
            "action": "管理我的预约",
        },
    },
    "booking_code": {
        "en": {
            "sms": "{clinic}: your booking code is {code}. Do not share it with anyone.",
            "subject": "Your booking code: {code}",
            "body": "Your booking code is {code}.\n\nIt is valid for a few minutes. Do not share it with "
            "anyone.\n\n{clinic}",
            "action": "",
        },
        "ru": {
            "sms": "{clinic}: ваш код для записи {code}. Никому его не сообщайте.",
            "subject": "Ваш код для записи: {code}",
            "body": "Ваш код для записи: {code}.\n\nОн действует несколько минут. Никому его не "
            "сообщайте.\n\n{clinic}",
            "action": "",
        },
        "zh-hans": {
            "sms": "{clinic}：您的预约验证码为{code}，请勿告诉他人。",
            "subject": "您的预约验证码：{code}",
            "body": "您的预约验证码为{code}。\n\n验证码几分钟内有效，请勿告诉他人。\n\n{clinic}",
            "action": "",
        },
    },
    "thank_you": {
        "en": {
            "sms": "{clinic}: thank you for your visit, {patient_name}! We hope to see you again.",
            "subject": "Thank you for your visit",
            "body": "Dear {patient_name},\n\nthank you for visiting us for {service}. If you have any "
            "questions after the procedure, simply reply to this e-mail or call us.\n\n{clinic}",
            "action": "",
        },
        "ru": {
            "sms": "{clinic}: спасибо за визит, {patient_name}! Будем рады видеть вас снова.",
            "subject": "Спасибо за визит",
            "body": "Здравствуйте, {patient_name}!\n\nСпасибо, что выбрали нас ({service}). Если после "
            "процедуры появятся вопросы, ответьте на это письмо или позвоните нам.\n\n{clinic}",
            "action": "",
        },
        "zh-hans": {
            "sms": "{clinic}：{patient_name}，感谢您的光临！期待再次为您服务。",
            "subject": "感谢您的光临",
            "body": "{patient_name}，您好！\n\n感谢您来我院接受{service}。术后如有任何疑问，请直接回复本邮件"
            "或致电我们。\n\n{clinic}",
            "action": "",
        },
    },
    "recall": {
        "en": {
            "sms": "{clinic}: {patient_name}, it is time for your next {service}. Book: {manage_url}",
            "subject": "Time for your next visit",
            "body": "Dear {patient_name},\n\nit has been a while since your last visit. It is a good time "
            "for your next {service}.\n\nChoose a convenient time using the link below.\n\n{clinic}",
            "action": "Book a visit",
        },
        "ru": {
            "sms": "{clinic}: {patient_name}, пора на следующую процедуру «{service}». Запись: {manage_url}",
            "subject": "Пора на следующий визит",
            "body": "Здравствуйте, {patient_name}!\n\nС вашего последнего визита прошло время — самое время "
            "для следующей процедуры «{service}».\n\nВыберите удобное время по ссылке ниже.\n\n{clinic}",
            "action": "Записаться",
        },
        "zh-hans": {
            "sms": "{clinic}：{patient_name}，您的下一次{service}时间到了。预约：{manage_url}",
            "subject": "是时候再次到访了",
            "body": "{patient_name}，您好！\n\n距离您上次到访已有一段时间，现在正适合进行下一次{service}。"
            "\n\n请通过下方链接选择方便的时间。\n\n{clinic}",
            "action": "立即预约",
        },
    },
    "survey": {
        "en": {
            "sms": "{clinic}: how was your visit? Please rate us: {survey_url}",
            "subject": "How was your visit?",
            "body": "Dear {patient_name},\n\nwe would be grateful if you told us how your visit went. "
            "The survey takes one minute.\n\n{clinic}",
            "action": "Take the survey",
        },
        "ru": {
            "sms": "{clinic}: как прошёл ваш визит? Оцените нас: {survey_url}",
            "subject": "Как прошёл ваш визит?",
            "body": "Здравствуйте, {patient_name}!\n\nБудем благодарны, если вы расскажете, как прошёл ваш "
            "визит. Опрос займёт одну минуту.\n\n{clinic}",
            "action": "Пройти опрос",
        },
        "zh-hans": {
            "sms": "{clinic}：您对本次就诊满意吗？请为我们评分：{survey_url}",
            "subject": "您对本次就诊满意吗？",
            "body": "{patient_name}，您好！\n\n如能告诉我们您本次就诊的感受，我们将不胜感激。问卷只需一分钟。"
            "\n\n{clinic}",
            "action": "填写问卷",
        },
    },
    "marketing": {
        "en": {
            "sms": "{clinic}: {headline} {text} {manage_url}",
            "subject": "{headline}",
            "body": "Dear {patient_name},\n\n{text}\n\nYou receive this because you agreed to news from "
            "{clinic}. To unsubscribe, reply to this e-mail.",
            "action": "Learn more",
        },
        "ru": {
            "sms": "{clinic}: {headline} {text} {manage_url}",
            "subject": "{headline}",
            "body": "Здравствуйте, {patient_name}!\n\n{text}\n\nВы получили это письмо, так как согласились "
            "получать новости {clinic}. Чтобы отписаться, ответьте на это письмо.",
            "action": "Подробнее",
        },
        "zh-hans": {
            "sms": "{clinic}：{headline}{text}{manage_url}",
            "subject": "{headline}",
            "body": "{patient_name}，您好！\n\n{text}\n\n您收到本邮件是因为您同意接收{clinic}的资讯。"
            "如需退订，请回复本邮件。",
            "action": "了解详情",
        },
    },
    "quote": {
        "en": {
            "sms": "{clinic}: your quote for {total} is ready (valid until {valid_until}). It was sent by "
            "e-mail.",
            "subject": "Your quote from {clinic}",
            "body": "Dear {patient_name},\n\nthank you for your consultation with {doctor}. Your quote for "
            "{total} is attached; it is valid until {valid_until}.\n\nTo book the treatment, reply to this "
            "e-mail or call us.\n\n{clinic}",
            "action": "View the quote",
        },
        "ru": {
            "sms": "{clinic}: ваше предложение на {total} готово (действует до {valid_until}). "
            "Оно отправлено по e-mail.",
            "subject": "Ваше предложение от {clinic}",
            "body": "Здравствуйте, {patient_name}!\n\nСпасибо за консультацию у врача {doctor}. "
            "Предложение на сумму {total} во вложении; оно действует до {valid_until}.\n\n"
            "Чтобы записаться на лечение, ответьте на это письмо или позвоните нам.\n\n{clinic}",
            "action": "Открыть предложение",
        },
        "zh-hans": {
            "sms": "{clinic}：您的报价{total}已备好（有效期至{valid_until}），已通过电子邮件发送。",
            "subject": "{clinic}给您的报价",
            "body": "{patient_name}，您好！\n\n感谢您接受{doctor}医生的咨询。报价{total}见附件，有效期至"
            "{valid_until}。\n\n如需预约治疗，请回复本邮件或致电我们。\n\n{clinic}",
            "action": "查看报价",
        },
    },
    # to staff (``messaging.staff``): the owner's alerts; {patient_name} is the staff member's name
    "owner_alert": {
        "en": {
            "sms": "{clinic}: {metric} of {who} was {value} over {period}; {reference}.",
            "subject": "{clinic}: alert on {metric} ({who})",
            "body": "Dear {patient_name},\n\n{metric} of {who} was {value} over {period}; {reference}."
            "\n\nThe alerts page shows the details; mark the alert seen or dismiss it there.\n\n{clinic}",
            "action": "Open the alerts",
        },
        "ru": {
            "sms": "{clinic}: показатель «{metric}» ({who}) за {period}: {value}; {reference}.",
            "subject": "{clinic}: сигнал по показателю «{metric}» ({who})",
            "body": "Здравствуйте, {patient_name}!\n\nПоказатель «{metric}» ({who}) за {period} составил "
            "{value}; {reference}.\n\nПодробности — на странице сигналов; там же сигнал можно отметить "
            "просмотренным или скрыть.\n\n{clinic}",
            "action": "Открыть сигналы",
        },
        "zh-hans": {
            "sms": "{clinic}：{who}的{metric}在{period}为{value}；{reference}。",
            "subject": "{clinic}：{metric}预警（{who}）",
            "body": "{patient_name}，您好！\n\n{who}的{metric}在{period}为{value}；{reference}。\n\n"
            "详情请见预警页面，您可以在那里将预警标记为已读或忽略。\n\n{clinic}",
            "action": "查看预警",
        },
    },
}
