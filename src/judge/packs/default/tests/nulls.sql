-- Hidden test "nulls": more rows with NULL where NULL is allowed (unknown birth
-- year, no parent genre, nobody who referred), and a city with customers but no
-- orders, where an inner join or `= NULL` quietly drops rows.
INSERT INTO authors (author_id, name, country, born) VALUES
    (19, 'Mira Kask', 'Estonia', NULL);

INSERT INTO genres (genre_id, name, parent_id) VALUES
    (14, 'Drama', NULL),
    (15, 'Essays', 8);

INSERT INTO customers (customer_id, first_name, last_name, email, city, joined_on, referred_by) VALUES
    (86, 'Lea', 'Tamm', 'lea.tamm86@example.com', 'Tartu', DATE '2022-03-03', NULL),
    (87, 'Otto', 'Saar', 'otto.saar87@example.com', 'Tartu', DATE '2022-04-04', 86);
