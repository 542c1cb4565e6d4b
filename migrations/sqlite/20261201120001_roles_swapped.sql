-- Set by swap-roles: a later run that decides the roles again swaps its decision too, so a
-- reviewer's correction survives a reprocess.
ALTER TABLE recordings ADD COLUMN roles_swapped BIGINT NOT NULL DEFAULT 0;
