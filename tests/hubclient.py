"""Drive a real JupyterHub the way a browser does: form login, cookies, XSRF, kernels
over websockets through the hub's proxy."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from dataclasses import dataclass
from urllib.parse import quote

import requests
import websocket


class HubUser:
    """One person's browser session on the hub."""

    def __init__(self, hub_url: str, name: str, password: str):
        self.hub_url = hub_url.rstrip("/")
        self.name = name
        self.password = password
        self.session = requests.Session()

    # -- hub ---------------------------------------------------------------------

    def _xsrf(self) -> str:
        for cookie in self.session.cookies:
            if cookie.name == "_xsrf" and cookie.path in ("/hub/", "/hub"):
                return cookie.value
        return self.session.cookies.get("_xsrf", "")

    def login(self) -> HubUser:
        r = self.session.get(f"{self.hub_url}/hub/login")
        r.raise_for_status()
        r = self.session.post(
            f"{self.hub_url}/hub/login",
            data={"username": self.name, "password": self.password, "_xsrf": self._xsrf()},
            # A browser would follow on to /hub/spawn, which starts the default server;
            # tests start servers explicitly.
            allow_redirects=False,
        )
        assert r.status_code == 302, (r.status_code, r.text[:200])
        if "jupyterhub-session-id" not in self.session.cookies and not any(
            c.name.startswith("jupyterhub-hub-login") for c in self.session.cookies
        ):
            raise AssertionError(f"login of {self.name} failed: {r.status_code} {r.url}")
        return self

    def hub_api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        headers["X-XSRFToken"] = self._xsrf()
        return self.session.request(
            method, f"{self.hub_url}/hub/api/{path.lstrip('/')}", headers=headers, **kwargs
        )

    def create_token(self, note: str = "tests", scopes: list[str] | None = None) -> str:
        body: dict = {"note": note, "expires_in": 3600}
        if scopes is not None:
            body["scopes"] = scopes
        r = self.hub_api("POST", f"users/{self.name}/tokens", json=body)
        r.raise_for_status()
        return r.json()["token"]

    def start_server(self, timeout: float = 180, **user_options) -> None:
        r = self.hub_api("POST", f"users/{self.name}/server", json=user_options)
        assert r.status_code in (201, 202), (r.status_code, r.text)
        self.wait_server(ready=True, timeout=timeout)
        # Complete the single-user server's OAuth dance, as opening /user/<name>/ does.
        r = self.session.get(f"{self.hub_url}/user/{quote(self.name)}/lab")
        r.raise_for_status()

    def stop_server(self, timeout: float = 60) -> None:
        r = self.hub_api("DELETE", f"users/{self.name}/server")
        assert r.status_code in (202, 204), (r.status_code, r.text)
        self.wait_server(ready=False, timeout=timeout)

    def wait_server(self, ready: bool, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.hub_api("GET", f"users/{self.name}").json()
            server = (model.get("servers") or {}).get("")
            if ready and server and server.get("ready"):
                return
            if not ready and not server:
                return
            time.sleep(0.5)
        raise TimeoutError(f"server of {self.name} not {'ready' if ready else 'stopped'}")

    # -- the single-user server, through the proxy --------------------------------------

    def server_api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        xsrf = next(
            (c.value for c in self.session.cookies if c.name == "_xsrf" and self.name in c.path),
            self._xsrf(),
        )
        headers["X-XSRFToken"] = xsrf
        url = f"{self.hub_url}/user/{quote(self.name)}/{path.lstrip('/')}"
        return self.session.request(method, url, headers=headers, **kwargs)

    def start_kernel(self) -> str:
        r = self.server_api("POST", "api/kernels", json={"name": "python3"})
        assert r.status_code == 201, (r.status_code, r.text)
        return r.json()["id"]

    def open_notebook(self, path: str) -> str:
        """Start a kernel the way JupyterLab does for a notebook (a session); its id."""
        r = self.server_api(
            "POST",
            "api/sessions",
            json={"path": path, "name": path, "type": "notebook", "kernel": {"name": "python3"}},
        )
        assert r.status_code == 201, (r.status_code, r.text)
        return r.json()["kernel"]["id"]

    def restart_kernel(self, kernel_id: str) -> None:
        r = self.server_api("POST", f"api/kernels/{kernel_id}/restart")
        assert r.status_code == 200, (r.status_code, r.text)

    def execute(self, kernel_id: str, code: str, timeout: float = 180, results=False) -> str:
        """Run ``code`` in the kernel; return its stdout (and, with ``results``, the
        plain text of what it displays); raise on an error."""
        ws_url = self.hub_url.replace("http", "ws", 1) + (
            f"/user/{quote(self.name)}/api/kernels/{kernel_id}/channels"
        )
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.session.cookies)
        ws = websocket.create_connection(ws_url, cookie=cookie, timeout=timeout)
        try:
            msg_id = uuid.uuid4().hex
            ws.send(
                json.dumps(
                    {
                        "header": {
                            "msg_id": msg_id,
                            "username": self.name,
                            "session": uuid.uuid4().hex,
                            "msg_type": "execute_request",
                            "version": "5.3",
                        },
                        "parent_header": {},
                        "metadata": {},
                        "content": {"code": code, "silent": False, "store_history": True},
                        "channel": "shell",
                    }
                )
            )
            out: list[str] = []
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                msg = json.loads(ws.recv())
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = msg["msg_type"]
                if kind == "stream":
                    out.append(msg["content"]["text"])
                elif results and kind in ("execute_result", "display_data"):
                    out.append(msg["content"]["data"].get("text/plain", ""))
                elif kind == "error":
                    raise KernelError("\n".join(msg["content"]["traceback"]))
                elif kind == "status" and msg["content"]["execution_state"] == "idle":
                    return "".join(out)
            raise TimeoutError("cell did not finish")
        finally:
            ws.close()

    def run_in_terminal(self, command: str, timeout: float = 180) -> str:
        """Open a JupyterLab terminal (a new shell, as the Terminal launcher does), run
        ``command`` in it and return what it printed; the terminal is closed after."""
        with self.terminal(timeout) as terminal:
            return terminal.run(command)

    @contextlib.contextmanager
    def terminal(self, timeout: float = 180):
        """A JupyterLab terminal (a new shell, as the Terminal launcher does), open
        while the ``with`` lasts: ``.run(command)`` runs commands in it one after the
        other, ``.name`` is its name. It is closed after."""
        r = self.server_api("POST", "api/terminals")
        assert r.status_code == 200, (r.status_code, r.text)
        name = r.json()["name"]
        ws_url = self.hub_url.replace("http", "ws", 1) + (
            f"/user/{quote(self.name)}/terminals/websocket/{name}"
        )
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.session.cookies)
        ws = websocket.create_connection(ws_url, cookie=cookie, timeout=timeout)
        try:
            yield Terminal(name, ws, timeout)
        finally:
            ws.close()
            self.server_api("DELETE", f"api/terminals/{name}")


@dataclass
class Terminal:
    """An open JupyterLab terminal's shell (``HubUser.terminal``)."""

    name: str
    ws: websocket.WebSocket
    timeout: float

    def run(self, command: str) -> str:
        """Run ``command`` in the shell; what it printed."""
        marker = uuid.uuid4().hex
        # the marker is printed by the shell, not echoed as typed (split in two)
        self.ws.send(json.dumps(["stdin", f"{command}; echo {marker[:8]}''{marker[8:]}\r"]))
        out: list[str] = []
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            if message[0] == "stdout":
                out.append(message[1])
                text = "".join(out)
                if marker in text:
                    typed = text.rfind(f"{marker[:8]}''{marker[8:]}")
                    return text[typed + len(marker) + 2 : text.rindex(marker)]
        raise TimeoutError("the terminal's command did not finish")


class KernelError(Exception):
    """The cell raised."""
