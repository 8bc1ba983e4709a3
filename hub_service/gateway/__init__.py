"""The LiteLLM gateway: its configuration (from the catalog) and our auth/usage plugin."""
