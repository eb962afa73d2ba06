SET lock_timeout = '2s';
-- A nullable column with no default: a catalog change, no table rewrite.
alter table orders add column status text;
