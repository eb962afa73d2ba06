select indisvalid from pg_index where indexrelid = 'orders_customer_id'::regclass;
