"""Google's official Python clients against `driftgate sandbox`.

driftgate's end-to-end tests run Google's Rust crates against the sandbox;
this test checks the sandbox is faithful to Google from a second,
independent client: the Python libraries (REST transport, anonymous
credentials) must read the same secrets and services, and fail with the
same exceptions, as they would against Google.

Run it with scripts/sandbox-fidelity.sh, which starts the sandbox seeded
from tests/python/sandbox.toml and sets DRIFTGATE_SANDBOX_URL.
"""

import os

import pytest
from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.api_core.retry import Retry
from google.auth.credentials import AnonymousCredentials
from google.cloud import run_v2, secretmanager

URL = os.environ.get("DRIFTGATE_SANDBOX_URL")
pytestmark = pytest.mark.skipif(not URL, reason="DRIFTGATE_SANDBOX_URL is not set")

SECRETS = "projects/fidelity/secrets"
SERVICE = "projects/fidelity/locations/us-central1/services/backend"
NO_RETRY = Retry(predicate=lambda e: False)


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), bit by bit: the checksum Secret Manager sends."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def opts():
    return dict(
        credentials=AnonymousCredentials(),
        transport="rest",
        client_options=ClientOptions(api_endpoint=URL),
    )


@pytest.fixture(scope="module")
def sm():
    return secretmanager.SecretManagerServiceClient(**opts())


@pytest.fixture(scope="module")
def services():
    return run_v2.ServicesClient(**opts())


@pytest.fixture(scope="module")
def revisions():
    return run_v2.RevisionsClient(**opts())


def test_latest_is_the_newest_enabled_version_with_a_valid_checksum(sm):
    r = sm.access_secret_version(name=f"{SECRETS}/jwt/versions/latest")
    assert r.name == f"{SECRETS}/jwt/versions/2"
    assert r.payload.data == b"second-value"
    assert r.payload.data_crc32c == crc32c(b"second-value")


def test_the_checksum_function_is_crc32c():
    assert crc32c(b"123456789") == 0xE3069283


def test_a_numbered_version(sm):
    r = sm.access_secret_version(name=f"{SECRETS}/jwt/versions/1")
    assert r.payload.data == b"first-value"


def test_version_metadata(sm):
    v = sm.get_secret_version(name=f"{SECRETS}/jwt/versions/2")
    assert v.state == secretmanager.SecretVersion.State.ENABLED
    assert v.create_time.isoformat().startswith("2026-02-01T00:00:00.25")
    v3 = sm.get_secret_version(name=f"{SECRETS}/jwt/versions/3")
    assert v3.state == secretmanager.SecretVersion.State.DISABLED


def test_versions_are_listed_newest_first(sm):
    names = [v.name for v in sm.list_secret_versions(parent=f"{SECRETS}/jwt")]
    assert names == [f"{SECRETS}/jwt/versions/{n}" for n in (3, 2, 1)]


# The REST transport picks the exception class from the HTTP status, as it
# does against Google: 400 BadRequest, 403 Forbidden, 404 NotFound, 503
# ServiceUnavailable.


def test_a_disabled_version_is_a_failed_precondition(sm):
    with pytest.raises(exceptions.BadRequest) as e:
        sm.access_secret_version(name=f"{SECRETS}/jwt/versions/3")
    assert "is in DISABLED state" in str(e.value)


def test_errors_map_to_the_same_exceptions(sm):
    with pytest.raises(exceptions.Forbidden) as e:
        sm.access_secret_version(name=f"{SECRETS}/denied/versions/latest")
    assert "secretmanager.versions.access" in str(e.value)
    with pytest.raises(exceptions.NotFound):
        sm.access_secret_version(name=f"{SECRETS}/nope/versions/latest")
    with pytest.raises(exceptions.NotFound):
        sm.access_secret_version(name=f"{SECRETS}/jwt/versions/9")
    with pytest.raises(exceptions.ServiceUnavailable):
        sm.access_secret_version(
            name=f"{SECRETS}/flaky/versions/latest", retry=NO_RETRY
        )
    with pytest.raises(exceptions.Forbidden) as e:
        sm.access_secret_version(name="projects/other/secrets/jwt/versions/latest")
    assert "Permission denied on resource project other." in str(e.value)


def test_service_traffic_and_template(services):
    s = services.get_service(name=SERVICE)
    assert s.name == SERVICE
    split = {t.revision: t.percent for t in s.traffic_statuses}
    assert split == {"backend-00002-bbb": 90, "backend-00001-aaa": 10}
    assert all(
        t.type_ == run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION
        for t in s.traffic_statuses
    )
    assert s.latest_ready_revision.endswith("/revisions/backend-00002-bbb")
    assert [c.name for c in s.template.containers] == ["app", "sidecar"]


def test_revisions_with_plain_and_secret_env(revisions):
    r = revisions.get_revision(name=f"{SERVICE}/revisions/backend-00002-bbb")
    assert r.create_time.isoformat().startswith("2026-02-15T00:00:00")
    app = r.containers[0]
    env = {e.name: e for e in app.env}
    assert env["MODE"].value == "new"
    ref = env["JWT_SECRET"].value_source.secret_key_ref
    assert (ref.secret, ref.version) == ("jwt", "latest")
    assert r.containers[1].env[0].name == "PORT2"
    old = revisions.get_revision(name=f"{SERVICE}/revisions/backend-00001-aaa")
    ref = {e.name: e for e in old.containers[0].env}["JWT_SECRET"].value_source.secret_key_ref
    assert ref.version == "1"


def test_unknown_service_and_revision_are_not_found(services, revisions):
    with pytest.raises(exceptions.NotFound):
        services.get_service(
            name="projects/fidelity/locations/us-central1/services/ghost"
        )
    with pytest.raises(exceptions.NotFound):
        revisions.get_revision(name=f"{SERVICE}/revisions/backend-09999-zzz")
