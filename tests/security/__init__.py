"""The security suite (issue 13): every finding of the attacker's review, and the classes that
already held, kept closed."""
