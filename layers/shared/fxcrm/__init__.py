"""fxcrm: the shared package of every fxcrm function (the `shared` layer).

Layout: `api` (web layer shared by the FastAPI functions), domain packages
(`auth`, `site`, ...), `dal` (the only code that talks to DynamoDB) and
`platform` (adapters to AWS services and external providers).
"""
