"""State machines are created from their definition file with the template's
DefinitionSubstitutions resolved, as CloudFormation does with SAM's output."""

import boto3

from localcloud.provision import Stack, _state_machine
from localcloud.template import LOCAL_ARTIFACTS


def test_definition_substitutions_are_resolved(stack: Stack) -> None:
    _state_machine(
        boto3.Session(),
        stack.resolver,
        "InvokeAuthMachine",
        {  # as the transform writes an AWS::Serverless::StateMachine
            "DefinitionS3Location": {"Bucket": LOCAL_ARTIFACTS, "Key": "tests/support/asl/invoke_auth.asl.json"},
            "DefinitionSubstitutions": {"AuthFunctionArn": {"Fn::GetAtt": ["AuthFunction", "Arn"]}},
            "RoleArn": {"Fn::GetAtt": ["AccountOpeningFlowRole", "Arn"]},
        },
    )
    arn = stack.resolver.ref("InvokeAuthMachine")
    definition = boto3.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"]
    assert "${" not in definition
    assert stack.resolver.get_att("AuthFunction", "Arn") in definition
