select convalidated from pg_constraint where conname = 'orders_amount_cents_not_null';
