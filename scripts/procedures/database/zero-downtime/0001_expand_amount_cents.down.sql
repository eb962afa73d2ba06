SET lock_timeout = '2s';
alter table orders drop column amount_cents;
