-- The admins' search by exact email (ignoring case) reads one index entry instead of every user.
CREATE INDEX users_by_email ON users (email_folded, user_id);
