"""Mail in the transformed template: every function sends through the
configuration set, whose bounces and complaints reach the MailEvents
function through an SNS topic only SES may publish to."""

from typing import Any


def _resources(cloudformation: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in cloudformation["Resources"].items() if r["Type"] == kind}


def test_functions_send_through_the_configuration_set(cloudformation: dict[str, Any]) -> None:
    assert "MailConfigurationSet" in _resources(cloudformation, "AWS::SES::ConfigurationSet")
    for name, function in _resources(cloudformation, "AWS::Lambda::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["MAIL_CONFIGURATION_SET"] == {"Ref": "MailConfigurationSet"}, name


def test_bounces_and_complaints_reach_the_mail_events_function(cloudformation: dict[str, Any]) -> None:
    (destination,) = _resources(cloudformation, "AWS::SES::ConfigurationSetEventDestination").values()
    props = destination["Properties"]
    assert props["ConfigurationSetName"] == {"Ref": "MailConfigurationSet"}
    event = props["EventDestination"]
    assert event["Enabled"] is True and set(event["MatchingEventTypes"]) == {"bounce", "complaint"}
    topic = event["SnsDestination"]["TopicARN"]
    assert topic == {"Ref": "MailEventsTopic"}
    subscriptions = [
        s["Properties"]
        for s in _resources(cloudformation, "AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == topic
    ]
    assert subscriptions == [
        {"Protocol": "lambda", "TopicArn": topic, "Endpoint": {"Fn::GetAtt": ["MailEventsFunction", "Arn"]}}
    ]


def test_only_ses_for_this_account_may_publish_to_the_topic(cloudformation: dict[str, Any]) -> None:
    (policy,) = _resources(cloudformation, "AWS::SNS::TopicPolicy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "ses.amazonaws.com"} and statement["Action"] == "sns:Publish"
    assert statement["Condition"]["StringEquals"]["AWS:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert (
        "configuration-set/${MailConfigurationSet}"
        in statement["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    )
