"""The Pulumi program's components, one per module: registry, images, database,
service, gateway, jupyterhub; ``program.run`` wires them together."""
