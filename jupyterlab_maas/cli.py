"""``maas-key``: print this terminal's (or server's) current MaaS key, for tools that
ask a command for their key each time (Claude Code's ``apiKeyHelper``) and for scripts.

A terminal's environment is fixed when it opens, so its ``OPENAI_API_KEY`` and
``ANTHROPIC_AUTH_TOKEN`` stay as they were if the server's key is replaced meanwhile;
this command asks the running server (``GET jupyterlab-maas/key``, with the server's
own hub token, which the terminal has) for the key it holds now for this terminal
(``MAAS_TERMINAL``), or for the server.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

from .handlers import NAMESPACE

USAGE = "Run maas-key in a terminal of your JupyterLab server on the hub."


def current_key(timeout: float = 10.0) -> str:
    """The key the server holds now; ``SystemExit`` with a sentence if there is none."""
    server = os.environ.get("JUPYTERHUB_SERVICE_URL")
    token = os.environ.get("JUPYTERHUB_API_TOKEN")
    if not server or not token or not server.startswith(("http://", "https://")):
        raise SystemExit(f"maas-key: this is not a JupyterHub server's environment. {USAGE}")
    url = server.rstrip("/") + f"/{NAMESPACE}/key"
    terminal = os.environ.get("MAAS_TERMINAL")  # a terminal's own key, if it has one
    if terminal:
        url += "?" + urllib.parse.urlencode({"terminal": terminal})
    request = urllib.request.Request(  # noqa: S310 - the hub's http(s) URL of this server
        url, headers={"Authorization": f"token {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return json.load(response)["key"]
    except urllib.error.HTTPError as e:
        try:
            message = json.load(e).get("message") or e.reason
        except ValueError:
            message = e.reason
        raise SystemExit(f"maas-key: the server has no key to give ({e.code}): {message}") from None
    except (urllib.error.URLError, OSError) as e:
        raise SystemExit(
            f"maas-key: the server at {server} did not answer ({e}). {USAGE}"
        ) from None


def main() -> None:
    if len(sys.argv) > 1:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        raise SystemExit(2 if sys.argv[1] not in ("-h", "--help") else 0)
    print(current_key())


if __name__ == "__main__":
    main()
