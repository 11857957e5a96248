"""Identity: users, passwords, tokens, email codes, captcha and permissions."""
