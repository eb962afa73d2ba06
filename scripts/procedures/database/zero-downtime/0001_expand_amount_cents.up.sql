SET lock_timeout = '2s';
-- Expand: the new column, nullable, next to the old one.
alter table orders add column amount_cents bigint;
