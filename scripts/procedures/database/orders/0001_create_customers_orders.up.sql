SET lock_timeout = '2s';
create table customers (
  id bigint primary key,
  email text not null,
  created_at timestamptz not null default now()
);
create table orders (
  id bigint primary key,
  customer_id bigint not null references customers (id),
  total numeric(12, 2) not null,
  placed_at timestamptz not null default now()
);
