"""A deployed stack's outputs (or, failing those, its resources), read with
CloudFormation: where the bootstrap writes to (`python -m fxcrm.ops`)."""

from dataclasses import dataclass

from botocore.exceptions import ClientError

from fxcrm.dal import aws


@dataclass(frozen=True)
class Target:
    table: str
    ses_sender: str = ""  # the stack's SesSender parameter: the admin's password is mailed from it
    console_url: str = ""


class StackNotReady(Exception):
    pass


def find(stack_name: str) -> Target:
    cfn = aws.client("cloudformation")
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:  # "Stack with id ... does not exist"
        raise StackNotReady(f"no stack named {stack_name}: {error.response['Error'].get('Message', '')}") from error
    stack = stacks[0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    table = outputs.get("DomainTableName") or _physical_id(stack_name, "DomainTable")
    api = outputs.get("ApiUrl", "")
    return Target(table, parameters.get("SesSender", ""), f"{api}/admin/console" if api else "")


def _physical_id(stack_name: str, logical_id: str) -> str:
    try:
        found = aws.client("cloudformation").describe_stack_resource(StackName=stack_name, LogicalResourceId=logical_id)
    except ClientError as error:
        raise StackNotReady(f"stack {stack_name} has no {logical_id} (output DomainTableName) yet") from error
    return str(found["StackResourceDetail"]["PhysicalResourceId"])
