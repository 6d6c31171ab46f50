-- Hidden test "boundary": rows that sit exactly on the limits the problems name
-- (a price of 10.00, 200 pages, midnight at the start of a year or quarter, an
-- anniversary to the day), where `<` and `<=`, or BETWEEN on timestamps, differ.
INSERT INTO books (book_id, title, author_id, genre_id, published, price, pages) VALUES
    (61, 'Paper Lantern', 15, 7, DATE '1994-06-01', 10.00, 200),
    (62, 'Glass Orchard', 2, 2, DATE '1995-01-01', 30.00, 199),
    (63, 'Tin Compass', 3, 5, DATE '1994-06-02', 20.00, 350),
    (64, 'Velvet Orbit', 4, 6, DATE '2001-03-09', 30.01, 410);

INSERT INTO customers (customer_id, first_name, last_name, email, city, joined_on, referred_by) VALUES
    (81, 'Rita', 'Sousa', 'rita.sousa81@example.com', 'Porto', DATE '2022-01-01', NULL),
    (82, 'Sven', 'Holm', 'sven.holm82@example.com', 'Oslo', DATE '2023-01-01', NULL),
    (83, 'Tara', 'Quinn', 'tara.quinn83@example.com', 'Dublin', DATE '2022-12-31', NULL);

INSERT INTO orders (order_id, customer_id, ordered_at, status) VALUES
    (301, 5, TIMESTAMP '2024-01-01 00:00', 'delivered'),
    (302, 6, TIMESTAMP '2025-01-01 00:00', 'cancelled'),
    (303, 8, TIMESTAMP '2024-03-31 23:59:59', 'delivered'),
    (304, 9, TIMESTAMP '2024-04-01 00:00', 'delivered'),
    (305, 10, TIMESTAMP '2024-03-04 00:00', 'shipped'),
    (306, 11, TIMESTAMP '2024-01-01 00:00', 'cancelled'),
    (307, 12, TIMESTAMP '2023-12-31 23:59:59', 'cancelled');

INSERT INTO order_items (order_id, book_id, quantity, unit_price) VALUES
    (301, 61, 2, 10.00), (302, 62, 1, 30.00), (303, 63, 1, 20.00), (304, 1, 3, 5.50),
    (305, 64, 1, 30.01), (306, 2, 1, 12.99), (307, 3, 2, 18.49);
