"""Data access: the only modules that talk to DynamoDB, and the one boto3
client factory (`aws`) that every AWS call goes through. Key design and every
access pattern are listed in docs/data-model.md."""
