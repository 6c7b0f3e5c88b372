select 'a;b', "we;ird" from t; -- c;d
select E'it\'s;', $$x;y$$, $q$ $$ ; $q$ /* ; /* ; */ ; */;
select U&'d\0061t;a'