"""The operations kit on the transformed template: the alarm topic, an alarm
for every function's errors and throttles, every flow's failed, timed-out and
aborted executions, the API's 5xx rate, the domain's own metrics (with the
dimensions the code emits them with), the failure queue's depth; a dashboard
showing every alarm; and an on-failure destination for every function that is
invoked asynchronously."""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from localcloud.template import ROOT, schedules

# What the code emits (Powertools EMF, namespace fxcrm): metric -> its dimensions.
# HTTP functions add `function` (fxcrm.api.app); the others only the service.
DOMAIN_METRICS = {
    "LoginFailed": {"function": "auth", "service": "fxcrm"},  # fxcrm.auth.accounts.login
    "NeedsAttention": {"service": "fxcrm"},  # ApprovalTasks' needs_attention task
    "ApprovalsPastSla": {"service": "fxcrm"},  # fxcrm.reconciliation.run
    "ReconciliationFindings": {"service": "fxcrm"},  # fxcrm.reconciliation.run
}


def _of_type(cloudformation: dict[str, Any], kind: str) -> dict[str, Any]:
    return {n: r for n, r in cloudformation["Resources"].items() if r["Type"] == kind}


def _alarms(cloudformation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: r["Properties"] for n, r in _of_type(cloudformation, "AWS::CloudWatch::Alarm").items()}


def _watching(cloudformation: dict[str, Any], namespace: str, metric: str) -> dict[str, dict[str, Any]]:
    """Alarms on one metric: alarm -> its dimensions (values as the template writes them)."""
    return {
        name: {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        for name, alarm in _alarms(cloudformation).items()
        if (alarm.get("Namespace"), alarm.get("MetricName")) == (namespace, metric)
    }


def test_alarms_notify_the_topic_which_mails_the_operator(cloudformation: dict[str, Any]) -> None:
    # the alarm topic, and SES's bounce topic (docs/operations.md, Mail), which mails nobody
    assert set(_of_type(cloudformation, "AWS::SNS::Topic")) == {"AlarmTopic", "MailEventsTopic"}
    # CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key
    topic = cloudformation["Resources"]["AlarmTopic"]["Properties"]
    assert topic.get("KmsMasterKeyId") != "alias/aws/sns"
    (subscription,) = (
        s
        for s in _of_type(cloudformation, "AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}
    )
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    assert cloudformation["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    alarms = _alarms(cloudformation)
    assert len(alarms) > 40
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["TreatMissingData"] == "notBreaching", name  # no traffic is not an outage


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_its_errors_and_throttles_alarm(cloudformation: dict[str, Any], metric: str) -> None:
    functions = set(_of_type(cloudformation, "AWS::Lambda::Function"))
    watched = _watching(cloudformation, "AWS/Lambda", metric)
    assert sorted(d["FunctionName"]["Ref"] for d in watched.values()) == sorted(functions)
    for name in watched:
        assert _alarms(cloudformation)[name]["Threshold"] == 1


@pytest.mark.parametrize("metric", ["ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"])
def test_every_flow_has_its_failed_timed_out_and_aborted_alarm(cloudformation: dict[str, Any], metric: str) -> None:
    machines = set(_of_type(cloudformation, "AWS::StepFunctions::StateMachine"))
    watched = _watching(cloudformation, "AWS/States", metric)
    assert sorted(d["StateMachineArn"]["Ref"] for d in watched.values()) == sorted(machines)


def test_the_api_5xx_rate_alarm_divides_5xx_by_requests(cloudformation: dict[str, Any]) -> None:
    alarm = _alarms(cloudformation)["Api5xxRateAlarm"]
    metrics = {m["Id"]: m for m in alarm["Metrics"]}
    for source, name in (("errors", "5xx"), ("requests", "Count")):
        stat = metrics[source]["MetricStat"]
        assert (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"], stat["Stat"]) == (
            "AWS/ApiGateway",
            name,
            "Sum",
        )
        assert stat["Metric"]["Dimensions"] == [
            {"Name": "ApiId", "Value": {"Ref": "HttpApi"}},
            {"Name": "Stage", "Value": "$default"},
        ]
    (shown,) = [m for m in alarm["Metrics"] if m.get("ReturnData")]
    assert "errors / requests" in shown["Expression"]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 5)


@pytest.mark.parametrize("metric", DOMAIN_METRICS)
def test_the_domain_metrics_are_alarmed_with_the_dimensions_they_are_emitted_with(
    cloudformation: dict[str, Any], metric: str
) -> None:
    (dimensions,) = _watching(cloudformation, "fxcrm", metric).values()
    assert dimensions == DOMAIN_METRICS[metric]


def test_login_failures_alarm_at_the_parameters_threshold(cloudformation: dict[str, Any]) -> None:
    (name,) = _watching(cloudformation, "fxcrm", "LoginFailed")
    assert _alarms(cloudformation)[name]["Threshold"] == {"Ref": "LoginFailureAlarmThreshold"}


def _functions_invoked_asynchronously(cloudformation: dict[str, Any]) -> set[str]:
    """Functions a schedule starts, and those another function's role may invoke
    (with InvocationType Event: fxcrm.adapters.functions.invoke_async)."""
    resources = cloudformation["Resources"]
    # a scheduled state machine (TradeSyncFlow) is started synchronously by Scheduler,
    # whose dead-letter queue keeps a run it could not start (asserted below)
    scheduled = {fn for fn, _ in schedules(cloudformation) if resources[fn]["Type"] == "AWS::Lambda::Function"}
    for schedule in _of_type(cloudformation, "AWS::Scheduler::Schedule").values():
        target = schedule["Properties"]["Target"]
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["AsyncFailureQueue", "Arn"]}}, target
    named = {
        resources[n]["Properties"]["FunctionName"]["Fn::Sub"].replace("${AWS::StackName}", "<stack>"): n
        for n in _of_type(cloudformation, "AWS::Lambda::Function")
        if isinstance(resources[n]["Properties"].get("FunctionName"), dict)
    }
    invoked = set()
    for role in _of_type(cloudformation, "AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                if "lambda:InvokeFunction" in statement["Action"] and "Fn::Sub" in str(statement["Resource"]):
                    for resource in statement["Resource"]:
                        qualified = re.sub(r"^.*:function:", "", resource["Fn::Sub"]).replace(
                            "${AWS::StackName}", "<stack>"
                        )
                        name, alias = qualified.split(":")
                        # the alias the on-failure destination is configured on, not $LATEST
                        assert alias == "${FunctionAlias}", resource
                        invoked.add(named[name])
    assert {"ReportsFunction", "SettlementFunction"} <= invoked  # background exports, settlement started by staff
    return scheduled | invoked


def test_every_asynchronous_invoke_has_an_on_failure_destination(cloudformation: dict[str, Any]) -> None:
    configs = {
        c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
        for c in _of_type(cloudformation, "AWS::Lambda::EventInvokeConfig").values()
    }
    asynchronous = _functions_invoked_asynchronously(cloudformation)
    assert asynchronous <= set(configs), asynchronous - set(configs)
    for name in asynchronous:
        assert configs[name]["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": ["AsyncFailureQueue", "Arn"]
        }, name
    # a schedule that cannot start its function keeps the event too
    for name, schedule in _of_type(cloudformation, "AWS::Scheduler::Schedule").items():
        assert schedule["Properties"]["Target"]["DeadLetterConfig"] == {
            "Arn": {"Fn::GetAtt": ["AsyncFailureQueue", "Arn"]}
        }, name


def test_the_failure_queue_is_kept_and_its_depth_alarmed(cloudformation: dict[str, Any]) -> None:
    queue = cloudformation["Resources"]["AsyncFailureQueue"]
    assert queue["Properties"]["MessageRetentionPeriod"] == 1209600  # 14 days, SQS's longest
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    (dimensions,) = _watching(cloudformation, "AWS/SQS", "ApproximateNumberOfMessagesVisible").values()
    assert dimensions == {"QueueName": {"Fn::GetAtt": ["AsyncFailureQueue", "QueueName"]}}


def _dashboard(cloudformation: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The dashboard body as CloudWatch reads it (references filled in), and the references."""
    (dashboard,) = _of_type(cloudformation, "AWS::CloudWatch::Dashboard").values()
    text = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    references = set(re.findall(r"\$\{([^}]+)\}", text))
    return json.loads(re.sub(r"\$\{([^}]+)\}", r"ref:\1", text)), references


def test_the_dashboard_shows_every_alarm_and_what_they_watch(cloudformation: dict[str, Any]) -> None:
    body, references = _dashboard(cloudformation)
    alarms = [w for w in body["widgets"] if w["type"] == "alarm"]
    shown = {a.removeprefix("ref:").removesuffix(".Arn") for w in alarms for a in w["properties"]["alarms"]}
    assert shown == set(_alarms(cloudformation))
    graphed = [tuple(m) for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]]
    for function in _of_type(cloudformation, "AWS::Lambda::Function"):
        for metric in ("Errors", "Throttles"):
            assert ("AWS/Lambda", metric, "FunctionName", f"ref:{function}") in graphed
    for machine in _of_type(cloudformation, "AWS::StepFunctions::StateMachine"):
        for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"):
            assert ("AWS/States", metric, "StateMachineArn", f"ref:{machine}") in graphed
    for metric, dimensions in DOMAIN_METRICS.items():
        assert any(
            m[:2] == ("fxcrm", metric) and dict(zip(m[2:-1:2], m[3::2], strict=False)) == dimensions for m in graphed
        )
    assert references <= set(cloudformation["Resources"]) | {f"{r}.Arn" for r in cloudformation["Resources"]} | {
        "AWS::Region",
        "AsyncFailureQueue.QueueName",
    }


def test_the_reconciliation_runs_hourly_with_its_sla_and_lag(cloudformation: dict[str, Any]) -> None:
    function = cloudformation["Resources"]["ReconciliationFunction"]["Properties"]
    assert function["Environment"]["Variables"]["APPROVAL_SLA_HOURS"] == {"Ref": "ApprovalSlaHours"}
    assert function["Environment"]["Variables"]["SETTLEMENT_LAG_HOURS"] == {"Ref": "SettlementLagHours"}
    (schedule,) = [
        s["Properties"]
        for s in _of_type(cloudformation, "AWS::Scheduler::Schedule").values()
        if s["Properties"]["Target"]["Arn"] == {"Ref": "ReconciliationFunctionAliaslive"}
    ]
    assert schedule["ScheduleExpression"] == "rate(1 hour)"


@pytest.mark.parametrize("flow", ["deposit", "withdrawal", "transfer"])
def test_every_way_into_needs_attention_is_counted_first(flow: str) -> None:
    """Each Catch that gave up goes through the step that emits the NeedsAttention
    metric, which ends in NeedsAttention whether or not it succeeds."""
    states = json.loads(Path(ROOT / "statemachines" / f"{flow}.asl.json").read_text())["States"]
    into = [c["Next"] for s in states.values() for c in s.get("Catch", []) if "NeedsAttention" in c["Next"]]
    assert into and set(into) == {"RecordNeedsAttention", "NeedsAttention"}
    record = states["RecordNeedsAttention"]
    assert record["Parameters"]["Payload"]["task"] == "needs_attention"
    assert record["Next"] == "NeedsAttention" and [c["Next"] for c in record["Catch"]] == ["NeedsAttention"]
    assert all(
        c["Next"] != "NeedsAttention"
        for name, s in states.items()
        if name != "RecordNeedsAttention"
        for c in s.get("Catch", [])
    )
    assert states["NeedsAttention"]["Type"] == "Fail"
