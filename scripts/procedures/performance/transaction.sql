-- One client transaction of the load: read an account, then change its balance (a row lock).
\set id random(1, :rows)
BEGIN;
SELECT balance FROM perf_accounts WHERE id = :id;
UPDATE perf_accounts SET balance = balance + 1 WHERE id = :id;
COMMIT;
