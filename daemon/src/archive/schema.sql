-- The order archive, version 1. Portable SQL: SQLite and PostgreSQL run it
-- as it is (TEXT, BIGINT, ON CONFLICT upserts, no engine-specific types).
CREATE TABLE IF NOT EXISTS archived_orders (
    id TEXT PRIMARY KEY,
    restaurant TEXT NOT NULL,
    ticket BIGINT NOT NULL,
    customer_id TEXT NOT NULL,
    state TEXT NOT NULL,
    total BIGINT NOT NULL,
    currency TEXT NOT NULL,
    payment_state TEXT NOT NULL,
    captured BIGINT NOT NULL,
    refunded BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    accepted_at BIGINT,
    ready_at BIGINT,
    finished_at BIGINT NOT NULL,
    archived_at BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS archived_orders_by_customer
    ON archived_orders (customer_id, created_at);
CREATE INDEX IF NOT EXISTS archived_orders_by_restaurant
    ON archived_orders (restaurant, created_at);
CREATE TABLE IF NOT EXISTS archived_lines (
    order_id TEXT NOT NULL,
    line BIGINT NOT NULL,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    qty BIGINT NOT NULL,
    unit_price BIGINT NOT NULL,
    station TEXT NOT NULL,
    PRIMARY KEY (order_id, line)
);
