"""fxcrm: the shared package of every fxcrm function (the `shared` layer).

Layers, each importing only those below it (docs/architecture.md): `core` (the
kernel), `dal` (DynamoDB and the boto3 client factory), `adapters` (AWS services,
external providers and the trading platform), the domain packages (`auth`,
`funding`, `ledger`, ...) and `api` (the web layer of the FastAPI functions).
"""
