package sim

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Job is one row of a trace.
type Job struct {
	QueueTime time.Time
	Duration  time.Duration
	Demands   []string
	Pool      string
}

// traceColumns are the columns a trace must have.
var traceColumns = []string{"queue_time", "duration", "demands", "pool"}

// ParseTrace reads a trace (see the package doc) and returns its jobs sorted by queue time (ties
// keep file order). Errors name the line.
func ParseTrace(r io.Reader) ([]Job, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("trace: empty: want a header line " + strings.Join(traceColumns, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	line, _ := cr.FieldPos(0)
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, c := range traceColumns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("trace: line %d: header lacks column %q (want %s)", line, c, strings.Join(traceColumns, ","))
		}
	}
	var jobs []Job
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("trace: %w", err)
		}
		line, _ := cr.FieldPos(0)
		j, err := parseRow(rec, col)
		if err != nil {
			return nil, fmt.Errorf("trace: line %d: %w", line, err)
		}
		jobs = append(jobs, j)
	}
	slices.SortStableFunc(jobs, func(a, b Job) int { return a.QueueTime.Compare(b.QueueTime) })
	return jobs, nil
}

func parseRow(rec []string, col map[string]int) (Job, error) {
	field := func(name string) (string, error) {
		i := col[name]
		if i >= len(rec) {
			return "", fmt.Errorf("column %q missing (%d fields, want at least %d)", name, len(rec), i+1)
		}
		return strings.TrimSpace(rec[i]), nil
	}
	var j Job
	v, err := field("queue_time")
	if err != nil {
		return j, err
	}
	if j.QueueTime, err = time.Parse(time.RFC3339, v); err != nil {
		return j, fmt.Errorf("queue_time %q: want an RFC 3339 time such as 2025-03-03T08:00:05Z", v)
	}
	j.QueueTime = j.QueueTime.UTC()
	if v, err = field("duration"); err != nil {
		return j, err
	}
	if j.Duration, err = parseDuration(v); err != nil {
		return j, fmt.Errorf("duration %q: %w", v, err)
	}
	if v, err = field("demands"); err != nil {
		return j, err
	}
	for d := range strings.SplitSeq(v, ";") {
		if d = strings.TrimSpace(d); d != "" {
			j.Demands = append(j.Demands, d)
		}
	}
	if j.Pool, err = field("pool"); err != nil {
		return j, err
	}
	if j.Pool == "" {
		return j, errors.New("pool is empty")
	}
	return j, nil
}

// parseDuration accepts a Go duration or a number of seconds; it must be positive.
func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		secs, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil {
			return 0, errors.New("want a duration such as 7m30s or a number of seconds")
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d <= 0 {
		return 0, errors.New("want a positive duration")
	}
	return d, nil
}

// WriteTrace writes jobs in the trace format, durations in whole seconds when they are whole.
func WriteTrace(w io.Writer, jobs []Job) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(traceColumns); err != nil {
		return fmt.Errorf("write trace header: %w", err)
	}
	for i, j := range jobs {
		dur := j.Duration.String()
		if j.Duration%time.Second == 0 {
			dur = strconv.FormatInt(int64(j.Duration/time.Second), 10)
		}
		row := []string{j.QueueTime.UTC().Format(time.RFC3339), dur, strings.Join(j.Demands, ";"), j.Pool}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write trace row %d: %w", i+1, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write trace: %w", err)
	}
	return nil
}
