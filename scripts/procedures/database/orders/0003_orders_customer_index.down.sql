SET lock_timeout = '2s';
drop index concurrently if exists orders_customer_id;
