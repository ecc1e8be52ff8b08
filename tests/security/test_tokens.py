"""The token lifecycle over GraphQL: issued once, listed without secrets, last use kept,
revoked for good; every step a ledger entry signed for the token that made it."""

from __future__ import annotations

import json

from ropa.api.ids import to_global_id
from ropa.services import ledger_queries
from ropa.services.access import SYSTEM_PRINCIPAL
from ropa.services.runtime import Runtime
from ropa.services.tokens import hash_token
from tests.api.conftest import GraphQLClient
from tests.conftest import Org

CREATE = """mutation($input: CreateTokenInput!) {
  createToken(input: $input) { secret token { id name role expiresAt active } receipt { seq } }
}"""
REVOKE = """mutation($id: ID!) {
  revokeToken(input: {id: $id}) { token { revokedAt active } receipt { seq } }
}"""
LIST = """query($s: String!) {
  organization(slug: $s) { tokens { id name role createdAt revokedAt lastUsedAt active } }
}"""


def test_a_token_is_issued_once_listed_without_its_secret_used_and_revoked(
    gql: GraphQLClient, rt: Runtime, org: Org
) -> None:
    dpo = org.tokens["DPO"]
    made = gql(CREATE, {"input": {"role": "VIEWER", "name": "dashboard",
                                  "expiresAt": "2099-01-01T00:00:00Z"}}, dpo)["data"]["createToken"]
    secret, token = made["secret"], made["token"]
    assert secret.startswith("ropa_")
    assert token["role"] == "VIEWER"
    assert token["active"] is True
    assert token["expiresAt"].startswith("2099-01-01")

    listed = gql(LIST, {"s": org.slug}, dpo)
    mine = next(t for t in listed["data"]["organization"]["tokens"] if t["id"] == token["id"])
    assert mine["lastUsedAt"] is None
    assert secret not in json.dumps(listed)
    assert hash_token(secret) not in json.dumps(listed)

    assert gql(LIST.replace("tokens { id", "name tokens { id"), {"s": org.slug}, secret,
               expect_errors=True)["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    used = gql(LIST, {"s": org.slug}, dpo)["data"]["organization"]["tokens"]
    assert next(t for t in used if t["id"] == token["id"])["lastUsedAt"] is not None

    revoked = gql(REVOKE, {"id": token["id"]}, dpo)["data"]["revokeToken"]
    assert revoked["token"]["active"] is False
    assert revoked["token"]["revokedAt"] is not None
    after = gql.http.post("/graphql", json={"query": "{ __typename }"},
                          headers={"Authorization": f"Bearer {secret}"})
    assert after.status_code == 401

    # both changes are in the ledger, made by the DPO's token, with the hash and never the secret
    entries = ledger_queries.entries(rt, SYSTEM_PRINCIPAL, org.id, 500, None)
    mine_entries = [e for e in entries if to_global_id("ApiToken", e.entity_id) == token["id"]]
    assert [e.op for e in mine_entries] == ["createToken", "revokeToken"]
    dpo_id = org.as_role("DPO").actor.id
    assert all(e.actor == {"id": dpo_id, "role": "DPO"} for e in mine_entries)
    assert mine_entries[0].seq == made["receipt"]["seq"]
    assert all(secret not in e.canonical for e in mine_entries)
    assert mine_entries[0].after is not None
    assert mine_entries[0].after["tokenHash"] == hash_token(secret)


def test_only_admin_issues_or_revokes_admin_tokens_and_for_any_organisation(
    gql: GraphQLClient, org: Org, other_org: Org
) -> None:
    refused = gql(CREATE, {"input": {"role": "ADMIN", "name": "x"}}, org.tokens["DPO"],
                  expect_errors=True)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    admin_token = to_global_id("ApiToken", org.as_role("ADMIN").actor.id)
    refused = gql(REVOKE, {"id": admin_token}, org.tokens["DPO"], expect_errors=True)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    theirs = to_global_id("Organization", other_org.id)
    made = gql(CREATE, {"input": {"role": "DPO", "name": "theirs", "organizationId": theirs}},
               org.tokens["ADMIN"])["data"]["createToken"]
    whoami = gql('{ organization(slug: "globex") { name } }', token=made["secret"])
    assert whoami["data"]["organization"]["name"] == "Globex"
    assert gql('{ organization(slug: "acme") { name } }', token=made["secret"],
               expect_errors=True)["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_a_token_cannot_be_issued_already_expired(gql: GraphQLClient, org: Org) -> None:
    body = gql(CREATE, {"input": {"role": "VIEWER", "name": "x",
                                  "expiresAt": "2020-01-01T00:00:00Z"}},
               org.tokens["DPO"], expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["fields"][0]["field"] == "expiresAt"
