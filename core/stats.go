package core

// Stats is a snapshot of the runtime's own counters, for leak checks: after
// a test's goroutines have ended, ParkedWaiters and QueuedTasks must come
// back to zero.
type Stats struct {
	ParkedWaiters int64 // goroutines linked in a channel's wait queue
	QueuedTasks   int   // group tasks queued and not yet taken by a worker
	Workers       int   // the task pool's permanent workers, busy or parked
}

// ReadStats returns the counters. It takes the task pool's lock briefly.
func ReadStats() Stats {
	tasks.mu.Lock()
	defer tasks.mu.Unlock()
	return Stats{ParkedWaiters: parkedTotal.Load(), QueuedTasks: tasks.n, Workers: tasks.workers}
}
