SET lock_timeout = '2s';
-- Built without blocking writes; runs outside a transaction.
create index concurrently if not exists orders_customer_id on orders (customer_id);
