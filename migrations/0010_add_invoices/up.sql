CREATE SEQUENCE invoice_number_seq START WITH 1000;

CREATE TABLE invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number text NOT NULL UNIQUE
        DEFAULT ('INV-' || lpad(nextval('invoice_number_seq')::text, 8, '0')),
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    subscription_id bigint REFERENCES subscriptions (id) ON DELETE SET NULL,
    currency char(3) NOT NULL DEFAULT 'USD',
    subtotal numeric(12,2) NOT NULL,
    tax numeric(12,2) NOT NULL DEFAULT 0,
    total numeric(12,2) GENERATED ALWAYS AS (subtotal + tax) STORED,
    amount_paid numeric(12,2) NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'draft',
    period_start date NOT NULL,
    period_end date NOT NULL,
    issued_at timestamptz,
    due_at timestamptz,
    paid_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT invoices_amounts_check CHECK (subtotal >= 0 AND tax >= 0 AND amount_paid >= 0),
    CONSTRAINT invoices_status_check
        CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')),
    CONSTRAINT invoices_period_check CHECK (period_end >= period_start)
);

ALTER SEQUENCE invoice_number_seq OWNED BY invoices.number;

CREATE INDEX invoices_user_id_issued_at_idx ON invoices (user_id, issued_at DESC);
CREATE INDEX invoices_open_due_at_idx ON invoices (due_at) WHERE status = 'open';
