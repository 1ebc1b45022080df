"""Staff accounts (argon2 passwords) and sign-in sessions."""
