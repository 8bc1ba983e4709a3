"""Spend per notebook: each kernel gets its own key, derived from the server's.

When a kernel starts (for a notebook, a console or a file; or on its own), the server
asks the MaaS service, with its hub token, for a key for that kernel
(``PUT users/{user}/keys/{server key}/kernels/{kernel id}`` with the notebook's path
relative to the server's root) and starts the kernel with it as ``OPENAI_API_KEY``.
The gateway takes a kernel's key as the server's key — the same user, profile,
models, budget, limits, expiry, and revocation when the server stops — and records
the kernel and its notebook's path with every request. A rename of the notebook
updates the path (so a row names the notebook as it was at the time of the call); a
kernel shut down has its key revoked.

A per-kernel key (not a label the kernel could change) keeps attribution honest and
keeps keys hashed at rest: the gateway still stores and compares only hashes. If the
service cannot be reached when a kernel starts, the kernel gets the server's key, as
before, and its requests count for the server without a notebook.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from urllib.parse import quote

from .extension import KEY_VARIABLES, MaaSServiceError

# The longest a kernel's start waits for its key before it starts with the server's.
KEY_TIMEOUT = 3.0


class KernelKeys:
    """Wraps the server's kernel manager so that each kernel starts with its own key."""

    def __init__(self, extension, kernel_manager, root_dir: str, log):
        self.extension = extension
        self.kernel_manager = kernel_manager
        self.root_dir = os.path.realpath(root_dir)
        self.log = log
        self.keys: dict[str, str] = {}  # kernel id -> its key
        self.paths: dict[str, str | None] = {}  # kernel id -> its notebook's path
        self._tasks: set[asyncio.Task] = set()

    def install(self) -> None:
        km = self.kernel_manager
        start, update_env, shutdown = km.start_kernel, km.update_env, km.shutdown_kernel

        async def start_kernel(*args, **kwargs):
            kernel_id = kwargs.get("kernel_id")
            if kernel_id is None or kernel_id not in km:  # a new kernel, not a reconnect
                kernel_id = kwargs["kernel_id"] = kernel_id or str(uuid.uuid4())
                env = kwargs.get("env")
                key = await self.obtain(kernel_id, self.notebook_path(env))
                if key is not None or env is not None:
                    # its own key, else the server's as it is now (``env`` was copied
                    # before the server's key may have been replaced meanwhile)
                    current = key or os.environ.get("OPENAI_API_KEY")
                    kwargs["env"] = {**(env or os.environ)}
                    if current:
                        kwargs["env"].update(dict.fromkeys(KEY_VARIABLES, current))
            return await start(*args, **kwargs)

        def update_kernel_env(*, kernel_id, env):
            if kernel_id in self.keys:
                if "OPENAI_API_KEY" in env:  # the server's key changed: not this kernel's
                    env = {**env, **dict.fromkeys(KEY_VARIABLES, self.keys[kernel_id])}
                if "JPY_SESSION_NAME" in env:  # its notebook was renamed or moved
                    path = self.notebook_path(env)
                    if path != self.paths.get(kernel_id):
                        self._background(self.obtain(kernel_id, path))
            return update_env(kernel_id=kernel_id, env=env)

        async def shutdown_kernel(kernel_id, *args, **kwargs):
            try:
                return await shutdown(kernel_id, *args, **kwargs)
            finally:
                self.forget(kernel_id)

        km.start_kernel, km.update_env, km.shutdown_kernel = (
            start_kernel,
            update_kernel_env,
            shutdown_kernel,
        )

    def notebook_path(self, env: dict | None) -> str | None:
        """The kernel's notebook relative to the server's root, from the environment
        jupyter_server gives a session's kernel (JPY_SESSION_NAME: its absolute path)."""
        name = (env or {}).get("JPY_SESSION_NAME")
        if not name:
            return None
        path = os.path.realpath(os.path.join(self.root_dir, name))
        if os.path.commonpath([path, self.root_dir]) != self.root_dir:
            return None  # not under the root: nothing to name it by
        return os.path.relpath(path, self.root_dir).replace(os.sep, "/")

    def _url(self, kernel_id: str) -> str | None:
        ext = self.extension
        if ext.state != "ready" or not ext.key_id:
            return None
        user = quote(ext.user, safe="")
        return (
            ext.service_url.rstrip("/")
            + f"/api/v1/users/{user}/keys/{ext.key_id}/kernels/{quote(kernel_id, safe='')}"
        )

    async def obtain(self, kernel_id: str, path: str | None) -> str | None:
        """This kernel's key (issued, or its path updated); None if the service said no
        or did not answer in time (the kernel then has the server's key)."""
        for attempt in range(2):
            used = self.extension.key_id
            try:
                answer = await self._put(kernel_id, path)
                break
            except MaaSServiceError as e:
                # 409: the server's key is no longer active (replaced, revoked): heal it
                # (unless another kernel's start did already) and ask again, so that no
                # kernel starts with a dead key
                if e.status != 409 or attempt or not await self.extension.heal(used):
                    return self._without_key(kernel_id, e)
            except Exception as e:  # noqa: BLE001 - the kernel starts anyway
                return self._without_key(kernel_id, e)
        if answer is None:
            return None
        if "key" in answer:
            self.keys[kernel_id] = answer["key"]
        self.paths[kernel_id] = path
        return self.keys.get(kernel_id)

    async def _put(self, kernel_id: str, path: str | None) -> dict | None:
        """The service's answer to this kernel's key request (None: no server key)."""
        url = self._url(kernel_id)
        if url is None:
            return None
        return await asyncio.wait_for(
            asyncio.to_thread(
                self.extension._call, url, {"notebook_path": path}, KEY_TIMEOUT, "PUT"
            ),
            KEY_TIMEOUT + 1,
        )

    def _without_key(self, kernel_id: str, e: Exception) -> str | None:
        """The key a kernel starts with when it cannot have one of its own: the one it
        had, else none (the server's)."""
        self.log.warning(
            "jupyterlab-maas: no key of its own for kernel %s (%s); it uses the server's",
            kernel_id,
            e,
        )
        return self.keys.get(kernel_id)

    async def rekey(self) -> None:
        """After the server's key was replaced (its kernels' keys died with it): new
        keys for the running kernels, for their next restart, and for the terminals
        (which ``maas-key`` gives them)."""
        for kernel_id in list(self.keys):
            self.keys.pop(kernel_id)
            key = await self.obtain(kernel_id, self.paths.get(kernel_id))
            if key is not None and kernel_id in self.kernel_manager:
                env = dict.fromkeys(KEY_VARIABLES, key)
                self.kernel_manager.update_env(kernel_id=kernel_id, env=env)

    def forget(self, kernel_id: str) -> None:
        """The kernel (or terminal) ``kernel_id`` ended: revoke its key, if it had one."""
        if self.keys.pop(kernel_id, None) is not None:
            self.paths.pop(kernel_id, None)
            self._background(self._revoke(kernel_id))

    async def _revoke(self, kernel_id: str) -> None:
        url = self._url(kernel_id)
        if url is None:
            return
        try:
            await asyncio.to_thread(self.extension._call, url, None, 10.0, "DELETE")
        except Exception as e:  # noqa: BLE001 - the server key's end revokes it anyway
            self.log.info("jupyterlab-maas: kernel %s's key not revoked now: %s", kernel_id, e)

    def _background(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
