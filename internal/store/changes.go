package store

import (
	"context"
	"sync"
)

// What a Change names.
const (
	// ChangeClient: the client Change.ID was created, updated or deleted.
	ChangeClient = "client"
	// ChangeAccount: the account Change.ID was created or updated.
	ChangeAccount = "account"
	// ChangeKeys: a signing key was created.
	ChangeKeys = "keys"
	// ChangeResources: API resources, roles or who holds a role changed.
	// Change.ID is empty when resources or roles themselves changed
	// (forget them all), or names the holder whose roles changed:
	// ResourceHolderAccount or ResourceHolderClient followed by its id.
	ChangeResources = "resources"
	// ChangeDeliveries: deliveries became due (a sign-out, a retry): the
	// delivery workers look at once rather than at their next poll.
	ChangeDeliveries = "deliveries"
	// ChangeAll: changes may have been missed (the watch lost its
	// connection): forget every cached record.
	ChangeAll = "all"
)

// The prefixes of a ChangeResources ID that names a holder of roles.
const (
	ResourceHolderAccount = "account:"
	ResourceHolderClient  = "client:"
)

// Change is one committed change that instances caching records must
// hear of: each instance keeps clients and keys in memory, and a change
// made on one must reach the others.
type Change struct {
	Kind string
	ID   string
}

// changeWatcher is the part of Store that reports changes.
type changeWatcher interface {
	// Watch calls fn with each change committed to the database, in
	// order, until ctx ends. Backends report what this process commits;
	// PostgreSQL reports every process's (LISTEN/NOTIFY), and
	// WatchesOtherProcesses says so. After a gap in which changes may
	// have been missed (a lost connection), fn gets a ChangeAll.
	Watch(ctx context.Context, fn func(Change))
	// OnCommit registers fn to hear each change this process commits,
	// before the commit returns (other processes' changes reach Watch
	// only). A
	// watcher runs later, on its own goroutine: a cache that forgets only
	// there serves its old copy to the request that follows the change
	// (an account just disabled still signing in). fn must be quick and
	// must not block: it runs while the committer waits.
	OnCommit(fn func(Change))
	// WatchesOtherProcesses reports whether Watch hears of changes other
	// processes commit. When it does not, caches must expire on their own.
	WatchesOtherProcesses() bool
}

// locker is the part of Writer that serialises work across instances.
type locker interface {
	// Lock takes the lock name until the transaction ends, waiting for
	// another holder to finish (PostgreSQL: an advisory transaction lock;
	// SQLite's single writer already serialises every transaction).
	Lock(ctx context.Context, name string) error
	// TryLock takes the lock name until the transaction ends if nobody
	// holds it, and reports whether it did.
	TryLock(ctx context.Context, name string) (bool, error)
}

// Broadcaster hands committed changes to the watchers of one process. A
// backend publishes after each commit.
type Broadcaster struct {
	mu       sync.Mutex
	watchers map[*watcher]struct{}
	hooks    []func(Change)
}

// OnPublish registers fn to be called with each published change, by
// Publish itself, before it returns.
func (b *Broadcaster) OnPublish(fn func(Change)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.hooks = append(b.hooks, fn)
}

type watcher struct {
	ch chan Change
}

// Publish hands changes to every watcher, in order. A watcher that has
// fallen more than its buffer behind gets a ChangeAll instead of blocking
// the committer.
func (b *Broadcaster) Publish(changes ...Change) {
	if len(changes) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, fn := range b.hooks {
		for _, c := range changes {
			fn(c)
		}
	}
	for w := range b.watchers {
		for _, c := range changes {
			select {
			case w.ch <- c:
			default:
				select {
				case <-w.ch: // make room: the ChangeAll covers what is dropped
				default:
				}
				select {
				case w.ch <- Change{Kind: ChangeAll}:
				default:
				}
			}
		}
	}
}

// Watch calls fn with each published change until ctx ends.
func (b *Broadcaster) Watch(ctx context.Context, fn func(Change)) {
	w := &watcher{ch: make(chan Change, 256)}
	b.mu.Lock()
	if b.watchers == nil {
		b.watchers = map[*watcher]struct{}{}
	}
	b.watchers[w] = struct{}{}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.watchers, w)
		b.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-w.ch:
			fn(c)
		}
	}
}
