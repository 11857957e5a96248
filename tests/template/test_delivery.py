"""Delivery (issue #16): the CI/CD example under docs/ci and the optional WAF in front of
the API (template.yaml's WafRateLimitPerAddress)."""

import re
import shlex
import tomllib
from typing import Any

import pytest
import yaml

from localcloud.template import ROOT, Resolver, load_template, transform_template
from tests.template.test_prod_rules import _evaluate

WORKFLOW = ROOT / "docs" / "ci" / "github-actions-deploy.yml"
WAF_RESOURCES = {"WafWebAcl": "AWS::WAFv2::WebACL", "ApiDistribution": "AWS::CloudFront::Distribution"}


# ---------------------------------------------------------------- the workflow


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return dict(yaml.safe_load(WORKFLOW.read_text()))


def _runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def _uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(action + "@")]


def _deploy_envs(job: dict[str, Any]) -> list[str]:
    envs = []
    for run in _runs(job):
        words = shlex.split(run)
        if words[:2] == ["sam", "deploy"]:
            envs.append(words[words.index("--config-env") + 1])
    return envs


def test_the_workflow_asks_for_an_oidc_token_and_stores_no_key(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"]["id-token"] == "write"
    assert "aws-access-key-id" not in WORKFLOW.read_text()
    assert "AWS_SECRET_ACCESS_KEY" not in WORKFLOW.read_text()


def test_the_workflow_tests_lints_and_builds_on_python_313(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    runs = [run for job in jobs.values() for run in _runs(job)]
    assert "make test" in runs
    assert any(run.startswith("sam validate --lint") for run in runs)
    assert "sam build --use-container" in runs
    pythons = {step["with"]["python-version"] for job in jobs.values() for step in _uses(job, "actions/setup-python")}
    assert pythons == {"3.13"}


def test_dev_deploys_before_prod_and_prod_waits_for_its_environment(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    deploys = {name: _deploy_envs(job) for name, job in jobs.items() if _deploy_envs(job)}
    assert deploys == {"deploy-dev": ["dev"], "deploy-prod": ["prod"]}

    def ancestors(name: str) -> set[str]:
        needs = jobs[name].get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        return set(needs).union(*(ancestors(n) for n in needs))

    assert "deploy-dev" in ancestors("deploy-prod")
    assert {"test", "build"} <= ancestors("deploy-dev")
    # the manual approval: the prod environment's required reviewers gate the job
    assert jobs["deploy-prod"]["environment"] == "prod"
    assert jobs["deploy-dev"]["environment"] == "dev"


def test_each_deploy_assumes_a_role_by_oidc(workflow: dict[str, Any]) -> None:
    for name in ("deploy-dev", "deploy-prod"):
        job = workflow["jobs"][name]
        (credentials,) = _uses(job, "aws-actions/configure-aws-credentials")
        assert credentials["with"]["role-to-assume"]
        steps = job["steps"]
        assert steps.index(credentials) < next(i for i, s in enumerate(steps) if "sam deploy" in s.get("run", ""))


def test_each_deploy_uses_a_samconfig_environment_that_exists(workflow: dict[str, Any]) -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for job in workflow["jobs"].values():
        for env in _deploy_envs(job):
            assert "stack_name" in config[env]["deploy"]["parameters"], env


def test_the_ci_readme_restricts_the_trust_policy_to_the_repository_and_environment() -> None:
    text = (ROOT / "docs" / "ci" / "README.md").read_text()
    assert "token.actions.githubusercontent.com" in text
    assert '"token.actions.githubusercontent.com:sub": "repo:<owner>/<repo>:environment:prod"' in text
    assert '"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"' in text


# ---------------------------------------------------------------- the optional WAF


def _stack(parameters: dict[str, str], region: str = "us-east-1") -> Resolver:
    template = transform_template(load_template(), parameters)
    return Resolver(template, region, "123456789012", "fxcrm-prod", parameters=dict(parameters))


def test_without_the_parameter_there_is_no_waf_nor_distribution() -> None:
    stack = _stack({})
    assert stack.resources(*WAF_RESOURCES.values()) == []
    assert stack.template["Outputs"]["ApiDistributionDomain"]["Condition"] == "UseWaf"
    assert not stack.condition("UseWaf")


@pytest.mark.parametrize("common", ["off", "on"])
def test_with_the_parameter_the_web_acl_blocks_an_address_past_the_limit(common: str) -> None:
    stack = _stack({"WafRateLimitPerAddress": "2000", "WafCommonRuleSet": common})
    assert {name for name, _ in stack.resources(*WAF_RESOURCES.values())} == set(WAF_RESOURCES)
    stack.attrs[("WafWebAcl", "Arn")] = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/fxcrm-prod-api/1"
    stack.refs["HttpApi"] = "abc123"
    acl = stack.resolve(stack.properties("WafWebAcl"))
    assert acl["Scope"] == "CLOUDFRONT"
    assert acl["DefaultAction"] == {"Allow": {}}
    rate = next(rule for rule in acl["Rules"] if "RateBasedStatement" in rule["Statement"])
    assert rate["Action"] == {"Block": {}}
    assert str(rate["Statement"]["RateBasedStatement"]["Limit"]) == "2000"
    assert rate["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    managed = [r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in acl["Rules"] if r is not rate]
    assert managed == (["AWSManagedRulesCommonRuleSet"] if common == "on" else [])

    distribution = stack.resolve(stack.properties("ApiDistribution"))["DistributionConfig"]
    assert distribution["WebACLId"] == stack.attrs[("WafWebAcl", "Arn")]
    (origin,) = distribution["Origins"]
    assert origin["DomainName"] == "abc123.execute-api.us-east-1.amazonaws.com"
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    behaviour = distribution["DefaultCacheBehavior"]
    assert behaviour["TargetOriginId"] == origin["Id"]
    assert behaviour["ViewerProtocolPolicy"] == "https-only"
    assert set(behaviour["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    assert behaviour["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert behaviour["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AllViewerExceptHostHeader


def _refusals(parameters: dict[str, str], region: str) -> list[str]:
    template = load_template()
    values = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
    values |= parameters | {"AWS::Region": region}
    rule = template["Rules"]["WafNeedsUsEast1"]
    if not _evaluate(rule["RuleCondition"], values):
        return []
    return [a["AssertDescription"] for a in rule["Assertions"] if not _evaluate(a["Assert"], values)]


def test_the_waf_needs_the_stack_in_us_east_1() -> None:
    assert _refusals({"WafRateLimitPerAddress": "2000"}, "us-east-1") == []
    (refusal,) = _refusals({"WafRateLimitPerAddress": "2000"}, "eu-west-1")
    assert "us-east-1" in refusal
    assert _refusals({}, "eu-west-1") == []  # off: any region


@pytest.mark.parametrize(
    ("value", "allowed"),
    [("0", True), ("100", True), ("2000", True), ("99", False), ("-1", False), ("010", False)],
)
def test_the_limit_is_off_or_at_least_100(value: str, allowed: bool) -> None:
    pattern = load_template()["Parameters"]["WafRateLimitPerAddress"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is allowed


def test_every_waf_resource_is_conditional_so_the_local_cloud_skips_it() -> None:
    resources = load_template()["Resources"]
    assert {name: resources[name]["Condition"] for name in WAF_RESOURCES} == dict.fromkeys(WAF_RESOURCES, "UseWaf")


def test_operations_has_the_delivery_chapters() -> None:
    text = (ROOT / "docs" / "operations.md").read_text()
    for heading in (
        "## First deployment, step by step",
        "## Restore from point-in-time recovery",
        "## Secrets and rotation",
        "### WAF (optional web ACL)",
    ):
        assert f"\n{heading}\n" in text, heading
    assert "previous_signing_key" in text
    assert "`WafRateLimitPerAddress`" in text
