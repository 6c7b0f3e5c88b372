create table a (x int);

  insert into a values (1);   
select
  x
from a