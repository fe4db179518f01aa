package config

import (
	"fmt"
	"math"
	"regexp"
)

// The dashboard's cost estimate: each pool's agent-hours times its costPerHour, labelled with
// web.currency.

// DefaultCurrency labels costs when web.currency is not set.
const DefaultCurrency = "USD"

// currencyRE is a short label: a code (USD, EUR) or a symbol ($, €), no spaces or markup.
var currencyRE = regexp.MustCompile(`^[\p{L}\p{Sc}]{1,5}$`)

// CostCurrency is web.currency, or DefaultCurrency when unset. (It is not filled in by
// SetDefaults so that a config without prices reads back as written.)
func (w Web) CostCurrency() string {
	if w.Currency == "" {
		return DefaultCurrency
	}
	return w.Currency
}

// CostPerHour maps each pool with a price to it, for the dashboard.
func (c *Config) CostPerHour() map[string]float64 {
	out := map[string]float64{}
	for _, p := range c.Pools {
		if p.CostPerHour > 0 {
			out[p.Name] = p.CostPerHour
		}
	}
	return out
}

func (v validator) cost(pools []Pool, w Web) {
	if w.Currency != "" && !currencyRE.MatchString(w.Currency) {
		v.errorf("web.currency", "must be 1-5 letters or a currency symbol, such as USD, EUR or $; got %q", w.Currency)
	}
	for i, p := range pools {
		c := p.CostPerHour
		if c < 0 || math.IsNaN(c) || math.IsInf(c, 0) {
			v.errorf(fmt.Sprintf("pools[%d].costPerHour", i), "must be a price of zero or more (one agent for one hour, e.g. 0.0416); got %v", c)
		}
	}
}

func init() {
	fieldDocs["Web.currency"] = fieldMeta{doc: "Label of the dashboard's cost estimates: a code such as USD or EUR, or a symbol.", def: DefaultCurrency, pattern: currencyRE.String()}
	fieldDocs["Pool.costPerHour"] = fieldMeta{doc: "What one of the pool's agents costs for an hour (e.g. the instance's on-demand price), in web.currency. The dashboard estimates each pool's cost per day as agent-hours times this. 0 shows no cost.", def: 0, minimum: intp(0)}
}
