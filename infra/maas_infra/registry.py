"""Where the images go: one ECR repository per image (scan on push, AES256, keep the
last 10 images), or an existing registry."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

# Image tags beginning with this are BuildKit's registry cache, not images to run.
CACHE_TAG = "buildcache"


def lifecycle_policy(keep: int = 10) -> str:
    """Keep the newest ``keep`` images; the build cache has a rule of its own so that
    it is neither counted among them nor expired by them."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": "Keep the build cache",
                    "selection": {
                        "tagStatus": "tagged",
                        "tagPrefixList": [CACHE_TAG],
                        "countType": "imageCountMoreThan",
                        "countNumber": 1,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"Keep the last {keep} images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": keep,
                    },
                    "action": {"type": "expire"},
                },
            ]
        }
    )


@dataclass
class RegistryArgs:
    app_name: str
    images: list[str]
    tags: dict[str, str] = field(default_factory=dict)
    # an existing registry (host/path): no ECR repositories then
    existing: str | None = None
    username: str | None = None
    password: pulumi.Input[str] | None = None


class Registry(pulumi.ComponentResource):
    """The repositories of ``args.images`` and the credentials to push to them."""

    urls: dict[str, pulumi.Output[str]]
    server: pulumi.Output[str]
    username: pulumi.Output[str] | None
    password: pulumi.Output[str] | None

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("maas:registry:Registry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.urls = {}
        if args.existing:
            base = args.existing.rstrip("/")
            self.urls = {
                image: pulumi.Output.from_input(f"{base}/{image}") for image in args.images
            }
            self.server = pulumi.Output.from_input(base.split("/")[0])
            self.username = pulumi.Output.from_input(args.username) if args.username else None
            self.password = pulumi.Output.secret(args.password) if args.password else None
        else:
            repos = {}
            for image in args.images:
                repo = aws.ecr.Repository(
                    f"{name}-{image}",
                    name=f"{args.app_name}/{image}",
                    image_scanning_configuration={"scan_on_push": True},
                    encryption_configurations=[{"encryption_type": "AES256"}],
                    image_tag_mutability="MUTABLE",
                    tags=args.tags,
                    opts=child,
                )
                aws.ecr.LifecyclePolicy(
                    f"{name}-{image}-lifecycle",
                    repository=repo.name,
                    policy=lifecycle_policy(),
                    opts=child,
                )
                repos[image] = repo
                self.urls[image] = repo.repository_url
            first = next(iter(repos.values()))
            token = aws.ecr.get_authorization_token_output(registry_id=first.registry_id)
            self.server = first.repository_url.apply(lambda url: url.split("/")[0])
            self.username = token.user_name
            self.password = pulumi.Output.secret(token.password)
        self.register_outputs({"urls": self.urls, "server": self.server})
