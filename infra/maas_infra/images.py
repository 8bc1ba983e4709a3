"""The three images, built with BuildKit (docker-build provider) for linux/amd64 and
pushed with a registry build cache: the hub (z2jh's hub plus our hooks), the MaaS
service and gateway (one image, two commands) and the users' notebooks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker_build as docker_build

from .registry import CACHE_TAG

# image name -> its Dockerfile, relative to the repository (the build context): one
# Dockerfile for all three, whose target is the image (they share its wheel stage)
DOCKERFILES = dict.fromkeys(["hub", "maas", "notebook"], "images/Dockerfile")


@dataclass
class ImagesArgs:
    context: Path
    urls: dict[str, pulumi.Input[str]]
    server: pulumi.Input[str]
    stack: str
    revision: str
    username: pulumi.Input[str] | None = None
    password: pulumi.Input[str] | None = None


class Images(pulumi.ComponentResource):
    """``refs[name]``: the pushed image as ``repository:tag@digest`` (a Deployment that
    runs it changes whenever the image does); ``digests[name]`` its digest."""

    refs: dict[str, pulumi.Output[str]]
    digests: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: ImagesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("maas:images:Images", name, None, opts)
        registries = [
            docker_build.RegistryArgs(
                address=args.server, username=args.username, password=args.password
            )
        ]
        self.refs, self.digests = {}, {}
        for image, dockerfile in DOCKERFILES.items():
            url = pulumi.Output.from_input(args.urls[image])
            built = docker_build.Image(
                f"{name}-{image}",
                context=docker_build.BuildContextArgs(location=str(args.context)),
                dockerfile=docker_build.DockerfileArgs(location=str(args.context / dockerfile)),
                target=image,
                platforms=[docker_build.Platform.LINUX_AMD64],
                push=True,
                tags=[
                    url.apply(lambda u: f"{u}:{args.stack}"),
                    url.apply(lambda u: f"{u}:{args.stack}-{args.revision}"),
                ],
                labels={
                    "org.opencontainers.image.revision": args.revision,
                    "org.opencontainers.image.source": "jupyterlab-maas",
                },
                cache_from=[
                    docker_build.CacheFromArgs(
                        registry=docker_build.CacheFromRegistryArgs(
                            ref=url.apply(lambda u: f"{u}:{CACHE_TAG}")
                        )
                    )
                ],
                cache_to=[
                    docker_build.CacheToArgs(
                        registry=docker_build.CacheToRegistryArgs(
                            ref=url.apply(lambda u: f"{u}:{CACHE_TAG}"),
                            mode=docker_build.CacheMode.MAX,
                            # what ECR needs to store a cache
                            image_manifest=True,
                            oci_media_types=True,
                        )
                    )
                ],
                registries=registries,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.refs[image] = built.ref
            self.digests[image] = built.digest
        self.register_outputs({"refs": self.refs, "digests": self.digests})
