"""The gateway's log filters, on real records as LiteLLM and uvicorn log them: a
failure is one line, and no request text can start a line of its own."""

from __future__ import annotations

import io
import logging

from uvicorn.logging import AccessFormatter

from hub_service.gateway.logs import Escaped, OneLine

FORGED = "13:37:00 - LiteLLM Proxy:ERROR: FORGED admin key sk-leaked"


def output(name: str, filter_: logging.Filter, formatter: logging.Formatter, emit) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.addFilter(filter_)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
        logger.removeFilter(filter_)
    return stream.getvalue()


def test_litellm_warnings_are_one_line_without_traceback_or_forged_lines():
    def emit(logger):
        try:
            raise ValueError("boom")
        except ValueError:
            logger.warning("image %s could not be fetched\nmore detail", f"http://x/\n{FORGED}")
        logger.error("litellm.proxy_server.chat_completion(): Exception occured - %s", "x")
        logger.info("fetching %s", f"http://x/\n{FORGED}")

    text = output("LiteLLM-test", OneLine(), logging.Formatter("%(message)s"), emit)
    lines = text.splitlines()
    assert len(lines) == 2, lines  # the per-request exception line is dropped
    assert lines[0] == "image http://x/\\n" + FORGED + " could not be fetched"
    assert "Traceback" not in text and not any(line.startswith(FORGED) for line in lines)
    assert lines[1] == "fetching http://x/\\n" + FORGED


def test_uvicorn_access_lines_keep_their_format_and_escape_the_path():
    def emit(logger):
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/x\n{FORGED}", "1.1", 403)

    formatter = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s')
    text = output("uvicorn.access-test", Escaped(), formatter, emit)
    assert text.count("\n") == 1 and "/x\\n" + FORGED in text and " 403" in text


def test_uvicorn_errors_keep_their_traceback():
    def emit(logger):
        try:
            raise RuntimeError("bug")
        except RuntimeError:
            logger.exception("Exception in ASGI application %s", "/p\nq")

    text = output("uvicorn.error-test", Escaped(), logging.Formatter("%(message)s"), emit)
    assert text.startswith("Exception in ASGI application /p\\nq\n") and "RuntimeError: bug" in text
