-- Validation changes no data; nothing to undo.
select 1;
