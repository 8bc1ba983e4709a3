"""The MaaS hub service: catalog, profiles, keys, budgets and usage for JupyterHub."""

from jupyterlab_maas._version import __version__

__all__ = ["__version__"]
