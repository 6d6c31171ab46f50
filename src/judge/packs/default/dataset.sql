-- Huddle default pack: a small online bookstore.
-- Every row is generated deterministically (integer arithmetic, no random()),
-- so the expected results are the same on every PostgreSQL and PGlite.
-- Loaded with search_path = bookstore: names are left unqualified.

CREATE TABLE authors (
    author_id integer PRIMARY KEY,
    name      text    NOT NULL,
    country   text    NOT NULL,
    born      integer            -- birth year; NULL when unknown
);

CREATE TABLE genres (
    genre_id  integer PRIMARY KEY,
    name      text    NOT NULL UNIQUE,
    parent_id integer REFERENCES genres
);

CREATE TABLE books (
    book_id   integer       PRIMARY KEY,
    title     text          NOT NULL,
    author_id integer       NOT NULL REFERENCES authors,
    genre_id  integer       NOT NULL REFERENCES genres,
    published date          NOT NULL,
    price     numeric(6, 2) NOT NULL,
    pages     integer       NOT NULL
);

CREATE TABLE customers (
    customer_id integer PRIMARY KEY,
    first_name  text    NOT NULL,
    last_name   text    NOT NULL,
    email       text    NOT NULL UNIQUE,
    city        text    NOT NULL,
    joined_on   date    NOT NULL,
    referred_by integer REFERENCES customers
);

CREATE TABLE orders (
    order_id    integer   PRIMARY KEY,
    customer_id integer   NOT NULL REFERENCES customers,
    ordered_at  timestamp NOT NULL,
    status      text      NOT NULL CHECK (status IN ('delivered', 'shipped', 'cancelled'))
);

CREATE TABLE order_items (
    order_id   integer       NOT NULL REFERENCES orders,
    book_id    integer       NOT NULL REFERENCES books,
    quantity   integer       NOT NULL CHECK (quantity > 0),
    unit_price numeric(6, 2) NOT NULL,
    PRIMARY KEY (order_id, book_id)
);

CREATE TABLE reviews (
    review_id   integer PRIMARY KEY,
    book_id     integer NOT NULL REFERENCES books,
    customer_id integer NOT NULL REFERENCES customers,
    rating      integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
    reviewed_on date    NOT NULL
);

INSERT INTO authors (author_id, name, country, born) VALUES
    (1, 'Amara Okafor', 'Nigeria', 1968),
    (2, 'Lars Henriksen', 'Norway', 1955),
    (3, 'Mei Lin Zhou', 'China', 1979),
    (4, 'Tomás Ferreira', 'Portugal', 1983),
    (5, 'Hannah Weiss', 'Germany', NULL),
    (6, 'Rafael Ortega', 'Mexico', 1961),
    (7, 'Ingrid Solberg', 'Norway', 1972),
    (8, 'Kwame Mensah', 'Ghana', 1990),
    (9, 'Priya Raman', 'India', 1985),
    (10, 'Oliver Grant', 'United Kingdom', 1948),
    (11, 'Sofia Marchetti', 'Italy', NULL),
    (12, 'Yusuf Demir', 'Turkey', 1976),
    (13, 'Claire Dubois', 'France', 1966),
    (14, 'Daniel O''Brien', 'Ireland', 1981),
    (15, 'Aiko Tanaka', 'Japan', 1993),
    (16, 'Elena Petrova', 'Bulgaria', NULL);

INSERT INTO genres (genre_id, name, parent_id) VALUES
    (1, 'Fiction', NULL),
    (2, 'Mystery', 1),
    (3, 'Cozy Mystery', 2),
    (4, 'Noir', 2),
    (5, 'Science Fiction', 1),
    (6, 'Space Opera', 5),
    (7, 'Fantasy', 1),
    (8, 'Non-fiction', NULL),
    (9, 'History', 8),
    (10, 'Ancient History', 9),
    (11, 'Science', 8),
    (12, 'Astronomy', 11),
    (13, 'Poetry', NULL);

-- 60 books; titles are unique because (g mod 10, 7g mod 12) never repeats for g = 1..60.
-- Authors 15 and 16 have no books yet.
INSERT INTO books (book_id, title, author_id, genre_id, published, price, pages)
SELECT g,
       (ARRAY['Silent', 'Crimson', 'Hidden', 'Broken', 'Golden', 'Distant', 'Frozen', 'Last', 'Secret', 'Wandering'])[1 + g % 10]
         || ' ' ||
       (ARRAY['River', 'Harbor', 'Garden', 'Orbit', 'Empire', 'Letter', 'Mountain', 'Engine', 'Lantern', 'Archive', 'Comet', 'Kingdom'])[1 + (g * 7) % 12],
       1 + (g * 5) % 14,
       (ARRAY[3, 4, 6, 7, 9, 10, 12, 13, 2, 5, 11])[1 + g % 11],
       DATE '1990-01-01' + (g * 173) % 12000,
       5 + (g * 37) % 40 + (ARRAY[0.00, 0.49, 0.99, 0.50])[1 + g % 4],
       120 + (g * 53) % 600
FROM generate_series(1, 60) AS g;

-- 80 customers; from customer 4 on, two of every three were referred by customer c / 3.
INSERT INTO customers (customer_id, first_name, last_name, email, city, joined_on, referred_by)
SELECT c, f, l, lower(f || '.' || l) || c || '@example.com', city, joined, ref
FROM (
    SELECT c,
           (ARRAY['Ana', 'Ben', 'Chloe', 'David', 'Emma', 'Felix', 'Grace', 'Hugo', 'Iris', 'Jonas', 'Kara', 'Liam', 'Maya', 'Noah', 'Olga', 'Paul'])[1 + c % 16] AS f,
           (ARRAY['Silva', 'Novak', 'Berg', 'Costa', 'Meyer', 'Kowalski', 'Rossi', 'Jensen', 'Moreau', 'Nagy', 'Horvat', 'Santos', 'Fischer', 'Larsen', 'Murphy'])[1 + (c * 7) % 15] AS l,
           (ARRAY['Lisbon', 'Porto', 'Berlin', 'Oslo', 'Warsaw', 'Dublin', 'Madrid', 'Vienna'])[1 + ((c * 5) % 13) % 8] AS city,
           DATE '2021-01-01' + (c * 11) % 900 AS joined,
           CASE WHEN c >= 4 AND c % 3 <> 0 THEN c / 3 END AS ref
    FROM generate_series(1, 80) AS c
) AS gen;

-- 300 orders over 2023-2024; customers 71-80 never ordered.
INSERT INTO orders (order_id, customer_id, ordered_at, status)
SELECT o,
       1 + (o * 17) % 70,
       TIMESTAMP '2023-01-01 08:00' + ((o * 97) % 730) * INTERVAL '1 day'
                                    + ((o * 13) % 14) * INTERVAL '1 hour'
                                    + ((o * 7) % 60) * INTERVAL '1 minute',
       CASE WHEN o % 11 = 0 THEN 'cancelled' WHEN o % 5 = 0 THEN 'shipped' ELSE 'delivered' END
FROM generate_series(1, 300) AS o;

-- One to three lines per order, at the book's list price.
INSERT INTO order_items (order_id, book_id, quantity, unit_price)
SELECT o.order_id, b.book_id, 1 + (o.order_id + k) % 3, b.price
FROM orders AS o
CROSS JOIN generate_series(1, 1 + o.order_id % 3) AS k
JOIN books AS b ON b.book_id = 1 + (o.order_id * 7 + k * 13) % 60;

-- 200 reviews of books 1-55 (books 56-60 have none).
INSERT INTO reviews (review_id, book_id, customer_id, rating, reviewed_on)
SELECT r,
       1 + (r * 7) % 55,
       1 + (r * 23) % 80,
       1 + (r * 13 + r / 7) % 5,
       DATE '2023-02-01' + (r * 19) % 680
FROM generate_series(1, 200) AS r;

CREATE INDEX books_author_idx ON books (author_id);
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE INDEX reviews_book_idx ON reviews (book_id);

ANALYZE authors, genres, books, customers, orders, order_items, reviews;
