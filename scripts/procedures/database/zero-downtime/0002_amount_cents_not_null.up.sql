SET lock_timeout = '2s';
-- NOT VALID: existing rows are not checked now, so only a brief lock is taken.
alter table orders add constraint orders_amount_cents_not_null check (amount_cents is not null) not valid;
