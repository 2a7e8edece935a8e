import logging


class NeutraliseNewlinesFilter(logging.Filter):
    """Log injection guard: CR/LF in user-controlled strings cannot forge a new log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "\n" in message or "\r" in message:
            record.msg = message.replace("\r", "\\r").replace("\n", "\\n")
            record.args = None
        return True
