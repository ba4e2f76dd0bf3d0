-- Version 2: each hall-of-fame row's validation (PSR, DSR and their inputs, warnings, the
-- run's PBO) as JSON text. Rows written by version 1 keep NULL and read as `null`.
ALTER TABLE hall_of_fame ADD COLUMN validation_json TEXT;
