package sim

import (
	"fmt"
	"time"
)

// SplitTrace cuts jobs at midnight UTC trainDays days after the first job's day: train holds the
// jobs queued before the cut (what adofleet-predictive may learn from), test the rest (what every
// policy is scored on), so no policy is scored on jobs it learned from. Both keep jobs' order.
func SplitTrace(jobs []Job, trainDays int) (train, test []Job, err error) {
	if trainDays <= 0 {
		return nil, nil, fmt.Errorf("split: train days %d: want at least 1", trainDays)
	}
	if len(jobs) == 0 {
		return nil, nil, fmt.Errorf("split: the trace has no jobs")
	}
	first := jobs[0].QueueTime
	for _, j := range jobs {
		first = minTime(first, j.QueueTime)
	}
	cut := dayStart(first).Add(time.Duration(trainDays) * day)
	for _, j := range jobs {
		if j.QueueTime.Before(cut) {
			train = append(train, j)
		} else {
			test = append(test, j)
		}
	}
	if len(test) == 0 {
		return nil, nil, fmt.Errorf("split: no job is queued after the first %d days (from %s): nothing left to score", trainDays, cut.Format(time.RFC3339))
	}
	return train, test, nil
}
