"""Operating a deployed stack: `python -m fxcrm.ops bootstrap` (docs/operations.md)."""
