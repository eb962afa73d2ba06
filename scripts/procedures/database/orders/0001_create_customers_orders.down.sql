SET lock_timeout = '2s';
drop table orders;
drop table customers;
