package aci

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/adofleet/adofleet/internal/provider"
)

// size is the container's CPU cores and memory (GB): a pool's resources, in ACI's notation
// (decimal numbers such as "1.5" cores and "3.5" GB), over Options.CPU and Options.MemoryGB.
func (p *Provider) size(r provider.Resources) (cpu, memoryGB float64, err error) {
	cpu, memoryGB = p.opts.CPU, p.opts.MemoryGB
	if cpu, err = parseSize("cpu", r.CPU, cpu); err != nil {
		return 0, 0, err
	}
	if memoryGB, err = parseSize("memory", r.Memory, memoryGB); err != nil {
		return 0, 0, err
	}
	return cpu, memoryGB, nil
}

// parseSize parses a positive decimal number; "" keeps def.
func parseSize(field, s string, def float64) (float64, error) {
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%w: resources.%s %q is not a positive number (ACI takes CPU cores and memory in GB, e.g. 1.5)", provider.ErrInvalidRequest, field, s)
	}
	return v, nil
}
