-- The sequence is owned by invoices.number and goes with the table.
DROP TABLE invoices;
