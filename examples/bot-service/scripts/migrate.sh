#!/usr/bin/env bash
# The bot's init_db_safe: its schema, and (for the drill) the three leads it already holds.
set -euo pipefail
export PGPASSWORD="$POSTGRES_PASSWORD"
psql --no-psqlrc -v ON_ERROR_STOP=1 -q --host="$POSTGRES_HOST" --port="${POSTGRES_PORT:-5432}" \
  --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" <<'SQL'
CREATE TABLE IF NOT EXISTS leads (id serial PRIMARY KEY, chat_id bigint NOT NULL UNIQUE,
                                  source text NOT NULL);
INSERT INTO leads (chat_id, source) VALUES (1001, 'webhook'), (1002, 'webhook'), (1003, 'ads')
  ON CONFLICT (chat_id) DO NOTHING;
SQL
