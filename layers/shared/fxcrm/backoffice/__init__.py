"""The staff back office: clients and IBs, staff accounts, the audit log."""
