SET lock_timeout = '2s';
-- VALIDATE scans the table under SHARE UPDATE EXCLUSIVE: reads and writes go on.
alter table orders validate constraint orders_amount_cents_not_null;
