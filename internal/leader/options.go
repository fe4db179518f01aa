package leader

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Defaults of Options.
const (
	DefaultName          = "adofleet-controller"
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// WithDefaults fills o's zero fields and checks the durations: RetryPeriod < RenewDeadline <
// LeaseDuration, so a leader renews several times per lease and stops acting
// LeaseDuration-RenewDeadline before anyone else may take its lease.
func (o Options) WithDefaults() (Options, error) {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.Identity == "" {
		o.Identity = DefaultIdentity()
	}
	if o.LeaseDuration == 0 {
		o.LeaseDuration = DefaultLeaseDuration
	}
	if o.RenewDeadline == 0 {
		o.RenewDeadline = DefaultRenewDeadline
	}
	if o.RetryPeriod == 0 {
		o.RetryPeriod = DefaultRetryPeriod
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.RetryPeriod < 0 || o.RenewDeadline < 0 || o.LeaseDuration < 0:
		return o, fmt.Errorf("leader election %q: durations must be positive (lease %v, renew deadline %v, retry period %v)", o.Name, o.LeaseDuration, o.RenewDeadline, o.RetryPeriod)
	case o.RenewDeadline >= o.LeaseDuration:
		return o, fmt.Errorf("leader election %q: renew deadline %v must be shorter than the lease duration %v (the difference is the safety margin)", o.Name, o.RenewDeadline, o.LeaseDuration)
	case o.RetryPeriod >= o.RenewDeadline:
		return o, fmt.Errorf("leader election %q: retry period %v must be shorter than the renew deadline %v", o.Name, o.RetryPeriod, o.RenewDeadline)
	}
	return o, nil
}

// DefaultIdentity is the host name plus a random suffix, so two replicas on one host (or a
// restarted pod keeping its name) are different holders.
func DefaultIdentity() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "adofleet"
	}
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails
	return host + "-" + hex.EncodeToString(b[:])
}
