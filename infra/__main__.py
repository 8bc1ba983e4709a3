"""jupyterlab-maas on Kubernetes: `pulumi up` in this directory (see the README's
"Deploy on Kubernetes")."""

import pulumi
from maas_infra import config, program

for name, value in program.run(config.load()).items():
    pulumi.export(name, value)
