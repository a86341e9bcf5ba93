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


# Issue 12: Cloud Run and Secret Manager as they are really deployed.

REGION = "projects/fidelity/locations/us-central1"
WEB = f"{REGION}/services/web"


@pytest.fixture(scope="module")
def jobs():
    return run_v2.JobsClient(**opts())


def test_an_alias_answers_with_the_version_number(sm):
    r = sm.access_secret_version(name=f"{SECRETS}/jwt/versions/current")
    assert r.name == f"{SECRETS}/jwt/versions/1"
    assert r.payload.data == b"first-value"
    v = sm.get_secret_version(name=f"{SECRETS}/jwt/versions/current")
    assert v.name == f"{SECRETS}/jwt/versions/1"
    with pytest.raises(exceptions.NotFound):
        sm.access_secret_version(name=f"{SECRETS}/jwt/versions/stable")


def test_get_secret_carries_version_aliases(sm):
    s = sm.get_secret(name=f"{SECRETS}/jwt")
    assert s.name == f"{SECRETS}/jwt"
    assert dict(s.version_aliases) == {"current": 1}
    assert s.replication.automatic is not None
    assert s.create_time.isoformat().startswith("2026-01-01")


def test_a_regional_secret_lives_in_its_own_namespace(sm):
    # Against Google a regional secret needs the regional endpoint
    # (secretmanager.L.rep.googleapis.com) in client_options; here the
    # sandbox URL stands in for it.
    regional = secretmanager.SecretManagerServiceClient(**opts())
    name = f"{REGION}/secrets/regional"
    r = regional.access_secret_version(name=f"{name}/versions/latest")
    assert r.name == f"{name}/versions/1"
    assert r.payload.data == b"regional-value"
    assert regional.get_secret(name=name).name == name
    versions = [v.name for v in regional.list_secret_versions(parent=name)]
    assert versions == [f"{name}/versions/1"]
    with pytest.raises(exceptions.NotFound):
        sm.access_secret_version(name=f"{SECRETS}/regional/versions/latest")
    with pytest.raises(exceptions.NotFound):
        regional.access_secret_version(name=f"{REGION}/secrets/jwt/versions/1")


def test_a_project_number_names_the_same_secret(sm):
    name = "projects/123456789012/secrets/jwt"
    r = sm.access_secret_version(name=f"{name}/versions/2")
    assert r.name == f"{name}/versions/2"
    assert r.payload.data == b"second-value"


def test_latest_with_no_enabled_version_is_a_failed_precondition(sm):
    with pytest.raises(exceptions.BadRequest) as e:
        sm.access_secret_version(name=f"{SECRETS}/retired/versions/latest")
    assert (
        f"Secret Version [{SECRETS}/retired/versions/2] is in DISABLED state."
        in str(e.value)
    )
    v = sm.get_secret_version(name=f"{SECRETS}/retired/versions/latest")
    assert v.name == f"{SECRETS}/retired/versions/2"
    assert v.state == secretmanager.SecretVersion.State.DISABLED


def test_secrets_are_listed(sm):
    names = [s.name for s in sm.list_secrets(parent="projects/fidelity")]
    assert names == [f"{SECRETS}/{s}" for s in ("jwt", "denied", "flaky", "retired")]
    regional = [s.name for s in sm.list_secrets(parent=REGION)]
    assert regional == [f"{REGION}/secrets/regional"]


def test_a_tagged_revision_at_zero_percent(services, revisions):
    s = services.get_service(name=WEB)
    status = {t.revision: (t.percent, t.tag, t.uri) for t in s.traffic_statuses}
    assert status == {
        "web-00002-bbb": (100, "", ""),
        "web-00001-aaa": (0, "canary", "https://canary---web-sandbox-us-central1.a.run.app"),
    }
    assert [t.tag for t in s.traffic] == ["", "canary"]
    old = revisions.get_revision(name=f"{WEB}/revisions/web-00001-aaa")
    assert old.containers[0].env[0].value == "old"


def test_volumes_and_mounts_on_a_revision(services, revisions):
    r = revisions.get_revision(name=f"{WEB}/revisions/web-00002-bbb")
    sa, scratch = r.volumes
    assert sa.name == "sa"
    assert sa.secret.secret == "projects/123456789012/secrets/sa-key"
    assert [(i.path, i.version) for i in sa.secret.items] == [("sa.json", "2")]
    assert sa.secret.default_mode == 0o444
    assert scratch.empty_dir.medium == run_v2.EmptyDirVolumeSource.Medium.MEMORY
    mounts = [[(m.name, m.mount_path) for m in c.volume_mounts] for c in r.containers]
    assert mounts == [[("sa", "/secrets")], [("scratch", "/tmp/otel")]]
    ref = r.containers[0].env[0].value_source.secret_key_ref
    assert (ref.secret, ref.version) == ("jwt", "current")
    template = services.get_service(name=WEB).template
    assert [v.name for v in template.volumes] == ["sa", "scratch"]
    assert template.containers[1].name == "otel-collector"


def test_a_job_and_its_task_template(jobs):
    name = f"{REGION}/jobs/migrate"
    j = jobs.get_job(name=name)
    assert j.name == name
    assert j.create_time.isoformat().startswith("2026-03-01")
    assert (j.template.task_count, j.template.parallelism) == (1, 1)
    task = j.template.template
    assert task.max_retries == 3
    assert task.execution_environment == run_v2.ExecutionEnvironment.EXECUTION_ENVIRONMENT_GEN2
    c = task.containers[0]
    env = {e.name: e for e in c.env}
    assert env["STEP"].value == "all"
    ref = env["DB_PASSWORD"].value_source.secret_key_ref
    assert (ref.secret, ref.version) == ("db", "current")
    assert [(m.name, m.mount_path) for m in c.volume_mounts] == [("sa", "/secrets")]
    assert [(i.path, i.version) for i in task.volumes[0].secret.items] == [
        ("sa.json", "latest")
    ]
    with pytest.raises(exceptions.NotFound):
        jobs.get_job(name=f"{REGION}/jobs/ghost")


def test_the_lists_init_reads(services, jobs):
    assert [s.name for s in services.list_services(parent=REGION)] == [
        SERVICE,
        WEB,
    ]
    assert [j.name for j in jobs.list_jobs(parent=REGION)] == [f"{REGION}/jobs/migrate"]
    with pytest.raises(exceptions.Forbidden):
        list(jobs.list_jobs(parent="projects/other/locations/us-central1"))


@pytest.mark.skipif(
    not hasattr(run_v2, "WorkerPoolsClient"),
    reason="this google-cloud-run has no WorkerPoolsClient",
)
def test_a_worker_pool_its_split_and_revisions(revisions):
    pools = run_v2.WorkerPoolsClient(**opts())
    name = f"{REGION}/workerPools/consumer"
    w = pools.get_worker_pool(name=name)
    split = [(s.revision, s.percent) for s in w.instance_splits]
    assert split == [("consumer-00002-bbb", 75), ("consumer-00001-aaa", 25)]
    assert [(s.revision, s.percent) for s in w.instance_split_statuses] == split
    assert all(
        s.type_ == run_v2.InstanceSplitAllocationType.INSTANCE_SPLIT_ALLOCATION_TYPE_REVISION
        for s in w.instance_splits
    )
    assert w.latest_ready_revision == f"{name}/revisions/consumer-00002-bbb"
    assert w.template.containers[0].env[0].value == "new"
    old = revisions.get_revision(name=f"{name}/revisions/consumer-00001-aaa")
    assert old.name == f"{name}/revisions/consumer-00001-aaa"
    assert old.containers[0].env[0].value == "old"
    assert [p.name for p in pools.list_worker_pools(parent=REGION)] == [name]
