"""The local cloud: runs template.yaml on this machine with moto, no AWS account.

`python -m localcloud` (what `make dev` runs) starts moto in server mode,
provisions every resource of the template, loads each function's handler,
seeds demo data and serves the HTTP API on loopback.
"""
