# ruff: noqa: UP031, UP032 - the string building this rule must catch
from django.utils.html import format_html


def show(name: str, html: str) -> str:
    a = format_html(f"<b>{name}</b>")  # ruleid
    b = format_html("<b>%s</b>" % name)  # ruleid
    c = format_html("<b>{}</b>".format(name))  # ruleid
    d = format_html(html)  # ruleid
    return a + b + c + d
