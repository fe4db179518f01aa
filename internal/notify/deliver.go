package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/adofleet/adofleet/internal/secret"
	"github.com/adofleet/adofleet/internal/store"
)

// Run delivers due messages until ctx ends: at once when Publish enqueues, and every
// PollInterval for retries. It returns ctx's error; sends in flight are finished first.
func (n *Notifier) Run(ctx context.Context) error {
	t := time.NewTicker(n.opts.PollInterval)
	defer t.Stop()
	for {
		if _, err := n.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("notification delivery round failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-n.wake:
		}
	}
}

// DeliverDue runs one delivery round: it claims the messages due now, sends them, and records
// each outcome. It returns how many messages it tried to send. Run calls it; tests call it with
// an injected clock.
func (n *Notifier) DeliverDue(ctx context.Context) (int, error) {
	now := n.opts.Now()
	n.refreshDepth(ctx, now)
	due, err := n.opts.Outbox.DueMessages(ctx, now, n.opts.BatchSize)
	if err != nil {
		return 0, fmt.Errorf("due notifications: %w", err)
	}
	var (
		wg   sync.WaitGroup
		sem  = make(chan struct{}, n.opts.Concurrency)
		mu   sync.Mutex
		sent int
	)
	for _, m := range due {
		r := n.byName[m.Route]
		if r == nil {
			n.finish(ctx, m, store.OutboxDead, now, fmt.Sprintf("route %q is no longer configured", m.Route))
			continue
		}
		claimed, ok := n.claim(ctx, r, m, now)
		if !ok {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			n.deliver(ctx, r, claimed)
			mu.Lock()
			sent++
			mu.Unlock()
		})
	}
	wg.Wait()
	return sent, nil
}

// claim takes a token from the route's rate limit and pushes the message's NextAttempt past
// the send, so that another worker (or a second controller on the same store) skips it. When
// the rate limit says wait, the message is pushed back until a token is due instead.
func (n *Notifier) claim(ctx context.Context, r *route, m store.OutboxMessage, now time.Time) (store.OutboxMessage, bool) {
	res := r.limit.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		n.m.deliveries.WithLabelValues(r.Name, outcomeRateLimited).Inc()
		m.NextAttempt, m.UpdatedAt = now.Add(d), now
		if _, err := n.opts.Outbox.UpdateMessage(ctx, m); err != nil && !errors.Is(err, store.ErrConflict) {
			n.log.Warn("postpone rate-limited notification", "route", r.Name, "id", m.ID, "err", err)
		}
		return m, false
	}
	m.Attempts++
	m.NextAttempt = now.Add(n.opts.SendTimeout + 30*time.Second) // re-sent after this if we crash
	m.UpdatedAt = now
	claimed, err := n.opts.Outbox.UpdateMessage(ctx, m)
	if err != nil {
		res.CancelAt(now)
		if !errors.Is(err, store.ErrConflict) {
			n.log.Warn("claim notification", "route", r.Name, "id", m.ID, "err", err)
		}
		return m, false
	}
	return claimed, true
}

// deliver sends one claimed message and records the outcome.
func (n *Notifier) deliver(ctx context.Context, r *route, m store.OutboxMessage) {
	log := n.log.With("route", r.Name, "id", m.ID, "attempt", m.Attempts)
	start := n.opts.Now()
	retryAfter, err := n.send(ctx, r, m)
	now := n.opts.Now()
	n.m.send.WithLabelValues(r.Name).Observe(now.Sub(start).Seconds())
	if err == nil {
		n.m.deliveries.WithLabelValues(r.Name, outcomeDelivered).Inc()
		n.m.latency.WithLabelValues(r.Name).Observe(now.Sub(m.CreatedAt).Seconds())
		m.DeliveredAt = now
		n.finish(ctx, m, store.OutboxDelivered, now, "")
		log.Debug("notification delivered")
		return
	}
	var perm *permanentError
	if errors.As(err, &perm) || m.Attempts >= r.MaxAttempts {
		n.m.deliveries.WithLabelValues(r.Name, outcomeDead).Inc()
		n.m.failed.WithLabelValues(r.Name).Inc()
		n.finish(ctx, m, store.OutboxDead, now, err.Error())
		log.Error("notification given up", "err", err, "attempts", m.Attempts)
		return
	}
	delay := n.backoff(m.Attempts)
	if retryAfter > 0 {
		delay = retryAfter
	}
	n.m.deliveries.WithLabelValues(r.Name, outcomeRetry).Inc()
	m.NextAttempt, m.LastError, m.UpdatedAt = now.Add(delay), err.Error(), now
	if _, uerr := n.opts.Outbox.UpdateMessage(context.WithoutCancel(ctx), m); uerr != nil {
		log.Warn("record notification retry", "err", uerr)
	}
	log.Warn("notification failed; will retry", "err", err, "retry_in", delay.String())
}

// finish records a final state.
func (n *Notifier) finish(ctx context.Context, m store.OutboxMessage, state store.OutboxState, now time.Time, lastErr string) {
	m.State, m.UpdatedAt, m.LastError = state, now, lastErr
	m.ExpiresAt = now.Add(n.opts.Retention)
	if _, err := n.opts.Outbox.UpdateMessage(context.WithoutCancel(ctx), m); err != nil {
		n.log.Warn("record notification outcome", "route", m.Route, "id", m.ID, "state", state, "err", err)
	}
}

// backoff is exponential in the attempt number, with jitter over its upper half.
func (n *Notifier) backoff(attempt int) time.Duration {
	d := float64(n.opts.MinBackoff) * math.Pow(2, float64(attempt-1))
	if d > float64(n.opts.MaxBackoff) || math.IsInf(d, 0) {
		d = float64(n.opts.MaxBackoff)
	}
	return time.Duration(d/2 + d/2*n.opts.Rand())
}

// permanentError is a failure retrying cannot fix (a 4xx other than 408 and 429).
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

// send POSTs the payload. Its errors never contain the URL or a secret.
func (n *Notifier) send(ctx context.Context, r *route, m store.OutboxMessage) (retryAfter time.Duration, err error) {
	u, err := r.url.Get(ctx)
	if err != nil {
		return 0, fmt.Errorf("webhook url: %w", err) // names the reference, never the value
	}
	ctx, cancel := context.WithTimeout(ctx, n.opts.SendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.Reveal(), bytes.NewReader(m.Payload))
	if err != nil {
		return 0, &permanentError{"webhook url: not a valid URL"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "adofleet-notify")
	if r.signing != nil {
		key, err := r.signing.Get(ctx)
		if err != nil {
			return 0, fmt.Errorf("signing secret: %w", err)
		}
		ts := n.opts.Now()
		req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		req.Header.Set(HeaderSignature, Sign([]byte(key.Reveal()), ts, m.Payload))
		req.Header.Set(HeaderEvent, eventTypeOf(m.Payload))
		req.Header.Set(HeaderDelivery, m.ID)
	}
	resp, err := n.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, errors.New(redact(transportError(err), u))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	msg := redact(fmt.Sprintf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(snippet))), u)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return parseRetryAfter(resp.Header.Get("Retry-After"), n.opts.Now()), errors.New(msg)
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		return parseRetryAfter(resp.Header.Get("Retry-After"), n.opts.Now()), errors.New(msg)
	default:
		return 0, &permanentError{msg}
	}
}

// transportError drops *url.Error's method and URL, keeping the cause (a dial error, a timeout).
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "POST: timeout: " + ue.Err.Error()
		}
		return "POST: " + ue.Err.Error()
	}
	return err.Error()
}

// redact removes the URL from s, and each of its path segments and query values long enough to
// be a secret (Slack's and Teams' URLs carry their credentials there), in case a cause or a
// response quotes them.
func redact(s string, u secret.Value) string {
	raw := u.Reveal()
	s = strings.ReplaceAll(s, raw, secret.Redacted)
	p, err := url.Parse(raw)
	if err != nil {
		return s
	}
	parts := strings.Split(p.Path, "/")
	for _, vs := range p.Query() {
		parts = append(parts, vs...)
	}
	for _, part := range parts {
		if len(part) >= 6 {
			s = strings.ReplaceAll(s, part, secret.Redacted)
		}
	}
	return s
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or unreadable.
func parseRetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// refreshDepth updates the outbox gauge, at most every depthInterval (a count can be costly).
func (n *Notifier) refreshDepth(ctx context.Context, now time.Time) {
	if !n.lastDep.IsZero() && now.Sub(n.lastDep) < depthInterval {
		return
	}
	counts, err := n.opts.Outbox.CountMessages(ctx)
	if err != nil {
		n.log.Debug("count outbox messages", "err", err)
		return
	}
	n.lastDep = now
	for _, s := range []store.OutboxState{store.OutboxPending, store.OutboxDelivered, store.OutboxDead} {
		n.m.depth.WithLabelValues(string(s)).Set(float64(counts[s]))
	}
}
