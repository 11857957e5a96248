"""Adapters to AWS services and external providers (files, mail, secrets,
sealing, workflows, payouts, captcha) and the trading platform: its port
(`trading.port`), its adapters and the per-server choice (`trading.servers`).
Only this package and `fxcrm.dal` import boto3."""
