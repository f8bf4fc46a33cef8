// Package memtest measures how far the heap grows while a test runs a
// piece of code, for tests that hold memory to a bound.
package memtest

import (
	"runtime"
	"sync"
	"time"
)

// PeakDuring runs f while sampling the heap, and returns how far it grew
// above where it was before.
func PeakDuring(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	})
	f()
	close(stop)
	wg.Wait()
	return peak - base
}
