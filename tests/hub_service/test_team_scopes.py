"""Who administers which team, from the scopes the hub lists for a caller."""

from __future__ import annotations

import pytest

from hub_service.teams import administered


@pytest.mark.parametrize(
    "model, teams",
    [
        ({"kind": "user", "scopes": ["self"]}, set()),
        ({"kind": "user", "scopes": ["custom:maas:team-admin!group=cs101"]}, {"cs101"}),
        (
            {
                "kind": "user",
                "scopes": [
                    "custom:maas:team-admin!group=cs101",
                    "custom:maas:team-admin!group=cs102",
                    "read:users!group=cs103",  # another scope's filter grants no team
                    "custom:maas:team-admin!user=alice",  # a filter of another kind
                ],
            },
            {"cs101", "cs102"},
        ),
        # unfiltered: every team; so for MaaS admins
        ({"kind": "user", "scopes": ["custom:maas:team-admin"]}, None),
        ({"kind": "user", "scopes": ["custom:maas:admin"]}, None),
        # a service's token is nobody's team admin, whatever it holds
        ({"kind": "service", "scopes": ["custom:maas:team-admin"]}, set()),
    ],
)
def test_the_team_admin_scope_and_its_group_filters_decide(model, teams):
    assert administered(model) == teams
