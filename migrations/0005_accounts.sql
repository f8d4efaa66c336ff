-- Accounts (issue 18): each person holding tokens gets an opaque, random, stable id ('A-' and 8
-- characters of the project's id alphabet, service/ids.py), which new events carry as their
-- actor in place of the person's name, and which readers below reviewer see. Operational, like
-- tokens: beside the log, backed up, never published. One account per name: a new token for a
-- name keeps its account.
CREATE TABLE accounts (
    id         TEXT PRIMARY KEY CHECK (length(id) = 10 AND id GLOB 'A-[0-9A-HJKMNP-TV-Z][0-9A-HJKMNP-TV-Z][0-9A-HJKMNP-TV-Z][0-9A-HJKMNP-TV-Z][0-9A-HJKMNP-TV-Z][0-9A-HJKMNP-TV-Z][0-9A-HJKMNP-TV-Z][0-9A-HJKMNP-TV-Z]'),
    name       TEXT NOT NULL UNIQUE,      -- the tokens' name: shown to reviewers and admins only
    created_at TEXT NOT NULL
);

-- Every name already known gets its account: the names of tokens, and the actors of the log
-- (rows written before accounts carry names). The alphabet is service/ids.py's (Crockford
-- base32: no I, L, O, U); tests/unit check that the two agree.
INSERT INTO accounts (id, name, created_at)
SELECT 'A-' || substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (abs(random()) % 32), 1)
            || substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (abs(random()) % 32), 1)
            || substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (abs(random()) % 32), 1)
            || substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (abs(random()) % 32), 1)
            || substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (abs(random()) % 32), 1)
            || substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (abs(random()) % 32), 1)
            || substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (abs(random()) % 32), 1)
            || substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (abs(random()) % 32), 1),
       name, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')
FROM (SELECT name FROM tokens UNION SELECT actor FROM events WHERE actor IS NOT NULL AND actor <> '');
