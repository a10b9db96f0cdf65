-- An id per audit record (crates/state/src/audit.rs), so a record a replica spooled while the
-- database was unreachable, and sends again after a crash between the database keeping it and
-- the spool being emptied, is kept once: inserts name the id and skip one already kept.
-- Records appended before this migration have none (NULLs do not collide in a unique index).
ALTER TABLE audit_records ADD COLUMN record_id uuid;

CREATE UNIQUE INDEX audit_records_by_record_id ON audit_records (tenant, record_id);
