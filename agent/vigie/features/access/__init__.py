"""Access checks (issue 20): remote access, sign-in, Wi-Fi, password manager."""
