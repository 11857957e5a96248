"""Adapters to AWS services and external providers. Only this package and
`fxcrm.dal` import boto3."""
