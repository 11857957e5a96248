"""State machines are created from their DefinitionUri with the template's
DefinitionSubstitutions resolved, as SAM does."""

import boto3

from localcloud.provision import Stack, _state_machine


def test_definition_substitutions_are_resolved(stack: Stack) -> None:
    _state_machine(
        boto3.Session(),
        stack.resolver,
        "InvokeAuthMachine",
        {
            "DefinitionUri": "tests/support/asl/invoke_auth.asl.json",
            "DefinitionSubstitutions": {"AuthFunctionArn": {"Fn::GetAtt": ["AuthFunction", "Arn"]}},
        },
    )
    arn = stack.resolver.ref("InvokeAuthMachine")
    definition = boto3.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"]
    assert "${" not in definition
    assert stack.resolver.get_att("AuthFunction", "Arn") in definition
