-- 003-users: the dashboard's users (health-serve).  Passwords as
-- PBKDF2-HMAC-SHA256 with a per-user salt; sessions (001) hold only the
-- SHA-256 of their token.
CREATE TABLE users (
	username   TEXT PRIMARY KEY,
	salt       TEXT NOT NULL,       -- hex, 16 random bytes
	hash       TEXT NOT NULL,       -- hex, 32 bytes
	iterations BIGINT NOT NULL,
	created_ms BIGINT NOT NULL,
	updated_ms BIGINT NOT NULL
);
CREATE INDEX sessions_username ON sessions (username);
