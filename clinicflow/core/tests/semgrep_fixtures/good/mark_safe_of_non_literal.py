from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe


def show(note: str) -> str:
    arrow = mark_safe("&rarr;")
    return format_html("<b>{}</b> {}", note, arrow) + escape(note)
