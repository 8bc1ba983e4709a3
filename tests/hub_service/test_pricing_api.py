"""The admin API's price calculator (``admin/pricing``): its input is checked by the
field specifications the OpenAPI document is derived from, and its figures are
``hub_service.pricing``'s, not a second copy of the seed method's rule. (Through a real hub,
as an admin and as a user, in tests/stack/test_portal_admin.py.)"""

from __future__ import annotations

import pytest

from hub_service import pricing
from hub_service.admin import seed_quote
from hub_service.openapi import openapi_document
from hub_service.routes import API_ROUTES
from hub_service.validation import SEED_PRICING_FIELDS, Invalid, validate
from hub_service.web import APIError

TABLE = pricing.load_instance_prices()


def quote(body: dict) -> dict:
    return seed_quote(validate(body, SEED_PRICING_FIELDS), TABLE)


@pytest.mark.parametrize(
    "instance, total, input_, output",
    [("g5.2xlarge", 9.62, 2.40, 7.22), ("g5.4xlarge", 12.89, 3.22, 9.67)],
)
def test_an_instance_and_a_throughput_give_the_seeds_worked_examples(
    instance, total, input_, output
):
    q = quote({"instance": instance, "tokens_per_second": 35})
    assert (q["total_per_million"], q["input_per_million"], q["output_per_million"]) == (
        total,
        input_,
        output,
    )
    assert q["hourly"] == TABLE["instances"][instance]["hourly"]
    assert q["input_cost_per_token"] == pytest.approx(input_ / 1e6)
    assert q["output_cost_per_token"] == pytest.approx(output / 1e6)
    assert q["spot_factor"] is None


def test_spot_and_an_hourly_price_are_what_the_pricing_module_says():
    q = quote({"hourly": 1.212, "tokens_per_second": 35, "spot": True})
    p = pricing.seed_prices(1.212, 35, spot_factor=TABLE["spot_factor"])
    assert q["spot_factor"] == TABLE["spot_factor"]
    assert (q["input_per_million"], q["output_per_million"]) == (
        float(p.input_per_million),
        float(p.output_per_million),
    )
    assert (q["input_cost_per_token"], q["output_cost_per_token"]) == (
        p.input_cost_per_token,
        p.output_cost_per_token,
    )


@pytest.mark.parametrize(
    "body, sentence",
    [
        ({"instance": "g5.2xlarge"}, "Missing required fields: tokens_per_second"),
        ({"instance": "p9.huge", "tokens_per_second": 35}, "instance must be one of: g5.xlarge"),
        ({"hourly": 0, "tokens_per_second": 35}, "hourly must be a number above 0"),
        ({"hourly": 1, "tokens_per_second": float("nan")}, "tokens_per_second must be a number"),
        ({"hourly": 1, "tokens_per_second": "35"}, "tokens_per_second must be a number"),
        ({"hourly": 1, "tokens_per_second": 35, "spot": "yes"}, "spot must be true or false"),
        ({"hourly": 1, "tokens_per_second": 35, "share": 0.5}, "Unknown fields ['share']"),
    ],
)
def test_bad_input_is_refused_with_a_sentence(body, sentence):
    with pytest.raises(Invalid, match=sentence.replace("[", r"\[").replace("]", r"\]")):
        validate(body, SEED_PRICING_FIELDS)


@pytest.mark.parametrize(
    "body",
    [{"tokens_per_second": 35}, {"instance": "g5.xlarge", "hourly": 1, "tokens_per_second": 35}],
)
def test_exactly_one_of_instance_and_hourly(body):
    with pytest.raises(APIError) as e:
        quote(body)
    assert e.value.status_code == 400 and "either instance" in e.value.message


def test_figures_beyond_what_prices_hold_are_refused_with_a_sentence():
    with pytest.raises(APIError) as e:
        quote({"hourly": 1e300, "tokens_per_second": 1e-300})
    assert e.value.status_code == 400 and "out of range" in e.value.message


def test_the_document_takes_the_calculators_fields_and_the_tables_instances():
    doc = openapi_document("/services/maas/", API_ROUTES)
    body = doc["components"]["schemas"]["SeedPricing"]
    assert set(body["properties"]) == set(SEED_PRICING_FIELDS)
    assert body["required"] == ["tokens_per_second"]
    assert body["properties"]["instance"]["enum"] == list(TABLE["instances"])
    operations = doc["paths"]["/admin/pricing"]
    assert set(operations) == {"get", "post"}
    assert operations["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SeedPricing"
    }
