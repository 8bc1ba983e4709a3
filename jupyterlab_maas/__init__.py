"""jupyterlab-maas: governed LLM access from JupyterLab through the MaaS gateway."""

try:
    from ._version import __version__
except ImportError:  # pragma: no cover - running from a source tree that was never built
    __version__ = "dev"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyterlab-maas"}]


def _jupyter_server_extension_points():
    return [{"module": "jupyterlab_maas"}]


def _load_jupyter_server_extension(server_app):
    """Obtain this server's key and register the extension's handlers."""
    from .extension import MaaSExtension
    from .handlers import setup_handlers
    from .jupyter_ai import configure_jupyter_ai

    extension = MaaSExtension(
        parent=server_app, log=server_app.log, kernel_manager=server_app.kernel_manager
    )
    server_app.web_app.settings["maas_extension"] = extension
    if server_app.kernel_manager is not None:  # each kernel its own key: spend per notebook
        from .kernels import KernelKeys

        extension.kernel_keys = KernelKeys(
            extension, server_app.kernel_manager, server_app.root_dir, server_app.log
        )
        extension.kernel_keys.install()
        terminal_manager = server_app.web_app.settings.get("terminal_manager")
        if terminal_manager is not None:  # and each terminal: spend per terminal
            from .terminals import TerminalKeys

            extension.terminal_keys = TerminalKeys(extension.kernel_keys, terminal_manager)
            extension.terminal_keys.install()
    extension.start()
    configure_jupyter_ai(server_app, extension)  # if installed: its models from the catalog
    setup_handlers(server_app.web_app)
