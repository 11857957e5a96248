"""Data access: the only modules that talk to DynamoDB. Key design and every
access pattern are listed in docs/data-model.md."""
