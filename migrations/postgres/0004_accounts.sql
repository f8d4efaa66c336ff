-- Accounts, as ../0005_accounts.sql: an opaque, random, stable id per name ('A-' and 8
-- characters of service/ids.py's alphabet), beside tokens, never published. The owner creates
-- them (`starosta token create`, imports); the service's role reads them.
CREATE TABLE accounts (
    id         text COLLATE "C" PRIMARY KEY CHECK (id ~ '^A-[0-9A-HJKMNP-TV-Z]{8}$'),
    name       text COLLATE "C" NOT NULL UNIQUE,
    created_at text COLLATE "C" NOT NULL
);

-- Every name already known gets its account: tokens' names and the log's actors. The
-- alphabet is service/ids.py's; tests/unit check that the two agree.
INSERT INTO accounts (id, name, created_at)
SELECT 'A-' || (SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ',
                                         1 + floor(random() * 32)::int, 1), '')
                FROM generate_series(1, 8) WHERE known.name IS NOT NULL),
       known.name, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')
FROM (SELECT name FROM tokens UNION SELECT actor FROM events
      WHERE actor IS NOT NULL AND actor <> '') AS known;

REVOKE ALL ON accounts FROM PUBLIC;
GRANT SELECT ON accounts TO starosta_service;
