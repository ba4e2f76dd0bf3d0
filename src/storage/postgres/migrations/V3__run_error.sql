-- Version 3: the reason a run failed (`runs show`), NULL for runs that did not fail.
ALTER TABLE runs ADD COLUMN error TEXT;
