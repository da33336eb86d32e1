-- The schema the API expects (in production: `npx prisma db push`).
CREATE TABLE IF NOT EXISTS accounts (
    id    serial PRIMARY KEY,
    name  text NOT NULL UNIQUE,
    added timestamptz NOT NULL DEFAULT now()
);
