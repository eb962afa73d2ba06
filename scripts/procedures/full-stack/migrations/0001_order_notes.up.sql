-- Release 1.1 keeps notes on orders: a new table, so no lock on shopapp_orders beyond the foreign key's SHARE ROW EXCLUSIVE.
create table shopapp_order_notes (
  order_id bigint primary key references shopapp_orders (id),
  note text not null,
  written_at timestamptz not null default now()
);
