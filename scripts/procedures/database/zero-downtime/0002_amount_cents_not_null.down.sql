SET lock_timeout = '2s';
alter table orders drop constraint orders_amount_cents_not_null;
