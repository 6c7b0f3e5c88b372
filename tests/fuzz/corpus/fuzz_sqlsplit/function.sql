create function f() returns trigger language plpgsql as $body$
begin
  new.updated := now();
  raise notice 'a;b';
  return new;
end;
$body$;
create trigger tr before update on t
  for each row execute function f();
do $$ begin perform 1; end $$;
