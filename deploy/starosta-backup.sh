#!/usr/bin/env bash
# Back up the live archive and verify the copy: its chain is intact, it holds the head the live
# service published just before the copy, and the head the previous run recorded (so a history
# rewritten or cut short between two runs fails here). Then check the live read models against
# a rebuild from the log (a row changed behind the service's back, which the chain cannot see,
# fails here, naming the read model). Run by deploy/starosta-backup.service;
# prints what it did and exits non-zero on any failure (the unit then shows as failed).
set -euo pipefail

STAROSTA="${STAROSTA:-/opt/starosta/.venv/bin/starosta}"  # the `starosta` command
STAROSTA_DB="${STAROSTA_DB:-/var/lib/starosta/starosta.db}"  # the live archive
BACKUP_DIR="${BACKUP_DIR:-/var/backups/starosta}"            # one new file per run
HEAD_URL="${HEAD_URL:-http://127.0.0.1:8000/events/head}"     # the live service's GET /events/head

# The head the live archive serves now: the copy, taken after, must hold it.
head=$(python3 -c 'import json, sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=10) as answer:
        head = json.load(answer)
except (OSError, ValueError) as exc:
    sys.exit(f"cannot read the live head from {sys.argv[1]}: {exc} (is starosta.service running?)")
print(head["position"], head["hash"])' "$HEAD_URL")
position=${head% *}
hash=${head#* }
echo "live head: position $position, hash $hash"

stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
target="$BACKUP_DIR/starosta-$stamp.db"
"$STAROSTA" backup "$target" --db "$STAROSTA_DB"
if [[ "$position" == 0 ]]; then
    # an empty archive publishes the chain's start (64 zeros), which is no row to expect
    "$STAROSTA" verify --db "$target"
else
    "$STAROSTA" verify --db "$target" --expect-head "$hash"

    # heads.log: one line per verified run (position, hash, time, copy). Keep a copy of it, or
    # publish the heads, somewhere this machine cannot rewrite.
    if [[ -s "$BACKUP_DIR/heads.log" ]]; then
        previous=$(tail -n 1 "$BACKUP_DIR/heads.log" | cut -d ' ' -f 2)
        "$STAROSTA" verify --db "$target" --expect-head "$previous"
    fi
    echo "$position $hash $stamp $target" >> "$BACKUP_DIR/heads.log"
fi

# The live read models, rebuilt beside the tables the service reads (it keeps serving) and
# compared with them: what the service serves must be what the log says. Checked last, so
# the copy and its head are recorded whatever it finds.
"$STAROSTA" verify --read-models --db "$STAROSTA_DB"
