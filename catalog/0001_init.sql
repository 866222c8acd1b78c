-- 0001_init: the catalog's first schema. Times are Unix seconds (UTC); JSON is stored as text.
CREATE TABLE runs (
    id          TEXT PRIMARY KEY,
    command     TEXT NOT NULL,
    policy      TEXT,
    env         TEXT,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    status      TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running','succeeded','failed','partial','interrupted','abandoned')),
    exit_code   INTEGER,
    error       TEXT
);
CREATE INDEX runs_status ON runs(status);

CREATE TABLE backups (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('rds','ebs','broker','config')),
    env          TEXT,
    target       TEXT,
    source       TEXT,
    location     TEXT,
    region       TEXT,
    status       TEXT NOT NULL
                 CHECK (status IN ('running','pending','completed','failed','expired','deleted')),
    started_at   INTEGER NOT NULL,
    completed_at INTEGER,
    taken_at     INTEGER,
    size_bytes   INTEGER,
    item_count   INTEGER,
    sha256       TEXT,
    manifest     TEXT,
    policy       TEXT,
    keep_reason  TEXT,
    expires_at   INTEGER,
    verified_at  INTEGER,
    hold         TEXT,
    checkpoint   TEXT,
    run_id       TEXT REFERENCES runs(id),
    error        TEXT
);
CREATE INDEX backups_kind_env ON backups(kind, env, status);
CREATE INDEX backups_target ON backups(target, started_at);

CREATE TABLE copies (
    backup_id   TEXT NOT NULL REFERENCES backups(id),
    region      TEXT NOT NULL,
    location    TEXT,
    status      TEXT NOT NULL
                CHECK (status IN ('running','pending','completed','failed','expired','deleted')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (backup_id, region)
);

CREATE TABLE restores (
    id          TEXT PRIMARY KEY,
    backup_id   TEXT,
    kind        TEXT NOT NULL,
    target      TEXT,
    run_id      TEXT REFERENCES runs(id),
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    status      TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running','succeeded','failed','partial','interrupted','abandoned')),
    detail      TEXT
);

CREATE TABLE drills (
    id          TEXT PRIMARY KEY,
    components  TEXT NOT NULL,
    run_id      TEXT REFERENCES runs(id),
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    status      TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running','passed','failed','interrupted','abandoned')),
    report      TEXT
);

-- Append-only: the triggers refuse updates and deletes.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    run_id      TEXT,
    backup_id   TEXT,
    event       TEXT NOT NULL,
    detail      TEXT
);
CREATE INDEX events_backup ON events(backup_id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
