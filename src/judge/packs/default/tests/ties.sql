-- Hidden test "ties": rows that tie with existing ones on what the problems
-- sort or rank by (price, pages in a genre, surname, order counts), stored in
-- the reverse of the tie-breaker's order, so an answer without the tie-breaker
-- (or with row_number where rank is asked) comes out differently.
INSERT INTO authors (author_id, name, country, born) VALUES
    (17, 'Yara Dubois', 'Belgium', 1987),
    (18, 'Abel Dubois', 'Canada', NULL);

INSERT INTO books (book_id, title, author_id, genre_id, published, price, pages) VALUES
    (65, 'Wintry Empire', 17, 3, DATE '2012-05-05', 5.00, 321),
    (66, 'Amber Empire', 18, 3, DATE '2013-06-06', 5.00, 321),
    (67, 'Zephyr Letter', 17, 9, DATE '2008-08-08', 6.49, 700),
    (68, 'Aspen Letter', 18, 9, DATE '2009-09-09', 6.49, 700);

INSERT INTO customers (customer_id, first_name, last_name, email, city, joined_on, referred_by) VALUES
    (84, 'Zoe', 'Ahlberg', 'zoe.ahlberg84@example.com', 'Tallinn', DATE '2023-02-02', 4),
    (85, 'Adam', 'Ahlberg', 'adam.ahlberg85@example.com', 'Tallinn', DATE '2023-02-03', 4);

INSERT INTO orders (order_id, customer_id, ordered_at, status) VALUES
    (308, 84, TIMESTAMP '2024-05-05 10:00', 'delivered'),
    (309, 85, TIMESTAMP '2024-05-05 10:00', 'delivered'),
    (310, 84, TIMESTAMP '2024-06-06 11:00', 'delivered'),
    (311, 85, TIMESTAMP '2024-06-06 11:00', 'delivered');

INSERT INTO order_items (order_id, book_id, quantity, unit_price) VALUES
    (308, 65, 1, 5.00), (309, 66, 1, 5.00), (310, 67, 2, 6.49), (311, 68, 2, 6.49);

INSERT INTO reviews (review_id, book_id, customer_id, rating, reviewed_on) VALUES
    (201, 65, 84, 4, DATE '2024-05-20'), (202, 66, 85, 4, DATE '2024-05-20');

-- A second book at the top price of Noir (genre 4).
INSERT INTO books (book_id, title, author_id, genre_id, published, price, pages) VALUES
    (69, 'Obsidian Harbor', 18, 4, DATE '2015-10-10', 42.49, 280);
