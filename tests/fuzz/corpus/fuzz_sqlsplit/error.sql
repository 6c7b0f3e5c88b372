select 1;
select é from x where