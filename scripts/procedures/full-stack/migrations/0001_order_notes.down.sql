drop table shopapp_order_notes;
