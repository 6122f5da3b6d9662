"""Users, personal API tokens and the `CurrentUser` dependency."""
