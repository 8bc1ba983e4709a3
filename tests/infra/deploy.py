"""Run the Pulumi program (infra/) against Pulumi's mock engine and keep every resource
it registers, with its inputs, and the stack's outputs.

Mocked, because they cannot run here: the Pulumi engine and CLI, AWS (ECR and its
authorization token, S3, IAM), the Kubernetes API and Docker/BuildKit. The mocks answer
as the providers would (an ECR URL for a repository, a digest for a pushed image, a
bucket's name, an address for a load balancer); everything else is the program's own,
unchanged.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pulumi

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
if str(INFRA) not in sys.path:
    sys.path.insert(0, str(INFRA))

ACCOUNT = "123456789012"
DIGEST = "sha256:" + "5" * 64
ECR_PASSWORD = "fake-ecr-authorization-token-0001"
LOAD_BALANCER = "k8s-maas-abcdef.elb.us-east-1.amazonaws.com"
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # how Pulumi marks a secret value


# What a stack's admin keeps secret; none of it may appear outside a Kubernetes Secret.
SECRETS = {
    "backendKeys": {"OPENAI_API_KEY": "sk-fake-openai-0001", "ANTHROPIC": "fake-anthropic-0001"},
    "hubSecretEnv": {"OAUTH_CLIENT_SECRET": "fake-oauth-client-secret-0001"},
}
CONFIG = {
    "adminUsers": ["alice", "bob"],
    "teams": ["cs101", "cs102"],
    "gitRevision": "0123456789ab",
    "hubConfig": {
        "JupyterHub": {"authenticator_class": "github"},
        "GitHubOAuthenticator": {"allowed_organizations": ["example-org"]},
    },
}


def random_result(name: str) -> str:
    return f"fake-random-{name}-0001"


def unwrap(value):
    """``value`` with Pulumi's secret wrappers removed."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) and "value" in value:
            return unwrap(value["value"])
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


@dataclass
class Resource:
    type: str
    name: str
    inputs: dict
    custom: bool
    id: str | None = None

    @property
    def plain(self) -> dict:
        return unwrap(self.inputs)

    @property
    def manifest(self) -> dict:
        """A Kubernetes resource's object as the API server would receive it."""
        return self.plain


@dataclass
class Deployment:
    resources: list[Resource]
    outputs: dict
    calls: list[str] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str) -> Resource:
        found = [r for r in self.resources if r.type == type_ and r.name == name]
        assert len(found) == 1, f"{type_} {name}: {len(found)} found"
        return found[0]

    def kubernetes(self) -> list[Resource]:
        """The Kubernetes objects the program creates (not Helm releases, not reads)."""
        return [
            r
            for r in self.resources
            if r.type.startswith("kubernetes:") and r.custom and not r.id and "helm" not in r.type
        ]

    def hub_values(self) -> dict:
        return self.one("kubernetes:helm.sh/v3:Release", "jupyterhub-release").plain["values"]


class Recorder(pulumi.runtime.Mocks):
    def __init__(self):
        self.resources: list[Resource] = []
        self.calls: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        state = dict(args.inputs)
        typ = args.typ
        if typ == "random:index/randomPassword:RandomPassword":
            state["result"] = random_result(args.name)
        elif typ == "aws:ecr/repository:Repository":
            state["repositoryUrl"] = (
                f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/{args.inputs['name']}"
            )
            state["registryId"] = ACCOUNT
        elif typ == "aws:s3/bucket:Bucket":
            state["bucket"] = args.inputs.get("bucket") or f"{args.inputs['bucketPrefix']}0001"
            state["arn"] = f"arn:aws:s3:::{state['bucket']}"
        elif typ == "aws:iam/policy:Policy":
            state["arn"] = f"arn:aws:iam::{ACCOUNT}:policy/{args.name}"
        elif typ == "docker-build:index:Image":
            state["digest"] = DIGEST
            state["ref"] = f"{args.inputs['tags'][0]}@{DIGEST}"
        elif typ == "kubernetes:core/v1:Service" and (
            args.resource_id or (args.inputs.get("spec") or {}).get("type") == "LoadBalancer"
        ):
            state["status"] = {"loadBalancer": {"ingress": [{"hostname": LOAD_BALANCER}]}}
        self.resources.append(
            Resource(typ, args.name, args.inputs, bool(args.custom), args.resource_id or None)
        )
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs):
        self.calls.append(args.token)
        if args.token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {
                "userName": "AWS",
                "password": ECR_PASSWORD,
                "authorizationToken": "unused",
                "proxyEndpoint": f"https://{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com",
                "expiresAt": "2026-11-27T00:00:00Z",
                "id": "us-east-1",
                "registryId": ACCOUNT,
            }
        return {}


def deploy(config: dict | None = None, secrets: dict | None = None, stack="test") -> Deployment:
    """``pulumi up`` of infra/ with ``config`` and secret ``secrets`` (``maas:`` keys
    without their namespace; objects as JSON), against the mocks."""
    from maas_infra import config as settings
    from maas_infra import program

    values = {**(config or {}), **(secrets or {})}
    pulumi.runtime.set_all_config(
        {
            f"maas:{key}": value if isinstance(value, str) else json.dumps(value)
            for key, value in values.items()
        },
        secret_keys=[f"maas:{key}" for key in secrets or {}],
    )
    # Pulumi's mocks run on the thread's current event loop, which an asyncio.run() in
    # an earlier test of the same session (any suite's) leaves unset
    try:
        asyncio.get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project="maas", stack=stack, preview=False)
    outputs: dict = {}

    @pulumi.runtime.test
    def up():
        return pulumi.Output.all(**program.run(settings.load())).apply(outputs.update)

    up()
    return Deployment(recorder.resources, unwrap(outputs), recorder.calls)


def helm_merge(defaults, values):
    """Helm's merge of user values over a chart's defaults: maps merge, the rest replaces."""
    if isinstance(defaults, dict) and isinstance(values, dict):
        merged = dict(defaults)
        for key, value in values.items():
            merged[key] = helm_merge(defaults.get(key), value) if key in defaults else value
        return merged
    return values
