DROP VIEW monthly_usage;
DROP TABLE usage_records;
