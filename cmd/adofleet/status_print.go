package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/adofleet/adofleet/internal/controller/fleetops"
)

// writeStatusJSON prints the document, indented, as one JSON value.
func writeStatusJSON(w io.Writer, doc statusDoc) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// writeStatusTable prints each pool as a summary line, a table of its rows and its recent
// decisions. Ages are relative to the document's time.
func writeStatusTable(w io.Writer, doc statusDoc, all bool) error {
	for i, p := range doc.Pools {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := writePoolTable(w, p, doc.GeneratedAt, all); err != nil {
			return err
		}
	}
	return nil
}

func writePoolTable(w io.Writer, p statusPool, now time.Time, all bool) error {
	c := p.Counts
	fmt.Fprintf(w, "%s (%s): max %d, %s; jobs: %d queued, %d running; agents: %d busy, %d idle, %d draining, %d starting, %d offline",
		p.Name, p.Provider, p.Max, gcCount(c.Instances, "instance"), c.QueuedJobs, c.RunningJobs, c.Busy, c.Idle, c.Draining, c.Starting, c.Offline)
	switch {
	case c.Foreign > 0 && !all:
		fmt.Fprintf(w, "; %d not adofleet's (--all lists them)", c.Foreign)
	case c.Foreign > 0:
		fmt.Fprintf(w, "; %d not adofleet's", c.Foreign)
	}
	fmt.Fprintln(w)
	if p.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", p.Error)
	}
	if !p.InADO && p.Error == "" {
		fmt.Fprintln(w, "  no such pool in Azure DevOps")
	}
	if len(p.Rows) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  AGENT\tKIND\tADO\tJOB\tINSTANCE\tRECORD\tFLAGS")
		for _, r := range p.Rows {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", dash(r.Name), r.Kind, adoCell(r), jobCell(r, now), instanceCell(r, now), recordCell(r, now), dash(strings.Join(r.Flags, ",")))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(p.Decisions) > 0 {
		fmt.Fprintln(w, "  recent decisions (newest first):")
		for _, d := range p.Decisions {
			fmt.Fprintf(w, "    %s  %s %s: %s\n", d.Time.Format(time.RFC3339), d.Action, d.Target, d.Reason)
		}
	}
	return nil
}

// adoCell is the agent's status in Azure DevOps: "online", "offline, disabled", or "-".
func adoCell(r fleetops.Row) string {
	if r.Status == "" {
		return "-"
	}
	if r.Enabled != nil && !*r.Enabled {
		return r.Status + ", disabled"
	}
	return r.Status
}

// jobCell is "request 4182 for 3m2s" when the agent is busy.
func jobCell(r fleetops.Row, now time.Time) string {
	if r.JobRequestID == 0 {
		return "-"
	}
	if r.BusySince == nil {
		return fmt.Sprintf("request %d", r.JobRequestID)
	}
	return fmt.Sprintf("request %d for %s", r.JobRequestID, age(now, *r.BusySince))
}

// instanceCell is "ID STATE AGE" (age since launch when known).
func instanceCell(r fleetops.Row, now time.Time) string {
	if r.InstanceID == "" {
		return "-"
	}
	s := r.InstanceID + " " + r.InstanceState
	if r.LaunchedAt != nil {
		s += " " + age(now, *r.LaunchedAt)
	}
	return s
}

// recordCell is "STATE AGE" (age since the record was created).
func recordCell(r fleetops.Row, now time.Time) string {
	if r.RecordState == "" {
		return "-"
	}
	if r.RecordCreatedAt == nil {
		return r.RecordState
	}
	return r.RecordState + " " + age(now, *r.RecordCreatedAt)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// age is now-t in the two largest units that matter: 45s, 3m2s, 5h12m, 3d4h.
func age(now, t time.Time) string {
	d := max(now.Sub(t), 0).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}
