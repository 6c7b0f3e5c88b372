-- build without blocking writers
create index concurrently i on t (a);
alter type e add value 'x' after 'a';
refresh materialized view concurrently m;
vacuum (analyze) t;
reindex (concurrently) table t;
alter table p detach partition c concurrently;
create subscription s connection 'x' publication p with (connect = off);
