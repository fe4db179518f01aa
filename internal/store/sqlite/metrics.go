package sqlite

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/store/storemetrics"
)

// metrics count store calls by operation and result, and time them, so a slow disk or a lock
// held by another process shows up before the controller's cycles do. The series are
// storemetrics', shared with the other backends and told apart by backend="sqlite".
type metrics struct{ *storemetrics.Metrics }

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m, err := storemetrics.New(reg, "sqlite")
	if err != nil {
		return nil, err
	}
	return &metrics{m}, nil
}

// observe records one call; errp points at the call's named error result.
func (m *metrics) observe(op string, start time.Time, errp *error) { m.Observe(op, start, errp) }
