"""auth-service: user registration and login, issuing the JWTs that acad-service accepts."""
