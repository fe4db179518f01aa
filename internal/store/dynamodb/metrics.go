package dynamodb

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/store/storemetrics"
)

// metrics count store calls by operation and result, and time them (SDK retries included), so
// throttling or a slow endpoint shows up before the controller's cycles do. They share the
// other stores' series names (storemetrics); backend="dynamodb" tells them apart.
type metrics struct{ *storemetrics.Metrics }

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m, err := storemetrics.New(reg, "dynamodb")
	if err != nil {
		return nil, err
	}
	return &metrics{m}, nil
}

// observe records one call; errp points at the call's named error result.
func (m *metrics) observe(op string, start time.Time, errp *error) { m.Observe(op, start, errp) }
