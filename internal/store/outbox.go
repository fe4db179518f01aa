package store

import (
	"context"
	"time"
)

// OutboxState is where a notification is in its delivery.
type OutboxState string

const (
	// OutboxPending: not delivered yet; due at NextAttempt.
	OutboxPending OutboxState = "pending"
	// OutboxDelivered: the receiver accepted it.
	OutboxDelivered OutboxState = "delivered"
	// OutboxDead: given up on (a permanent error, or too many attempts); LastError says why.
	OutboxDead OutboxState = "dead"
)

// OutboxMessage is one notification to deliver to one route. It is written before any delivery is
// tried, so a restart delivers what was pending.
type OutboxMessage struct {
	ID       string // unique, chosen by the caller (e.g. random hex); the key
	Route    string // the route (receiver) it goes to
	DedupKey string // identical alerts share a key; see EnqueueMessage
	Payload  []byte // what to deliver, opaque to the store
	State    OutboxState
	Attempts int
	// NextAttempt is when it is due; delivery workers also push it forward to claim a message.
	NextAttempt time.Time
	LastError   string // never holds a secret (the caller redacts)
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DeliveredAt time.Time // zero until delivered
	// ExpiresAt is when a finished message may be removed; zero keeps it.
	ExpiresAt time.Time
	// Version is the optimistic-concurrency counter, as for AgentRecord.
	Version int64
}

// Outbox is the durable queue of notifications.
type Outbox interface {
	// EnqueueMessage stores m as pending (Version becomes 1) and returns true, unless a message
	// with the same Route and DedupKey was enqueued at or after dedupSince (by its CreatedAt, in
	// any state; a zero dedupSince matches every such message): then it stores nothing and
	// returns false. The check and the write are one atomic step, so two concurrent enqueues
	// of the same alert store one message. An empty DedupKey never deduplicates. ErrConflict if
	// the ID exists; an error if ID or Route is empty.
	EnqueueMessage(ctx context.Context, m OutboxMessage, dedupSince time.Time) (bool, error)
	// DueMessages returns at most limit (all if limit <= 0) pending messages whose NextAttempt is
	// at or before now (a zero NextAttempt is due at once), earliest NextAttempt first.
	DueMessages(ctx context.Context, now time.Time, limit int) ([]OutboxMessage, error)
	// GetMessage returns the message with that ID, or ErrNotFound.
	GetMessage(ctx context.Context, id string) (OutboxMessage, error)
	// UpdateMessage replaces the message if m.Version equals the stored version and increments it,
	// returning it as stored; ErrConflict if the version moved, ErrNotFound if absent.
	UpdateMessage(ctx context.Context, m OutboxMessage) (OutboxMessage, error)
	// CountMessages returns how many messages are in each state.
	CountMessages(ctx context.Context) (map[OutboxState]int, error)
}
