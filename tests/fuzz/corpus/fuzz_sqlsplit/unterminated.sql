select $$never closed;
