package postgres

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/store/storemetrics"
)

// metrics count store calls by operation and result, and time them, so a slow database or a
// lock held by another replica shows up before the controller's cycles do. Same names as the
// other stores' (storemetrics), told apart by backend="postgres".
type metrics struct{ *storemetrics.Metrics }

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m, err := storemetrics.New(reg, "postgres")
	if err != nil {
		return nil, err
	}
	return &metrics{m}, nil
}

// observe records one call; errp points at the call's named error result.
func (m *metrics) observe(op string, start time.Time, errp *error) { m.Observe(op, start, errp) }
