"""Enterprise single sign-on: OpenID Connect per organization, just-in-time membership, enforcement."""
