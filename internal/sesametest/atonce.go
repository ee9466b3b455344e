package sesametest

import "sync"

// AtOnce runs fn(0) .. fn(n-1) in n goroutines released at the same
// instant, and returns once all have: the requests of a race (two admins
// creating one client, a burst of guesses) arrive together, not in the
// order the goroutines happened to start.
func AtOnce(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}
