"""The gateway's log: one line per event, and nothing a request carries can forge one.

LiteLLM logs each failed request with a traceback and a paragraph. Our usage logger
writes one line per failure (which model, whose request, why), so LiteLLM's own
per-request exception lines are dropped and its other warnings and errors cut to their
first line; every line of LiteLLM's and uvicorn's is escaped onto one line (a model
name or an image URL with a newline in it stays on its line). ``LITELLM_LOG=DEBUG``
keeps LiteLLM's lines whole.
"""

from __future__ import annotations

import logging
import os


def _escaped(text: str) -> str:
    """``text`` on one line: CR, LF and other control characters written as escapes, so
    that nothing a request carries can forge a log line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _formatted(record: logging.LogRecord) -> str:
    """The record's message with its arguments escaped first (so that a newline inside
    an argument does not end the line)."""
    args = record.args
    if isinstance(args, tuple) and args:
        try:
            return str(record.msg) % tuple(_escaped(a) if isinstance(a, str) else a for a in args)
        except (TypeError, ValueError):
            pass
    return record.getMessage()


class OneLine(logging.Filter):
    """LiteLLM's lines: per-request exception lines dropped, warnings and errors cut to
    their first line without a traceback, every line escaped."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = _formatted(record).strip()
        if record.levelno >= logging.WARNING:
            first = message.splitlines()
            if first and "(): Exception occured" in first[0]:
                return False  # a request's failure: our usage logger's line says it
            message = first[0] if first else ""
            record.exc_info = record.exc_text = record.stack_info = None
        record.msg, record.args = _escaped(message), ()
        return True


class Escaped(logging.Filter):
    """uvicorn's lines (request paths among them): their text escaped, in place (its
    access log formats its own arguments), tracebacks kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _escaped(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_escaped(a) if isinstance(a, str) else a for a in record.args)
        return True


LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Proxy", "LiteLLM Router")
UVICORN_LOGGERS = ("uvicorn.access", "uvicorn.error")


def install_log_filters() -> None:
    if os.environ.get("LITELLM_LOG", "").upper() != "DEBUG":
        for name in LITELLM_LOGGERS:
            logging.getLogger(name).addFilter(OneLine())
    for name in UVICORN_LOGGERS:
        logging.getLogger(name).addFilter(Escaped())
