from django.utils.safestring import SafeString, mark_safe


def show(note: str) -> str:
    first = mark_safe(note)  # ruleid
    second = mark_safe(f"<b>{note}</b>")  # ruleid
    return first + SafeString(note) + second  # ruleid
