package controller

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// statusWrites remembers the resourceVersion that each of this manager's status writes
// produced. A reconcile reads its object from the cache, which may not have seen the last
// write yet: comparing the new status with that stale copy can find "nothing changed" while
// the API server holds another status (a stall the cache has not seen, say), and skipping
// the write would leave it there. stale tells such a read apart, so that patchStatus writes
// the whole status, conditional on the version it read, instead of skipping it.
type statusWrites struct {
	mu sync.Mutex
	rv map[types.UID]string
}

func newStatusWrites() *statusWrites {
	return &statusWrites{rv: map[types.UID]string{}}
}

// stale says whether obj was read at another version than the one the last status write
// of this manager left (an older one, from a lagging cache, or a newer one, after someone
// else's write). An object this manager never wrote is not stale.
func (s *statusWrites) stale(obj client.Object) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rv, ok := s.rv[obj.GetUID()]
	return ok && rv != obj.GetResourceVersion()
}

// wrote records the version a status write returned.
func (s *statusWrites) wrote(obj client.Object) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rv[obj.GetUID()] = obj.GetResourceVersion()
}

// forget drops an object that is gone.
func (s *statusWrites) forget(obj client.Object) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rv, obj.GetUID())
}
