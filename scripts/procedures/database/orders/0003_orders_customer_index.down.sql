SET lock_timeout = '2s';
drop index concurrently orders_customer_id;
