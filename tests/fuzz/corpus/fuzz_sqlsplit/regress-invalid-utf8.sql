begin;
select 1;
commit;
savepoint a; rollback to savepoint a;