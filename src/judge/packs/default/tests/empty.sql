-- Hidden test "empty": no orders and no reviews at all, so aggregates over them
-- meet empty inputs (count is 0, sum is NULL) and outer joins keep every row.
DELETE FROM reviews;
DELETE FROM order_items;
DELETE FROM orders;
