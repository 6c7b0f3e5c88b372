		--
-- 5Nepublic; T;
alter type e add value 'x' after 'a';

-- *not* canteigfselect e