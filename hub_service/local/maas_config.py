# MaaSService configuration of the local demo (loaded with --config).
import json
import os

from hub_service.local import LocalSettings, smollm2_catalog_entry

c = get_config()  # noqa: F821 - provided by traitlets

settings = LocalSettings.from_env()
c.MaaSService.db_url = settings.db_url
c.MaaSService.gateway_url = settings.gateway_url
c.MaaSService.seed_models = [smollm2_catalog_entry(settings)] + json.loads(
    os.environ.get("MAAS_LOCAL_EXTRA_MODELS", "[]")
)
if os.environ.get("MAAS_LOCAL_PROFILES"):
    c.MaaSService.seed_profiles = json.loads(os.environ["MAAS_LOCAL_PROFILES"])
c.MaaSService.group_sync_interval = float(os.environ.get("MAAS_LOCAL_GROUP_SYNC_INTERVAL", "10"))
if os.environ.get("MAAS_LOCAL_SERVER_KEY_LIFETIME"):
    c.MaaSService.server_key_lifetime = int(os.environ["MAAS_LOCAL_SERVER_KEY_LIFETIME"])
