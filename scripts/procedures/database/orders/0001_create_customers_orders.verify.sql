select to_regclass('orders') is not null and to_regclass('customers') is not null;
