from django.utils.html import format_html, format_html_join


def show(name: str, rows: list[tuple[str]]) -> str:
    return format_html("<b>{}</b>", name) + format_html_join("", "<li>{}</li>", rows)
