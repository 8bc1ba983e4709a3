"""Spend per terminal: each JupyterLab terminal opens with a key of its own.

A terminal's key is a kernel's key (``kernels``) whose notebook is named ``terminal N``
after the terminal: the gateway takes it as the server's key and records ``terminal N``
with each request, so the usage views show what the agents and scripts of each
terminal spent. Its shell finds the key under the names OpenAI's and Anthropic's
clients read, and ``MAAS_TERMINAL`` (its name), with which ``maas-key`` asks the server
for that terminal's key as it is now.

jupyter_server opens a terminal synchronously, so its key cannot be asked for then
without holding up the whole server: one key is kept ready for the next terminal
(issued when the server's key is, and again each time a terminal takes it). A terminal
that finds none (the service away, too many keys) opens with the server's key, as
before. A terminal's key is revoked when the terminal ends; the server's key being
replaced replaces it (``KernelKeys.rekey``), and ``maas-key`` then prints the new one.
"""

from __future__ import annotations

import uuid

from .extension import KEY_VARIABLES


def terminal_path(name: str) -> str:
    """What usage rows and views name a terminal by."""
    return f"terminal {name}"


class TerminalKeys:
    """Wraps the server's terminal manager so that each terminal opens with its own key,
    issued through ``kernel_keys`` (whose keys, paths and renewals it shares)."""

    def __init__(self, kernel_keys, terminal_manager):
        self.kernel_keys = kernel_keys
        self.terminal_manager = terminal_manager
        self.ids: dict[str, str] = {}  # terminal name -> its key's (kernel) id
        # (key id, terminal name) of the key ready for the next terminal
        self.spare: tuple[str, str] | None = None
        self._refilling = False

    def install(self) -> None:
        tm = self.terminal_manager
        new_named_terminal, on_eof, terminate = tm.new_named_terminal, tm.on_eof, tm.terminate

        def open_terminal(**kwargs):
            name = kwargs.get("name") or self._next_name()
            env = {"MAAS_TERMINAL": name}
            key = self._take(name)
            if key is not None:
                env.update(dict.fromkeys(KEY_VARIABLES, key))
            kwargs["name"] = name
            kwargs["extra_env"] = {**(kwargs.get("extra_env") or {}), **env}
            try:
                return new_named_terminal(**kwargs)
            finally:
                self.kernel_keys._background(self.refill())

        def ended(ptywclients):
            try:
                return on_eof(ptywclients)
            finally:
                self._forget(ptywclients.term_name)

        async def terminate_terminal(name, *args, **kwargs):
            try:
                return await terminate(name, *args, **kwargs)
            finally:
                self._forget(name)

        tm.new_named_terminal, tm.on_eof, tm.terminate = open_terminal, ended, terminate_terminal

    def key_of(self, name: str | None) -> str | None:
        """The key terminal ``name`` holds now (None: it has the server's)."""
        kernel_id = self.ids.get(name or "")
        return self.kernel_keys.keys.get(kernel_id) if kernel_id else None

    def _next_name(self) -> str:
        """The name of a terminal opened without one: the one the spare key was made
        for while it is free (names are only unique labels), so that the key's first
        requests already name it; else the lowest free number, as jupyter_server's."""
        tm = self.terminal_manager
        if self.spare is not None and self.spare[1] not in tm.terminals:
            return self.spare[1]
        return tm._next_available_name()

    def _take(self, name: str) -> str | None:
        """The spare key, now terminal ``name``'s (renamed if it was made for another:
        its requests name it once the gateway has read the change)."""
        if self.spare is None:
            return None
        kernel_id, made_for = self.spare
        key = self.kernel_keys.keys.get(kernel_id)
        if key is None:  # died with a replaced server key and not renewed yet
            return None
        self.spare = None
        self.ids[name] = kernel_id
        if made_for != name:
            self.kernel_keys._background(self.kernel_keys.obtain(kernel_id, terminal_path(name)))
        return key

    async def refill(self) -> None:
        """Have a key ready for the next terminal, named after the name it will have."""
        if self._refilling or (self.spare and self.spare[0] in self.kernel_keys.keys):
            return
        self._refilling = True
        try:
            kernel_id = f"terminal-{uuid.uuid4()}"
            name = self.terminal_manager._next_available_name()
            if await self.kernel_keys.obtain(kernel_id, terminal_path(name)) is not None:
                self.spare = (kernel_id, name)
        finally:
            self._refilling = False

    def _forget(self, name: str | None) -> None:
        kernel_id = self.ids.pop(name or "", None)
        if kernel_id is not None:
            self.kernel_keys.forget(kernel_id)
