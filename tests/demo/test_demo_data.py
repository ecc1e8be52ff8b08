"""The demo records in ropa/demo/data: one file per organisation, modelled on its privacy policy.

These checks need no database: they hold the files to the data model (docs/data-model.md),
the Fides taxonomy, ISO 3166-1, a history that is dated and in order, and the seed policies
they paraphrase (never copy).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pycountry
import pytest
from fideslang.default_taxonomy import DEFAULT_TAXONOMY

from tests.conftest import shared_path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "ropa" / "demo" / "data"
SLUGS = ["qwasi", "qwiqi", "qualer", "webengage", "qiscus"]
# Art. 30(2): organisations whose policies describe processing on behalf of their customers.
PROCESSOR_ORGS = {"qwasi", "qwiqi", "webengage", "qiscus"}

DATA_CATEGORIES = {c.fides_key for c in DEFAULT_TAXONOMY.data_category}
DATA_SUBJECTS = {s.fides_key for s in DEFAULT_TAXONOMY.data_subject}
DATA_USES = {u.fides_key for u in DEFAULT_TAXONOMY.data_use}

ACTIVITY_FIELDS = {
    "ref", "since", "name", "description", "role", "controller", "jointControllers", "purposes",
    "dataUses", "dataSubjectCategories", "dataCategories", "specialCategories",
    "criminalOffenceData", "legalBases", "recipientCategories", "retention", "securityMeasures",
    "sources", "automatedDecisionMaking", "dpia", "systematicMonitoring", "largeScale", "owner",
    "lastReviewedAt", "noticeParaphrase", "engagements", "transfers",
}  # fmt: skip
PROCESSOR_FIELDS = {
    "ref", "since", "name", "legalName", "services", "country", "processingLocations",
    "dpaSignedOn", "dpaReference", "dpaDataCategories", "subProcessors", "certifications", "dpf",
    "externalRef",
}  # fmt: skip
# optional members: a record's later changes, an intended second record of one vendor
PROCESSOR_OPTIONAL = {"history", "allowDuplicate"}
TRANSFER_FIELDS = {
    "recipientProcessor", "recipientName", "fromCountry", "toCountry", "mechanism", "sccModule",
    "derogation", "tia", "supplementaryMeasures", "startedOn",
}  # fmt: skip
TRANSFER_OPTIONAL = {"since", "history"}
HISTORY_OPS = {
    "updateProcessor", "retireProcessor", "updateTransfer", "updateBreach", "notifyAuthority",
    "notifyDataSubjects", "closeBreach",
}  # fmt: skip
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
ORG_ROLES = {"CONTROLLER", "PROCESSOR"}
ACTIVITY_ROLES = {"CONTROLLER", "JOINT_CONTROLLER", "PROCESSOR"}
ARTICLES = {f"ART6_1_{c}" for c in "ABCDEF"}
SOURCES = {"DATA_SUBJECT", "THIRD_PARTY", "AUTOMATIC", "PUBLIC"}
SPECIAL = {
    "RACIAL_ETHNIC_ORIGIN", "POLITICAL_OPINIONS", "RELIGIOUS_BELIEFS", "TRADE_UNION_MEMBERSHIP",
    "GENETIC", "BIOMETRIC", "HEALTH", "SEX_LIFE_OR_ORIENTATION",
}  # fmt: skip
ART9_CONDITIONS = {f"ART9_2_{c}" for c in "ABCDEFGHIJ"}
MECHANISMS = {
    "ADEQUACY", "DPF", "SCC", "BCR", "CODE_OF_CONDUCT", "CERTIFICATION", "AD_HOC_CLAUSES",
    "DEROGATION", "PRIVACY_SHIELD",
}  # fmt: skip
DEROGATIONS = {f"ART49_1_{c}" for c in "ABCDEFG"}
DPIA_STATUSES = {"NOT_REQUIRED", "REQUIRED", "IN_PROGRESS", "DONE"}
ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")


def load(slug: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / f"{slug}.json").read_text(encoding="utf-8"))
    return doc


def walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def is_country(code: str | None) -> bool:
    return isinstance(code, str) and pycountry.countries.get(alpha_2=code) is not None


def is_date(value: str | None) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    dt.date.fromisoformat(value)
    return True


def normalise(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module", params=SLUGS)
def demo(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    return request.param, load(request.param)


def test_data_folder_holds_one_file_per_organisation() -> None:
    assert sorted(p.stem for p in DATA.glob("*.json")) == sorted(SLUGS)


def test_file_has_the_demo_shape(demo: tuple[str, dict[str, Any]]) -> None:
    slug, doc = demo
    assert set(doc) == {"organization", "privacyPolicies", "processors", "activities", "breaches"}
    assert doc["organization"]["slug"] == slug
    assert re.fullmatch(r"[a-z0-9-]{2,63}", slug)
    assert "since" in doc["organization"]
    for activity in doc["activities"]:
        assert set(activity) == ACTIVITY_FIELDS, activity["ref"]
        for transfer in activity["transfers"]:
            assert TRANSFER_FIELDS <= set(transfer) <= TRANSFER_FIELDS | TRANSFER_OPTIONAL
    for processor in doc["processors"]:
        assert PROCESSOR_FIELDS <= set(processor) <= PROCESSOR_FIELDS | PROCESSOR_OPTIONAL
    for policy in doc["privacyPolicies"]:
        assert "publishedAt" in policy


def test_file_holds_no_floats(demo: tuple[str, dict[str, Any]]) -> None:
    _, doc = demo
    assert not [v for v in walk(doc) if isinstance(v, float)]


def test_organisation_roles_and_contacts(demo: tuple[str, dict[str, Any]]) -> None:
    slug, doc = demo
    org = doc["organization"]
    assert org["roles"]
    assert set(org["roles"]) <= ORG_ROLES
    assert ("PROCESSOR" in org["roles"]) == (slug in PROCESSOR_ORGS)
    assert is_country(org["country"])
    if org["dpo"] is not None:
        assert set(org["dpo"]) == {"name", "email", "phone"}
    if org["euRepresentative"] is not None:
        assert is_country(org["euRepresentative"]["country"])


def test_taxonomy_keys_are_fideslang_keys(demo: tuple[str, dict[str, Any]]) -> None:
    _, doc = demo
    for activity in doc["activities"]:
        ref = activity["ref"]
        assert set(activity["dataCategories"]) <= DATA_CATEGORIES, ref
        assert set(activity["dataSubjectCategories"]) <= DATA_SUBJECTS, ref
        assert set(activity["dataUses"]) <= DATA_USES, ref
        for engagement in activity["engagements"]:
            assert set(engagement["dataCategories"]) <= DATA_CATEGORIES, ref
    for processor in doc["processors"]:
        assert set(processor["dpaDataCategories"]) <= DATA_CATEGORIES, processor["ref"]
    for breach in doc["breaches"]:
        assert set(breach["dataCategories"]) <= DATA_CATEGORIES
        assert set(breach["dataSubjectCategories"]) <= DATA_SUBJECTS
        activities = {a["ref"] for a in doc["activities"]}
        assert set(breach["affectedActivities"]) <= activities
        assert set(breach["affectedProcessors"]) <= {p["ref"] for p in doc["processors"]}


def test_countries_are_iso_3166_alpha_2(demo: tuple[str, dict[str, Any]]) -> None:
    _, doc = demo
    for processor in doc["processors"]:
        assert is_country(processor["country"]), processor["ref"]
        assert all(map(is_country, processor["processingLocations"])), processor["ref"]
        assert all(is_country(s["country"]) for s in processor["subProcessors"])
    for activity in doc["activities"]:
        ref = activity["ref"]
        parties = [activity["controller"], *activity["jointControllers"]]
        assert all(p["country"] is None or is_country(p["country"]) for p in parties if p), ref
        for engagement in activity["engagements"]:
            assert all(map(is_country, engagement["locations"])), ref
        for transfer in activity["transfers"]:
            assert is_country(transfer["fromCountry"]), ref
            assert is_country(transfer["toCountry"]), ref
            assert transfer["fromCountry"] != transfer["toCountry"], ref


def test_dates_are_iso_dates(demo: tuple[str, dict[str, Any]]) -> None:
    _, doc = demo
    for policy in doc["privacyPolicies"]:
        assert is_date(policy["effectiveDate"]), policy["version"]
    for processor in doc["processors"]:
        assert processor["dpaSignedOn"] is None or is_date(processor["dpaSignedOn"])
    for activity in doc["activities"]:
        for transfer in activity["transfers"]:
            assert transfer["startedOn"] is None or is_date(transfer["startedOn"])
            assert transfer["tia"] is None or is_date(transfer["tia"]["date"])


def test_activity_enums_follow_the_data_model(demo: tuple[str, dict[str, Any]]) -> None:
    _, doc = demo
    refs = [a["ref"] for a in doc["activities"]]
    assert len(refs) == len(set(refs))
    for activity in doc["activities"]:
        ref = activity["ref"]
        assert activity["role"] in ACTIVITY_ROLES, ref
        assert (activity["controller"] is not None) == (activity["role"] == "PROCESSOR"), ref
        assert set(activity["sources"]) <= SOURCES, ref
        for basis in activity["legalBases"]:
            assert set(basis) == {"article", "purpose", "lia", "consentMechanism"}, ref
            assert basis["article"] in ARTICLES, ref
        for special in activity["specialCategories"]:
            assert special["category"] in SPECIAL, ref
            assert special["condition"] is None or special["condition"] in ART9_CONDITIONS, ref
        if activity["retention"] is not None:
            period = activity["retention"]["period"]
            assert period is None or ISO_DURATION.match(period), ref
            assert period or activity["retention"]["trigger"], ref
        if activity["dpia"] is not None:
            assert activity["dpia"]["status"] in DPIA_STATUSES, ref
        for transfer in activity["transfers"]:
            assert transfer["mechanism"] is None or transfer["mechanism"] in MECHANISMS, ref
            assert transfer["sccModule"] in (None, 1, 2, 3, 4), ref
            assert transfer["derogation"] is None or transfer["derogation"] in DEROGATIONS, ref


def test_processor_activities_name_their_controller(demo: tuple[str, dict[str, Any]]) -> None:
    slug, doc = demo
    roles = {a["role"] for a in doc["activities"]}
    assert ("PROCESSOR" in roles) == (slug in PROCESSOR_ORGS)


def test_every_processor_ref_used_exists(demo: tuple[str, dict[str, Any]]) -> None:
    _, doc = demo
    refs = [p["ref"] for p in doc["processors"]]
    assert len(refs) == len(set(refs))
    for activity in doc["activities"]:
        for engagement in activity["engagements"]:
            assert engagement["processor"] in refs, activity["ref"]
        for transfer in activity["transfers"]:
            recipient = transfer["recipientProcessor"]
            assert recipient is None or recipient in refs, activity["ref"]
            # a transfer goes to a registered processor or to a named third party, not both
            assert (recipient is None) != (transfer["recipientName"] is None), activity["ref"]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def copied_runs(text: str, seed: str, length: int = 8) -> list[str]:
    """The runs of `length` consecutive words that `text` shares with `seed`."""
    seen = {tuple(w) for w in _runs(words(seed), length)}
    return [" ".join(w) for w in _runs(words(text), length) if tuple(w) in seen]


def _runs(items: list[str], length: int) -> Iterator[list[str]]:
    for i in range(len(items) - length + 1):
        yield items[i : i + length]


def seed_texts(doc: dict[str, Any]) -> list[str]:
    seeds = shared_path("seeds")
    return [(seeds / p["seedFile"]).read_text(encoding="utf-8") for p in doc["privacyPolicies"]]


def test_notice_paraphrase_is_short_and_not_a_copy(demo: tuple[str, dict[str, Any]]) -> None:
    _, doc = demo
    texts = seed_texts(doc)
    for activity in doc["activities"]:
        paraphrase = activity["noticeParaphrase"]
        assert paraphrase, activity["ref"]
        assert len(paraphrase) <= 200, activity["ref"]
        for text in texts:
            assert not copied_runs(paraphrase, text), activity["ref"]


def test_no_text_of_the_notice_is_copied_anywhere_in_the_file(
    demo: tuple[str, dict[str, Any]],
) -> None:
    _, doc = demo
    texts = seed_texts(doc)
    contacts = {"address", "phone", "email", "contactEmail", "url", "name"}
    for text in texts:
        for path, value in strings(doc):
            if path.rsplit(".", 1)[-1] in contacts:
                continue  # facts (an address, a phone number), not prose
            assert not copied_runs(value, text), (path, copied_runs(value, text))


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def test_history_is_dated_and_in_order(demo: tuple[str, dict[str, Any]]) -> None:
    """Every record is recorded after what it depends on; every change after its record."""
    _, doc = demo
    born = doc["organization"]["since"]
    assert INSTANT.fullmatch(born)
    processors = {p["ref"]: p["since"] for p in doc["processors"]}
    for policy in doc["privacyPolicies"]:
        assert INSTANT.fullmatch(policy["publishedAt"]) and policy["publishedAt"] >= born
    records: list[tuple[str, dict[str, Any]]] = [(p["ref"], p) for p in doc["processors"]]
    for activity in doc["activities"]:
        since = activity["since"]
        assert INSTANT.fullmatch(since) and since >= born, activity["ref"]
        for engagement in activity["engagements"]:
            at = engagement.get("since", since)
            assert at >= since and at >= processors[engagement["processor"]], activity["ref"]
        for transfer in activity["transfers"]:
            at = transfer.get("since", since)
            assert at >= since, activity["ref"]
            if transfer["recipientProcessor"]:
                assert at >= processors[transfer["recipientProcessor"]], activity["ref"]
            records.append((activity["ref"], {**transfer, "since": at}))
    for breach in doc["breaches"]:
        assert breach["since"] >= born
        assert breach["since"][:16] >= breach["discoveredAt"][:16]  # reported once discovered
        records.append((breach["title"], breach))
    for ref, record in records:
        assert INSTANT.fullmatch(record["since"]), ref
        changes = record.get("history", [])
        stamps = [c["at"] for c in changes]
        assert stamps == sorted(stamps), ref
        for change in changes:
            assert INSTANT.fullmatch(change["at"]) and change["at"] >= record["since"], ref
            assert change["op"] in HISTORY_OPS, ref
            assert change.get("why"), ref


def test_each_organisation_has_a_privacy_policy_version(demo: tuple[str, dict[str, Any]]) -> None:
    _, doc = demo
    versions = [p["version"] for p in doc["privacyPolicies"]]
    assert versions
    assert len(versions) == len(set(versions))
    for policy in doc["privacyPolicies"]:
        assert re.fullmatch(r"https?://\S+", policy["url"]), policy["version"]


def test_privacy_policy_seed_files_are_present(demo: tuple[str, dict[str, Any]]) -> None:
    seeds = shared_path("seeds")
    _, doc = demo
    for policy in doc["privacyPolicies"]:
        assert (seeds / policy["seedFile"]).is_file(), policy["seedFile"]


def test_demo_registers_the_required_processors() -> None:
    names = {p["name"].lower() for slug in SLUGS for p in load(slug)["processors"]}
    for wanted in ("amazon web services", "google cloud", "freshdesk", "hubspot", "salesforce"):
        assert any(wanted in name for name in names), wanted


def transfer_destinations(slug: str) -> set[str]:
    return {t["toCountry"] for a in load(slug)["activities"] for t in a["transfers"]}


def test_qwiqi_transfers_to_singapore_and_hong_kong() -> None:
    assert {"SG", "HK"} <= transfer_destinations("qwiqi")


@pytest.mark.parametrize("slug", ["webengage", "qualer"])
def test_storage_in_the_usa_is_a_transfer(slug: str) -> None:
    assert "US" in transfer_destinations(slug)


def test_qiscus_stores_in_indonesia_on_aws_and_gcp() -> None:
    hosting = {
        e["processor"]
        for a in load("qiscus")["activities"]
        for e in a["engagements"]
        if "ID" in e["locations"]
    }
    assert {"aws", "gcp"} <= hosting
